"""The operator API: bearer token, the fixed calls of SPEC §8, and the directory's openids."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest

from userpkg.core.settings import Settings

from .support import LiveServer

OPENID = re.compile(r"^[A-Za-z0-9_-]{28}$")


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_operator_api_needs_the_token(server: LiveServer, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.get(f"{server.base_url}/admin/v1/brands", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "NO_AUTH"
    assert response.headers["Request-ID"]


def test_brand_creation_and_validation(server: LiveServer) -> None:
    named = server.admin_ok("POST", "/admin/v1/brands", {"brand_id": "BrandA1", "name": "A"})
    assert named["brand_id"] == "BrandA1"
    assert named["user_package_enabled"] is True
    again = server.admin.post("/admin/v1/brands", json={"brand_id": "BrandA1", "name": "A"})
    assert again.status_code == 409
    bad = server.admin.post("/admin/v1/brands", json={"brand_id": "no spaces", "name": "A"})
    assert (bad.status_code, bad.json()["detail"]["field"]) == (400, "/brand_id")
    generated = server.admin_ok("POST", "/admin/v1/brands", {"name": "B"})
    assert re.fullmatch(r"[0-9A-Za-z]{1,32}", generated["brand_id"])
    listed = server.admin_ok("GET", "/admin/v1/brands?offset=0&limit=1000")
    assert {"BrandA1", generated["brand_id"]} <= {b["brand_id"] for b in listed["data"]}


def test_certificate_must_be_a_public_key(server: LiveServer, vectors: object) -> None:
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "C"})
    private_pem = vectors.pem("brand_private_key")  # type: ignore[attr-defined]
    response = server.admin.post(
        f"/admin/v1/brands/{brand['brand_id']}/certificates",
        json={"serial_no": "ABC", "public_key_pem": private_pem},
    )
    assert response.status_code == 400
    assert "private key" in response.json()["message"]
    assert response.json()["detail"]["field"] == "/public_key_pem"


def test_users_openids_and_md5(server: LiveServer) -> None:
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "D"})
    server.admin_ok(
        "POST", f"/admin/v1/brands/{brand['brand_id']}/appids", {"appid": "wxadmin0001"}
    )
    server.admin_ok("POST", "/admin/v1/appids", {"appid": "wxadmin0002"})
    created = server.admin_ok("POST", "/admin/v1/users", {"users": [{"phone": "13800138000"}, {}]})
    first, second = created["data"]
    assert first["phone"] == "13800138000"
    assert second["phone"] is None
    shown = server.admin_ok("GET", f"/admin/v1/users/{first['user_id']}")
    assert {"wxadmin0001", "wxadmin0002"} <= set(shown["openids"])
    ids = list(shown["openids"].values())
    assert all(OPENID.match(openid) for openid in ids)
    assert len(set(ids)) == len(ids), "one user, different openid per appid"
    other = server.admin_ok("GET", f"/admin/v1/users/{second['user_id']}")
    assert other["openids"]["wxadmin0001"] != shown["openids"]["wxadmin0001"]
    assert server.admin_ok("GET", f"/admin/v1/users/{first['user_id']}") == shown, "stable"

    dup = server.admin.post("/admin/v1/users", json={"users": [{"phone": "13800138000"}]})
    assert dup.status_code == 409
    bad = server.admin.post("/admin/v1/users", json={"users": [{"phone": "+8613800138000"}]})
    assert bad.json()["detail"]["field"] == "/users/0/phone"
    assert (
        server.service.phones.user_of(hashlib.md5(b"13800138000").hexdigest().upper())
        == first["user_id"]
    )

    generated = server.admin_ok("POST", "/admin/v1/users", {"generate": 50})
    assert generated["count"] == 50
    page = server.admin_ok(
        "GET", f"/admin/v1/users?offset={generated['first_user_id'] - 1}&limit=50"
    )
    phones = [u["phone"] for u in page["data"]]
    assert len(set(phones)) == 50
    assert all(p and re.fullmatch(r"199\d{8}", p) for p in phones)
    clash = server.admin.post("/admin/v1/users", json={"users": [{"phone": phones[7]}, {}]})
    assert clash.status_code == 409, "a generated user has that number"
    assert "1 phone number(s)" in clash.json()["message"]
    after = server.admin_ok("GET", "/admin/v1/users?limit=1")["total_count"]
    assert after == page["total_count"], "a refused call creates nobody"
    assert server.admin.get("/admin/v1/users/99999999").status_code == 404
    assert server.admin.get("/admin/v1/users/abc").status_code == 404


def test_unbinding_an_appid(server: LiveServer) -> None:
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "E"})
    path = f"/admin/v1/brands/{brand['brand_id']}/appids"
    server.admin_ok("POST", path, {"appid": "wxunbind01"})
    assert server.admin_ok("GET", path)["data"] == ["wxunbind01"]
    server.admin_ok("DELETE", f"{path}/wxunbind01")
    assert server.admin_ok("GET", path)["data"] == []
    assert server.admin.delete(f"{path}/wxunbind01").status_code == 404


def test_clock_moves_only_in_sandbox_mode(server: LiveServer, tmp_path: Path) -> None:
    before = server.admin_ok("GET", "/admin/v1/clock")
    moved = server.admin_ok("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    assert moved["now"] > before["now"]
    production = LiveServer(Settings(data_dir=tmp_path))
    try:
        response = production.admin.post("/admin/v1/clock/advance", json={"seconds": 1})
        assert response.status_code == 404
    finally:
        production.stop()
