"""Authenticating a brand request (SPEC §3), the checks in the order the table gives.

The cheap checks (header, brand, certificate, timestamp) run before the body is read; the
nonce and the signature once the signed bytes are known; then the 400-class header rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from userpkg.core.brands import BRAND_ID, Brand, Brands
from userpkg.core.replay import ReplayGuard
from userpkg.protocol import (
    ApiProblem,
    Authorization,
    AuthorizationError,
    ErrorCode,
    parse_authorization,
    request_message,
    verify_signature,
)
from userpkg.protocol.errors import invalid_request

SHOWN_BODY = 128
MAX_NONCE = 64


class SignProblem(ApiProblem):
    """A SIGN_ERROR, with the short outcome the request log records."""

    def __init__(
        self,
        outcome: str,
        message: str,
        detail: dict[str, Any] | None = None,
        brand_id: str | None = None,
        unknown_brand_id: str | None = None,
    ) -> None:
        super().__init__(ErrorCode.SIGN_ERROR, message, detail=detail)
        self.outcome = outcome
        self.brand_id = brand_id
        self.unknown_brand_id = unknown_brand_id


@dataclass(frozen=True)
class Claim:
    """A request whose header, brand, certificate and timestamp passed; not yet its signature."""

    auth: Authorization
    brand: Brand
    key: RSAPublicKey


def sign_information(method: str, url: str, message: bytes) -> dict[str, Any]:
    """The service's view of the string to sign, as the public host returns it for diffing."""
    lines = message.split(b"\n", 4)
    shown = b"\n".join(lines[:4]) + b"\n"
    body = lines[4][:-1] if len(lines) == 5 else b""
    if len(body) > SHOWN_BODY:
        shown += body[:SHOWN_BODY] + b"..."
    else:
        shown += body + b"\n"
    return {
        "method": method,
        "url": url,
        "sign_message_length": len(message),
        "truncated_sign_message": shown.decode("utf-8", "replace"),
    }


class Authenticator:
    def __init__(
        self,
        brands: Brands,
        replay: ReplayGuard,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._brands = brands
        self._replay = replay
        self._window = window_seconds
        self._clock = clock

    def claim(self, header: str | None) -> Claim:
        try:
            auth = parse_authorization(header)
        except AuthorizationError as exc:
            raise SignProblem(
                "bad Authorization header", f"Authorization header: {exc}", unknown_brand_id=""
            ) from None
        brand = self._brands.get(auth.brand_id) if BRAND_ID.match(auth.brand_id) else None
        if brand is None:
            raise SignProblem(
                "unknown brand",
                f"brand_id {auth.brand_id[:32]!r} is not known",
                unknown_brand_id=auth.brand_id[:32],
            )
        key = self._brands.certificate_key(brand.brand_id, auth.serial_no)
        if key is None:
            raise SignProblem(
                "unknown serial_no",
                f"serial_no {auth.serial_no[:64]!r} is not a certificate registered for brand "
                f"{brand.brand_id}",
                brand_id=brand.brand_id,
            )
        ts = auth.timestamp
        if not ts.isascii() or not ts.isdigit() or len(ts) > 12:
            raise SignProblem(
                "bad timestamp", "timestamp must be Unix time in seconds", brand_id=brand.brand_id
            )
        skew = int(ts) - int(self._clock())
        if abs(skew) > self._window:
            raise SignProblem(
                "timestamp out of window",
                f"timestamp is {abs(skew)} s {'ahead of' if skew > 0 else 'behind'} the service "
                f"clock; the limit is {self._window} s",
                brand_id=brand.brand_id,
            )
        if len(auth.nonce_str) > MAX_NONCE:
            raise SignProblem(
                "bad nonce",
                f"nonce_str must be at most {MAX_NONCE} characters",
                brand_id=brand.brand_id,
            )
        return Claim(auth, brand, key)

    def verify(self, claim: Claim, method: str, url: str, body: bytes) -> None:
        auth = claim.auth
        brand_id = claim.brand.brand_id
        if self._replay.seen(brand_id, auth.nonce_str):
            raise SignProblem("replayed nonce", _replayed(), brand_id=brand_id)
        message = request_message(method, url, auth.timestamp, auth.nonce_str, body)
        if not verify_signature(claim.key, message, auth.signature):
            raise SignProblem(
                "bad signature",
                "the signature does not verify; compare your string to sign with "
                "detail.sign_information",
                detail={
                    "location": "authorization",
                    "field": "signature",
                    "sign_information": sign_information(method, url, message),
                },
                brand_id=brand_id,
            )
        if not self._replay.remember(brand_id, auth.nonce_str):
            raise SignProblem("replayed nonce", _replayed(), brand_id=brand_id)


def _replayed() -> str:
    return "nonce_str was already used by this brand within the last 600 s (replay)"


def check_headers(brand: Brand, headers: Mapping[str, str], body_kind: str) -> None:
    """The 400 rules after authentication: Wechatpay-Serial, Content-Type, Accept."""
    serial = headers.get("wechatpay-serial")
    if not serial:
        raise invalid_request(
            "the Wechatpay-Serial header is missing; set it to your WeChat Pay public key id "
            "(PUB_KEY_ID_…)"
        )
    if serial not in brand.platform_key_ids:
        raise invalid_request(
            f"Wechatpay-Serial {serial[:64]!r} is not a platform key id of brand {brand.brand_id}"
        )
    mime = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body_kind == "json" and mime != "application/json":
        raise invalid_request("Content-Type must be application/json for this endpoint")
    if body_kind == "multipart" and mime != "multipart/form-data":
        raise invalid_request("Content-Type must be multipart/form-data for a part upload")
    accept = headers.get("accept")
    if accept is not None and not _accepts_json(accept):
        raise invalid_request("the Accept header must allow application/json")


def _accepts_json(accept: str) -> bool:
    """True if some media range covers application/json with a quality above zero."""
    for item in accept.split(","):
        mime, *params = (part.strip().lower() for part in item.split(";"))
        if mime not in ("application/json", "application/*", "*/*", ""):
            continue
        quality = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False
