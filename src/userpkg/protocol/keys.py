"""Loading keys from PEM text, with errors that name the usual mix-ups.

Handing a certificate or a public key where the private key belongs is the most common
mistake SDK users report, so each loader recognises the other PEM kinds and says so.
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")

_WHAT = {
    "CERTIFICATE": "an X.509 certificate",
    "PUBLIC KEY": "a public key",
    "RSA PUBLIC KEY": "a PKCS#1 public key",
    "PRIVATE KEY": "a private key",
    "RSA PRIVATE KEY": "a PKCS#1 private key",
    "ENCRYPTED PRIVATE KEY": "an encrypted private key",
    "CERTIFICATE REQUEST": "a certificate signing request",
}


class KeyFormatError(ValueError):
    """The PEM text is not the kind of key asked for; the message says what it is instead."""


def _text(pem: str | bytes) -> bytes:
    return pem.encode("ascii", "replace") if isinstance(pem, str) else pem


def pem_kind(pem: str | bytes) -> str | None:
    """The label of the first PEM block (`PRIVATE KEY`, `CERTIFICATE`, ...), or None."""
    match = _BEGIN.search(_text(pem).decode("ascii", "replace"))
    return match.group(1) if match else None


def _wrong_kind(wanted: str, kind: str | None, hint: str) -> KeyFormatError:
    if kind is None:
        return KeyFormatError(
            f"expected {wanted} in PEM form (-----BEGIN ...-----), found no PEM block"
        )
    found = _WHAT.get(kind, f"a PEM block labelled {kind!r}")
    return KeyFormatError(f"expected {wanted}, but this is {found}. {hint}")


def load_private_key(pem: str | bytes) -> RSAPrivateKey:
    """An RSA private key (PKCS#8 `BEGIN PRIVATE KEY`; PKCS#1 is accepted too)."""
    kind = pem_kind(pem)
    if kind == "ENCRYPTED PRIVATE KEY":
        raise KeyFormatError(
            "the private key is encrypted; decrypt it first "
            "(openssl pkcs8 -in key.pem -out plain.pem)"
        )
    if kind not in ("PRIVATE KEY", "RSA PRIVATE KEY"):
        raise _wrong_kind(
            "an RSA private key",
            kind,
            "The private key is the file that starts with -----BEGIN PRIVATE KEY----- "
            "(apiclient_key.pem), not the certificate or the public key.",
        )
    try:
        key = serialization.load_pem_private_key(_text(pem), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"the private key PEM could not be read: {exc}") from None
    if not isinstance(key, RSAPrivateKey):
        raise KeyFormatError("the private key is not an RSA key; the brand API uses RSA-2048")
    return key


def load_public_key(pem: str | bytes) -> RSAPublicKey:
    """An RSA public key in SPKI form (`BEGIN PUBLIC KEY`), such as the WeChat Pay public key."""
    kind = pem_kind(pem)
    if kind != "PUBLIC KEY":
        hint = (
            "Use load_certificate() for a certificate."
            if kind == "CERTIFICATE"
            else "Never hand out a private key: derive the public key with "
            "`openssl pkey -in key.pem -pubout`."
            if kind in ("PRIVATE KEY", "RSA PRIVATE KEY")
            else "The WeChat Pay public key file starts with -----BEGIN PUBLIC KEY-----."
        )
        raise _wrong_kind("an RSA public key (BEGIN PUBLIC KEY)", kind, hint)
    try:
        key = serialization.load_pem_public_key(_text(pem))
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"the public key PEM could not be read: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise KeyFormatError("the public key is not an RSA key; the brand API uses RSA-2048")
    return key


def load_certificate(pem: str | bytes) -> tuple[str, RSAPublicKey]:
    """(serial_no, public key) of a certificate; the serial as `openssl x509 -serial` prints it."""
    kind = pem_kind(pem)
    if kind != "CERTIFICATE":
        raise _wrong_kind(
            "an X.509 certificate (BEGIN CERTIFICATE)",
            kind,
            "The certificate is apiclient_cert.pem; its serial number is the serial_no.",
        )
    try:
        cert = x509.load_pem_x509_certificate(_text(pem))
    except ValueError as exc:
        raise KeyFormatError(f"the certificate PEM could not be read: {exc}") from None
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise KeyFormatError("the certificate's key is not an RSA key; the brand API uses RSA-2048")
    return serial_text(format(cert.serial_number, "X")), key


def public_key_pem(key: RSAPublicKey) -> str:
    """SPKI PEM text of a public key, the form the operator API and sandbox hand out."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def serial_text(serial_no: str) -> str:
    """A certificate serial as `openssl x509 -noout -serial` prints it: upper-case hex, no
    superfluous leading zeros, even length. Serials are numbers, so `a2cf6`, `A2CF6` and
    `0A2CF6` are one serial; text that is not hex comes back upper-cased, matching nothing."""
    text = serial_no.strip().upper()
    if not text or any(c not in "0123456789ABCDEF" for c in text):
        return text
    digits = text.lstrip("0") or "0"
    return digits.rjust(len(digits) + len(digits) % 2, "0")
