"""What leaves the service: Request-ID and a signature on everything under /brand/."""

from __future__ import annotations

import pytest

from userpkg.core.packages import Packages
from userpkg.protocol import ResponseValidator, ResponseVerificationError, load_public_key

from .support import PREFIX, LiveServer, SigningBrand


@pytest.fixture(scope="module")
def brand(server: LiveServer) -> SigningBrand:
    return server.new_brand()


def test_unknown_route_and_wrong_method_are_signed_errors(
    server: LiveServer, brand: SigningBrand
) -> None:
    unknown = brand.send("GET", "/brand/marketing/user-package/nothing-here")
    assert unknown.status_code == 404
    assert brand.verified(unknown)["code"] == "NOT_FOUND"
    assert unknown.headers["Request-ID"]
    wrong = brand.send("GET", f"{PREFIX}/uploads")
    assert wrong.status_code == 404
    assert brand.verified(wrong)["code"] == "NOT_FOUND"


def test_unsigned_garbage_gets_a_response_signed_with_the_default_key(server: LiveServer) -> None:
    response = server.admin.post(
        f"{PREFIX}/uploads", content=b"junk", headers={"Authorization": ""}
    )
    assert response.status_code == 401
    default = server.service.default_key_id
    assert response.headers["Wechatpay-Serial"] == default
    pem = server.admin_ok("GET", f"/admin/v1/platform-keys/{default}")["public_key_pem"]
    ResponseValidator(default, load_public_key(pem)).validate(
        dict(response.headers), response.content
    )


def test_crash_inside_a_handler_is_a_signed_system_error(
    server: LiveServer, brand: SigningBrand, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire: secret detail")

    monkeypatch.setattr(Packages, "expand", explode)
    package = server.new_package(brand.brand_id)
    response = brand.expand(package, "someupload")
    assert response.status_code == 500
    body = brand.verified(response)
    assert body["code"] == "SYSTEM_ERROR"
    assert "secret detail" not in response.text
    assert response.headers["Request-ID"]


def test_response_is_signed_with_the_key_the_request_named(server: LiveServer) -> None:
    brand = server.new_brand()
    old_key = brand.platform_key_id
    new = server.admin_ok("POST", "/admin/v1/platform-keys", {})
    server.admin_ok(
        "PUT",
        f"/admin/v1/brands/{brand.brand_id}/platform-key",
        {"public_key_id": new["public_key_id"]},
    )
    old_named = brand.send("GET", "/brand/nothing")
    assert old_named.headers["Wechatpay-Serial"] == old_key
    brand.verified(old_named)

    new_validator = ResponseValidator(new["public_key_id"], load_public_key(new["public_key_pem"]))
    new_named = brand.send(
        "GET", "/brand/nothing", headers={"Wechatpay-Serial": new["public_key_id"]}
    )
    assert new_named.headers["Wechatpay-Serial"] == new["public_key_id"]
    new_validator.validate(dict(new_named.headers), new_named.content)

    unknown = brand.send("GET", "/brand/nothing", headers={"Wechatpay-Serial": "PUB_KEY_ID_1"})
    assert unknown.headers["Wechatpay-Serial"] == new["public_key_id"], "the brand's default"


def test_signtest_makes_exactly_the_next_response_a_probe(
    server: LiveServer, brand: SigningBrand
) -> None:
    server.admin_ok("POST", f"/admin/v1/brands/{brand.brand_id}/signtest", {})
    probe = brand.init_upload(b"x\n")
    assert probe.status_code == 200
    assert probe.headers["Wechatpay-Signature"].startswith("WECHATPAY/SIGNTEST/")
    with pytest.raises(ResponseVerificationError):
        brand.verified(probe)
    brand.verified(brand.init_upload(b"x\n"))


def test_request_log_records_each_outcome(server: LiveServer) -> None:
    brand = server.new_brand()
    brand.init_upload(b"x\n")
    brand.send("POST", f"{PREFIX}/uploads", b"{}", signed_body=b"{ }")
    brand.send("POST", f"{PREFIX}/uploads", b"{}", timestamp="1")
    log = server.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}/requests?limit=10")
    outcomes = [(e["status"], e["code"], e["auth"]) for e in log["data"]]
    assert outcomes == [
        (401, "SIGN_ERROR", "timestamp out of window"),
        (401, "SIGN_ERROR", "bad signature"),
        (200, None, "ok"),
    ]
    entry = log["data"][-1]
    assert entry["method"] == "POST"
    assert entry["path"] == f"{PREFIX}/uploads"
    assert entry["request_id"]


def test_health_metrics_and_openapi(server: LiveServer) -> None:
    assert server.admin.get("/healthz").json()["status"] == "ok"
    assert server.admin.get("/readyz").json()["status"] == "ready"
    metrics = server.admin.get("/metrics").text
    assert "userpkg_http_requests_total" in metrics
    spec = server.admin.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        f"{PREFIX}/uploads",
        f"{PREFIX}/uploads/{{upload_id}}/{{part_number}}",
        f"{PREFIX}/uploads/{{upload_id}}",
        f"{PREFIX}/user-packages/{{user_package_id}}/expand",
        "/admin/v1/brands",
        "/admin/v1/user-packages/{user_package_id}/tasks",
    ):
        assert path in paths, path
    init = paths[f"{PREFIX}/uploads"]["post"]["requestBody"]["content"]["application/json"]
    assert "user_package_file_info" in init["schema"]["properties"]


def test_a_control_character_in_path_or_query_is_a_400_not_a_500(
    server: LiveServer, brand: SigningBrand
) -> None:
    """PostgreSQL refuses NUL in text; the edge refuses it first, on every backend alike."""
    package = server.new_package(brand.brand_id)
    signed = brand.send("POST", f"{PREFIX}/user-packages/{package}%00/expand", b"{}")
    assert signed.status_code == 400
    body = brand.verified(signed)
    assert body["code"] == "INVALID_REQUEST"
    assert "control character" in str(body["message"])
    for path in (
        f"/admin/v1/brands/{brand.brand_id}%00",
        f"/admin/v1/brands/{brand.brand_id}/requests?code=SIGN%00ERROR",
        "/admin/v1/requests/unattributed?request_id=%1Fx",
        f"/admin/v1/user-packages/{package}%00",
    ):
        answer = server.admin.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == "INVALID_REQUEST", path
    assert server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 0
