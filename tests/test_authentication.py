"""Every check of SPEC §3, over real HTTP, and the order in which they apply."""

from __future__ import annotations

import time

import pytest

from .support import PREFIX, LiveServer, SigningBrand

EXPAND_BODY = b'{"upload_id":"nope"}'


@pytest.fixture(scope="module")
def brand(server: LiveServer) -> SigningBrand:
    return server.new_brand()


@pytest.fixture(scope="module")
def package(server: LiveServer, brand: SigningBrand) -> str:
    return server.new_package(brand.brand_id)


def expand_path(package: str) -> str:
    return f"{PREFIX}/user-packages/{package}/expand"


def refused(response: object, brand: SigningBrand, status: int, code: str) -> dict[str, object]:
    body = brand.verified(response)  # type: ignore[arg-type]
    assert response.status_code == status, body  # type: ignore[attr-defined]
    assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("authorization", "said"),
    [
        ("", "missing"),
        ("Bearer abc", "scheme"),
        ('WECHATPAY-BRAND-SHA256-RSA2048 brand_id="1"', "missing attribute"),
    ],
)
def test_garbled_authorization_is_sign_error(
    server: LiveServer, brand: SigningBrand, package: str, authorization: str, said: str
) -> None:
    response = brand.send("POST", expand_path(package), EXPAND_BODY, authorization=authorization)
    body = refused(response, brand, 401, "SIGN_ERROR")
    assert said in str(body["message"])


