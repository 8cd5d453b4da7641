"""Signed responses: the headers the service adds, and the checks a client makes on them."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from userpkg.protocol.authorization import SCHEME
from userpkg.protocol.signing import (
    PROBE_PREFIX,
    RsaSigner,
    new_nonce,
    response_message,
    verify_signature,
)

REQUEST_ID = "Request-ID"
TIMESTAMP = "Wechatpay-Timestamp"
NONCE = "Wechatpay-Nonce"
SIGNATURE = "Wechatpay-Signature"
SERIAL = "Wechatpay-Serial"
SIGNATURE_TYPE = "Wechatpay-Signature-Type"
MAX_SKEW_SECONDS = 300


def probe_signature() -> str:
    """A `WECHATPAY/SIGNTEST/` signature: random bytes that no key verifies, by design."""
    return PROBE_PREFIX + base64.b64encode(secrets.token_bytes(192)).decode("ascii")


@dataclass(frozen=True, slots=True)
class ResponseSigner:
    """Signs response bodies with one platform key and names that key in `Wechatpay-Serial`."""

    public_key_id: str
    signer: RsaSigner

    def headers(
        self, body: bytes, *, timestamp: int | None = None, probe: bool = False
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = new_nonce()
        signature = (
            probe_signature() if probe else self.signer.sign(response_message(ts, nonce, body))
        )
        return {
            TIMESTAMP: ts,
            NONCE: nonce,
            SIGNATURE: signature,
            SERIAL: self.public_key_id,
            SIGNATURE_TYPE: SCHEME,
        }


class ResponseVerificationError(Exception):
    """A response failed verification: treat its body as untrusted."""


class ResponseValidator:
    """The client's check of a response: serial, age, then signature over the raw body bytes."""

    def __init__(
        self,
        public_key_id: str,
        public_key: RSAPublicKey,
        clock: Callable[[], float] = time.time,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> None:
        self.public_key_id = public_key_id
        self._key = public_key
        self._clock = clock
        self._max_skew = max_skew

    def validate(self, headers: Mapping[str, str], body: bytes) -> None:
        found = {name.lower(): value for name, value in headers.items()}

        def need(name: str) -> str:
            value = found.get(name.lower())
            if not value:
                raise ResponseVerificationError(f"the response has no {name} header")
            return value

        serial = need(SERIAL)
        if serial != self.public_key_id:
            raise ResponseVerificationError(
                f"the response is signed with key {serial!r}, but the key held is "
                f"{self.public_key_id!r}"
            )
        timestamp = need(TIMESTAMP)
        if not timestamp.isascii() or not timestamp.isdigit():
            raise ResponseVerificationError(f"{TIMESTAMP} is not a Unix time in seconds")
        skew = abs(self._clock() - int(timestamp))
        if skew >= self._max_skew:
            raise ResponseVerificationError(
                f"{TIMESTAMP} is {int(skew)} s away from the local clock "
                f"(limit {self._max_skew} s); check the clock or a replayed response"
            )
        nonce = need(NONCE)
        signature = need(SIGNATURE)
        if signature.startswith(PROBE_PREFIX):
            raise ResponseVerificationError(
                "the response carries a WECHATPAY/SIGNTEST/ probe signature"
            )
        if not verify_signature(self._key, response_message(timestamp, nonce, body), signature):
            raise ResponseVerificationError("the response signature does not verify")
