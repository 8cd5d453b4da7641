"""Properties: build → parse round-trips, and any single-byte change breaks verification."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from userpkg.protocol import (
    ATTRIBUTES,
    Authorization,
    BrandCredential,
    RsaSigner,
    parse_authorization,
    request_message,
    verify_signature,
)

from .conftest import Vectors

value = st.text(alphabet=string.ascii_letters + string.digits + "+/=_-.", min_size=1, max_size=64)


@given(
    parts=st.tuples(value, value, value, value, value),
    order=st.permutations(ATTRIBUTES),
)
def test_header_build_parse_round_trip(parts: tuple[str, ...], order: list[str]) -> None:
    auth = Authorization(*parts)
    assert parse_authorization(auth.header(tuple(order))) == auth


method = st.sampled_from(["GET", "POST", "PUT", "DELETE"])
url = st.text(alphabet=string.ascii_letters + string.digits + "/?&=%-_.", min_size=1, max_size=80)
timestamp = st.integers(min_value=1_000_000_000, max_value=4_000_000_000).map(str)
nonce = st.text(alphabet=string.ascii_letters + string.digits, min_size=32, max_size=32)
body = st.binary(max_size=300)


def _flip(data: bytes, index: int, delta: int) -> bytes:
    index %= len(data)
    return data[:index] + bytes([(data[index] + delta) % 256]) + data[index + 1 :]


@settings(max_examples=60, deadline=None)
@given(
    method=method,
    url=url,
    ts=timestamp,
    nonce=nonce,
    body=body,
    which=st.sampled_from(["method", "url", "timestamp", "nonce", "body"]),
    index=st.integers(min_value=0),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_change_fails_verification(
    vectors: Vectors,
    method: str,
    url: str,
    ts: str,
    nonce: str,
    body: bytes,
    which: str,
    index: int,
    delta: int,
) -> None:
    credential = BrandCredential("1000001", "SERIAL", RsaSigner(vectors.brand_private_key))
    auth = credential.authorize(method, url, body, timestamp=ts, nonce=nonce)
    fields = {"method": method, "url": url, "timestamp": ts, "nonce": nonce}
    raw = {k: v.encode("latin-1") for k, v in fields.items()} | {"body": body}
    if not raw[which]:
        raw[which] = bytes([delta])
    else:
        raw[which] = _flip(raw[which], index, delta)
    changed = {k: v.decode("latin-1") for k, v in raw.items() if k != "body"}
    message = request_message(
        changed["method"], changed["url"], changed["timestamp"], changed["nonce"], raw["body"]
    )
    public = vectors.brand_public_key
    assert verify_signature(public, request_message(method, url, ts, nonce, body), auth.signature)
    assert not verify_signature(public, message, auth.signature)
