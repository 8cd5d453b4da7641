"""Every vector in tests/vectors reproduced byte for byte or classified as it says."""

from __future__ import annotations

import pytest

from userpkg.protocol import (
    AuthorizationError,
    BrandCredential,
    ResponseValidator,
    ResponseVerificationError,
    RsaSigner,
    load_certificate,
    parse_authorization,
    request_message,
    response_message,
    verify_signature,
)

from .conftest import Vectors


def _ids(items: list[dict[str, object]], key: str) -> list[str]:
    return [str(item.get(key) or f"#{i}") for i, item in enumerate(items)]


def test_request_vectors_signed_byte_for_byte(vectors: Vectors) -> None:
    credential = BrandCredential(
        vectors.data["brand_id"],
        vectors.data["cert_serial_no"],
        RsaSigner(vectors.brand_private_key),
    )
    for vec in vectors.data["requests"]:
        body = vec["body"].encode("utf-8")
        message = request_message(vec["method"], vec["url"], vec["timestamp"], vec["nonce"], body)
        assert message == vec["string_to_sign"].encode("utf-8"), vec["name"]
        auth = credential.authorize(
            vec["method"], vec["url"], body, timestamp=vec["timestamp"], nonce=vec["nonce"]
        )
        assert auth.signature == vec["signature"], vec["name"]
        assert auth.header() == vec["authorization"], vec["name"]


def test_request_vectors_verify_with_key_and_certificate(vectors: Vectors) -> None:
    serial, cert_key = load_certificate(vectors.pem("brand_certificate"))
    assert serial == vectors.data["cert_serial_no"]
    for vec in vectors.data["requests"]:
        message = vec["string_to_sign"].encode("utf-8")
        assert verify_signature(vectors.brand_public_key, message, vec["signature"])
        assert verify_signature(cert_key, message, vec["signature"])
        assert not verify_signature(vectors.platform_public_key, message, vec["signature"])


def test_parsed_vector_headers_give_back_their_parts(vectors: Vectors) -> None:
    for vec in vectors.data["requests"]:
        auth = parse_authorization(vec["authorization"])
        assert auth.brand_id == vectors.data["brand_id"]
        assert auth.nonce_str == vec["nonce"]
        assert auth.timestamp == vec["timestamp"]
        assert auth.serial_no == vectors.data["cert_serial_no"]
        assert auth.signature == vec["signature"]


@pytest.mark.parametrize("index", range(6))
def test_response_vectors_classified(vectors: Vectors, index: int) -> None:
    responses = vectors.data["responses"]
    assert len(responses) == 6, "update the parametrize range to cover every response vector"
    vec = responses[index]
    if "string_to_verify" in vec:
        built = response_message(
            vec["wechatpay_timestamp"], vec["wechatpay_nonce"], vec["body"].encode("utf-8")
        )
        assert built == vec["string_to_verify"].encode("utf-8")
    validator = ResponseValidator(
        vectors.data["platform_public_key_id"],
        vectors.platform_public_key,
        clock=lambda: int(vec["wechatpay_timestamp"]) + 5,
    )
    headers = {
        "Wechatpay-Timestamp": vec["wechatpay_timestamp"],
        "Wechatpay-Nonce": vec["wechatpay_nonce"],
        "Wechatpay-Signature": vec["wechatpay_signature"],
        "Wechatpay-Serial": vec["wechatpay_serial"],
    }
    body = vec["body"].encode("utf-8")
    if vec["expect_valid"]:
        validator.validate(headers, body)
    else:
        with pytest.raises(ResponseVerificationError):
            validator.validate(headers, body)


def test_every_authorization_header_vector_classified(vectors: Vectors) -> None:
    cases = vectors.data["authorization_headers"]
    assert any(c["valid"] for c in cases)
    assert any(not c["valid"] for c in cases)
    for case in cases:
        if case["valid"]:
            auth = parse_authorization(case["header"])
            source = next(r for r in vectors.data["requests"] if r["nonce"] == auth.nonce_str)
            assert auth.brand_id == vectors.data["brand_id"]
            assert auth.serial_no == vectors.data["cert_serial_no"]
            assert (auth.timestamp, auth.signature) == (source["timestamp"], source["signature"])
        else:
            with pytest.raises(AuthorizationError):
                parse_authorization(case["header"])
