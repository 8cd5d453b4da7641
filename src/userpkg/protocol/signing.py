"""The brand API's signature scheme: the strings to sign and SHA256withRSA over them.

Both sides use this one module, so a request the client signs is verified by exactly the
bytes the service rebuilds.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

NONCE_LENGTH = 32
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def request_message(method: str, url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`: the URL is path plus query exactly as sent."""
    head = f"{method}\n{url}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """`TIMESTAMP\\nNONCE\\nBODY\\n`, the string a response signature covers."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def new_nonce() -> str:
    """32 hex characters (128 bits) from a CSPRNG: a collision never trips the replay check."""
    return secrets.token_hex(NONCE_LENGTH // 2)


class RsaSigner:
    """Signs messages with one RSA private key; holds the key so callers never pass it around."""

    def __init__(self, private_key: RSAPrivateKey) -> None:
        self._key = private_key

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message, _PKCS1, _SHA256)).decode("ascii")

    def __repr__(self) -> str:
        return f"RsaSigner(<{self._key.key_size}-bit key>)"


def verify_signature(public_key: RSAPublicKey, message: bytes, signature: str) -> bool:
    """True only for a genuine signature; probes, bad Base64 and wrong keys are all False."""
    if signature.startswith(PROBE_PREFIX):
        return False
    try:
        # binascii's strict mode checks the alphabet and padding in C (b64decode's
        # validate=True does it with a regular expression, a tenth of a verify's time)
        raw = binascii.a2b_base64(signature, strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(raw, message, _PKCS1, _SHA256)
    except InvalidSignature:
        return False
    return True
