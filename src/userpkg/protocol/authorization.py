"""The `Authorization` header of a brand request: build it, and parse it strictly."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from userpkg.protocol.signing import RsaSigner, new_nonce, request_message

SCHEME = "WECHATPAY-BRAND-SHA256-RSA2048"
ATTRIBUTES = ("brand_id", "nonce_str", "timestamp", "serial_no", "signature")

_PAIR = re.compile(r'([A-Za-z_]+)="([^"]*)"')
_WELL_FORMED = re.compile(r'(?:[A-Za-z_]+="[^"]+",){4}[A-Za-z_]+="[^"]+"')


class AuthorizationError(ValueError):
    """The header is not well-formed brand-scheme syntax; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Authorization:
    brand_id: str
    nonce_str: str
    timestamp: str
    serial_no: str
    signature: str

    def header(self, order: tuple[str, ...] = ATTRIBUTES) -> str:
        """The header value; attribute order is free on the wire, so callers may choose it."""
        pairs = ",".join(f'{name}="{getattr(self, name)}"' for name in order)
        return f"{SCHEME} {pairs}"

    def __repr__(self) -> str:
        return (
            f"Authorization(brand_id={self.brand_id!r}, nonce_str={self.nonce_str!r}, "
            f"timestamp={self.timestamp!r}, serial_no={self.serial_no!r}, signature=<hidden>)"
        )


def parse_authorization(header: str | None) -> Authorization:
    """Parse strictly: one scheme, one space, five `key="value"` pairs, commas, no spaces."""
    if not header:
        raise AuthorizationError("the Authorization header is missing or empty")
    scheme, sep, rest = header.partition(" ")
    if scheme != SCHEME:
        shown = scheme[:40]
        raise AuthorizationError(f"the scheme must be {SCHEME}, not {shown!r}")
    if not sep or not rest:
        raise AuthorizationError("the Authorization header has a scheme but no attributes")
    if _WELL_FORMED.fullmatch(rest):
        fast = dict(_PAIR.findall(rest))
        if len(fast) == len(ATTRIBUTES) and fast.keys() == set(ATTRIBUTES):
            return Authorization(**fast)
    return _parse_slowly(rest)


def _parse_slowly(rest: str) -> Authorization:
    """Walk the pairs one by one, to say exactly what is wrong with a header."""
    values: dict[str, str] = {}
    pos = 0
    while True:
        match = _PAIR.match(rest, pos)
        if match is None:
            raise AuthorizationError(_describe_garble(rest, pos))
        name, value = match.group(1), match.group(2)
        if name not in ATTRIBUTES:
            raise AuthorizationError(f"unknown attribute {name!r}")
        if name in values:
            raise AuthorizationError(f"attribute {name!r} appears more than once")
        if not value:
            raise AuthorizationError(f"attribute {name!r} is empty")
        values[name] = value
        pos = match.end()
        if pos == len(rest):
            break
        if rest[pos] != ",":
            raise AuthorizationError(f"expected ',' after attribute {name!r}")
        pos += 1
    missing = [name for name in ATTRIBUTES if name not in values]
    if missing:
        raise AuthorizationError(f"missing attribute(s): {', '.join(missing)}")
    return Authorization(**values)


def _describe_garble(rest: str, pos: int) -> str:
    here = rest[pos:]
    if here == "":
        return "the header ends with a ',' and no attribute after it"
    if here[0].isspace():
        return "spaces are not allowed between attributes (use ',' alone)"
    if "='" in here.split(",", 1)[0]:
        return "attribute values must be in double quotes, not single quotes"
    return f'expected key="value" at character {pos + len(SCHEME) + 1}'


class BrandCredential:
    """A brand's identity and signing key: turns a request into its `Authorization` header."""

    def __init__(
        self,
        brand_id: str,
        serial_no: str,
        signer: RsaSigner,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.brand_id = brand_id
        self.serial_no = serial_no
        self._signer = signer
        self._clock = clock

    def authorize(
        self,
        method: str,
        url: str,
        body: bytes,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
    ) -> Authorization:
        """Sign one request; a fresh nonce and timestamp unless given (tests, vectors)."""
        ts = timestamp if timestamp is not None else str(int(self._clock()))
        nonce_str = nonce if nonce is not None else new_nonce()
        signature = self._signer.sign(request_message(method, url, ts, nonce_str, body))
        return Authorization(self.brand_id, nonce_str, ts, self.serial_no, signature)