def test_unknown_brand_and_unregistered_serial(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    good = brand.credential.authorize("POST", expand_path(package), EXPAND_BODY).header()
    unknown = good.replace(f'brand_id="{brand.brand_id}"', 'brand_id="999999999"')
    body = refused(
        brand.send("POST", expand_path(package), EXPAND_BODY, authorization=unknown),
        brand,
        401,
        "SIGN_ERROR",
    )
    assert "brand_id" in str(body["message"])
    wrong_serial = good.replace(f'serial_no="{brand.serial_no}"', 'serial_no="ABCDEF"')
    body = refused(
        brand.send("POST", expand_path(package), EXPAND_BODY, authorization=wrong_serial),
        brand,
        401,
        "SIGN_ERROR",
    )
    assert "serial_no" in str(body["message"])


@pytest.mark.parametrize(("skew", "ok"), [(-305, False), (305, False), (-295, True), (295, True)])
def test_timestamp_window_is_300_seconds(
    server: LiveServer, brand: SigningBrand, package: str, skew: int, ok: bool
) -> None:
    """Five seconds either side of the edge: the service reads its clock later than we do."""
    response = brand.send(
        "POST", expand_path(package), EXPAND_BODY, timestamp=str(int(time.time()) + skew)
    )
    if ok:
        assert brand.verified(response)["code"] == "NOT_FOUND"
    else:
        assert "timestamp" in str(refused(response, brand, 401, "SIGN_ERROR")["message"])


def test_replayed_nonce_is_refused_even_with_a_valid_signature(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    nonce = "replay0000000000000000000000000A"
    ts = str(int(time.time()))
    first = brand.send("POST", expand_path(package), EXPAND_BODY, timestamp=ts, nonce=nonce)
    assert brand.verified(first)["code"] == "NOT_FOUND"
    replay = brand.send("POST", expand_path(package), EXPAND_BODY, timestamp=ts, nonce=nonce)
    assert "replay" in str(refused(replay, brand, 401, "SIGN_ERROR")["message"])


def test_other_brands_may_use_the_same_nonce(server: LiveServer, package: str) -> None:
    one, two = server.new_brand(), server.new_brand()
    nonce = "shared000000000000000000000000AB"
    for brand in (one, two):
        response = brand.send("POST", expand_path(package), EXPAND_BODY, nonce=nonce)
        assert brand.verified(response)["code"] == "NOT_FOUND"


def test_bad_signature_carries_the_service_string_to_sign(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    response = brand.send(
        "POST", expand_path(package), EXPAND_BODY, signed_body=b'{"upload_id":"other"}'
    )
    body = refused(response, brand, 401, "SIGN_ERROR")
    detail = body["detail"]
    assert isinstance(detail, dict)
    assert detail["field"] == "signature"
    info = detail["sign_information"]
    assert info["method"] == "POST"
    assert info["url"] == expand_path(package)
    assert info["truncated_sign_message"].startswith(f"POST\n{expand_path(package)}\n")
    assert info["truncated_sign_message"].endswith(EXPAND_BODY.decode() + "\n")
    assert info["sign_message_length"] > len(EXPAND_BODY)
    auth_header = response.request.headers["authorization"]
    signature = auth_header.split('signature="')[1].rstrip('"')
    assert signature not in response.text


def test_a_failed_signature_does_not_burn_the_nonce(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    nonce = "burn000000000000000000000000000C"
    bad = brand.send("POST", expand_path(package), EXPAND_BODY, nonce=nonce, signed_body=b"x")
    assert brand.verified(bad)["code"] == "SIGN_ERROR"
    good = brand.send("POST", expand_path(package), EXPAND_BODY, nonce=nonce)
    assert brand.verified(good)["code"] == "NOT_FOUND"


def test_query_string_is_part_of_the_signed_url(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    path = expand_path(package) + "?a=1&b=%E4%BA%BA"
    assert brand.verified(brand.send("POST", path, EXPAND_BODY))["code"] == "NOT_FOUND"
    auth = brand.credential.authorize("POST", expand_path(package), EXPAND_BODY).header()
    response = brand.send("POST", path, EXPAND_BODY, authorization=auth)
    assert brand.verified(response)["code"] == "SIGN_ERROR"


def test_wechatpay_serial_missing_or_foreign(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    missing = brand.send(
        "POST",
        expand_path(package),
        EXPAND_BODY,
        headers={"Wechatpay-Serial": None},  # type: ignore[dict-item]
    )
    assert "Wechatpay-Serial" in str(refused(missing, brand, 400, "INVALID_REQUEST")["message"])
    foreign = brand.send(
        "POST", expand_path(package), EXPAND_BODY, headers={"Wechatpay-Serial": "PUB_KEY_ID_0"}
    )
    refused(foreign, brand, 400, "INVALID_REQUEST")


def test_content_type_and_accept_rules(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    as_text = brand.send("POST", expand_path(package), EXPAND_BODY, content_type="text/plain")
    assert "Content-Type" in str(refused(as_text, brand, 400, "INVALID_REQUEST")["message"])
    html_only = brand.send(
        "POST", expand_path(package), EXPAND_BODY, headers={"Accept": "text/html"}
    )
    refused(html_only, brand, 400, "INVALID_REQUEST")
    for accept in ("*/*", "application/json; charset=utf-8", "text/html, application/*;q=0.5"):
        ok = brand.send("POST", expand_path(package), EXPAND_BODY, headers={"Accept": accept})
        assert brand.verified(ok)["code"] == "NOT_FOUND", accept
    part = brand.send(
        "PUT", f"{PREFIX}/uploads/x/1", b'{"filename":"a.csv"}', content_type="application/json"
    )
    assert "multipart" in str(refused(part, brand, 400, "INVALID_REQUEST")["message"])


def test_sign_errors_come_before_header_rules(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    response = brand.send(
        "POST",
        expand_path(package),
        EXPAND_BODY,
        timestamp=str(int(time.time()) - 1000),
        content_type="text/plain",
        headers={"Wechatpay-Serial": "PUB_KEY_ID_0"},
    )
    refused(response, brand, 401, "SIGN_ERROR")


def test_certificate_rotation_and_removal(
    server: LiveServer, brand: SigningBrand, package: str
) -> None:
    other = server.new_brand()
    server.admin_ok("DELETE", f"/admin/v1/brands/{other.brand_id}/certificates/{other.serial_no}")
    response = other.send("POST", expand_path(package), EXPAND_BODY)
    assert "serial_no" in str(refused(response, other, 401, "SIGN_ERROR")["message"])
