"""Response signing by the service and validation by the client, with the platform key."""

from __future__ import annotations

import pytest

from userpkg.protocol import ResponseSigner, ResponseValidator, ResponseVerificationError, RsaSigner

from .conftest import Vectors

KEY_ID = "PUB_KEY_ID_01100000012026112700010000000001"
NOW = 1_800_000_000


@pytest.fixture
def signer(vectors: Vectors) -> ResponseSigner:
    return ResponseSigner(KEY_ID, RsaSigner(vectors.platform_private_key))


def validator(vectors: Vectors, now: float = NOW) -> ResponseValidator:
    return ResponseValidator(KEY_ID, vectors.platform_public_key, clock=lambda: now)


def test_signed_response_validates_and_names_its_key(
    signer: ResponseSigner, vectors: Vectors
) -> None:
    body = b'{"state":"USER_PACKAGE_PROCESS_STATE_PROCESSING"}'
    headers = signer.headers(body, timestamp=NOW)
    assert headers["Wechatpay-Serial"] == KEY_ID
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY-BRAND-SHA256-RSA2048"
    assert len(headers["Wechatpay-Nonce"]) == 32
    validator(vectors).validate(headers, body)
    validator(vectors).validate({k.upper(): v for k, v in headers.items()}, body)


@pytest.mark.parametrize(
    ("skew", "ok"), [(-299, True), (299, True), (300, False), (-300, False), (10_000, False)]
)
def test_age_window_is_under_300_seconds(
    signer: ResponseSigner, vectors: Vectors, skew: int, ok: bool
) -> None:
    headers = signer.headers(b"{}", timestamp=NOW + skew)
    if ok:
        validator(vectors).validate(headers, b"{}")
    else:
        with pytest.raises(ResponseVerificationError, match="away from the local clock"):
            validator(vectors).validate(headers, b"{}")


def test_probe_signature_fails(signer: ResponseSigner, vectors: Vectors) -> None:
    headers = signer.headers(b"{}", timestamp=NOW, probe=True)
    assert headers["Wechatpay-Signature"].startswith("WECHATPAY/SIGNTEST/")
    with pytest.raises(ResponseVerificationError, match="SIGNTEST"):
        validator(vectors).validate(headers, b"{}")


def test_wrong_serial_fails_before_anything_else(signer: ResponseSigner, vectors: Vectors) -> None:
    headers = signer.headers(b"{}", timestamp=NOW) | {"Wechatpay-Serial": "PUB_KEY_ID_X"}
    with pytest.raises(ResponseVerificationError, match="PUB_KEY_ID_X"):
        validator(vectors).validate(headers, b"{}")


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Serial", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature"]
)
def test_missing_header_fails(signer: ResponseSigner, vectors: Vectors, missing: str) -> None:
    headers = signer.headers(b"{}", timestamp=NOW)
    del headers[missing]
    with pytest.raises(ResponseVerificationError, match=missing):
        validator(vectors).validate(headers, b"{}")


def test_tampered_body_and_garbled_signature_fail(signer: ResponseSigner, vectors: Vectors) -> None:
    headers = signer.headers(b"{}", timestamp=NOW)
    with pytest.raises(ResponseVerificationError, match="does not verify"):
        validator(vectors).validate(headers, b"{ }")
    with pytest.raises(ResponseVerificationError, match="does not verify"):
        validator(vectors).validate(headers | {"Wechatpay-Signature": "!!notbase64"}, b"{}")
    with pytest.raises(ResponseVerificationError, match="Unix time"):
        validator(vectors).validate(headers | {"Wechatpay-Timestamp": "12a"}, b"{}")
