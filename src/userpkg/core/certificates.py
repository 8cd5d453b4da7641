"""What an operator hands in for a brand's certificate, and how a registered one is shown.

Operators hold the brand's X.509 certificate (apiclient_cert.pem), not a bare public key, so
both are accepted; a certificate's own serial number is the one requests will name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from userpkg.core.clock import rfc3339
from userpkg.protocol import KeyFormatError, load_public_key
from userpkg.protocol.errors import param_error
from userpkg.protocol.keys import load_certificate, pem_kind, public_key_pem

FIELD = "/public_key_pem"


@dataclass(frozen=True)
class CertificateInput:
    serial_no: str
    public_key_pem: str
    certificate_pem: str | None


def certificate_input(serial_no: str | None, pem: str) -> CertificateInput:
    """The serial and key to register from a certificate or a public key (400 if unusable)."""
    if pem_kind(pem) == "CERTIFICATE":
        try:
            serial, key = load_certificate(pem)
        except KeyFormatError as exc:
            raise param_error(str(exc), FIELD) from None
        if serial_no is not None and int(serial_no, 16) != int(serial, 16):
            raise param_error(
                f"serial_no {serial_no} does not match the certificate's serial number {serial}; "
                "leave serial_no out to use the certificate's",
                "/serial_no",
            )
        return CertificateInput(serial, public_key_pem(key), pem.strip() + "\n")
    if serial_no is None:
        raise param_error(
            "serial_no is required with a public key; give the X.509 certificate instead to "
            "take the serial number from it",
            "/serial_no",
        )
    try:
        load_public_key(pem)
    except KeyFormatError as exc:
        raise param_error(
            f"{exc} An X.509 certificate (BEGIN CERTIFICATE) is accepted too.", FIELD
        ) from None
    return CertificateInput(serial_no, pem, None)


def sha256_fingerprint(der: bytes) -> str:
    """`AB:CD:…`, the form `openssl … -fingerprint -sha256` prints, so operators can compare."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def certificate_view(
    brand_id: str, serial_no: str, key_pem: str, cert_pem: str | None, created_at: int
) -> dict[str, Any]:
    """A registered certificate as the operator API lists it: no key material, fingerprints."""
    spki = serialization.load_pem_public_key(key_pem.encode("ascii")).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cert_fingerprint = None
    if cert_pem is not None:
        from cryptography import x509

        der = x509.load_pem_x509_certificate(cert_pem.encode("ascii")).public_bytes(
            serialization.Encoding.DER
        )
        cert_fingerprint = sha256_fingerprint(der)
    return {
        "brand_id": brand_id,
        "serial_no": serial_no,
        "source": "certificate" if cert_pem is not None else "public_key",
        "public_key_sha256": sha256_fingerprint(spki),
        "certificate_sha256": cert_fingerprint,
        "added_time": rfc3339(created_at),
    }
