"""Each brand gets a platform key of its own (SPEC §2): another brand's key id is refused with
400 INVALID_REQUEST, and every answer is signed with a key of the brand that asked (§3, §4)."""

from __future__ import annotations

import hashlib
import json
import secrets

import httpx
from sqlalchemy import insert

from userpkg.store.schema import brand_platform_keys

from .support import PREFIX, LiveServer, SigningBrand


def init_naming(brand: SigningBrand, key_id: str) -> httpx.Response:
    """An upload init whose Wechatpay-Serial names `key_id`."""
    info = {
        "filename": f"k{secrets.token_hex(6)}.csv",
        "digest": hashlib.sha256(b"hello\n").hexdigest(),
        "file_size": 6,
        "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
        "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
        "description": "members who bought twice in 2026",
    }
    body = json.dumps({"user_package_file_info": info}).encode()
    return brand.send("POST", f"{PREFIX}/uploads", body, headers={"Wechatpay-Serial": key_id})


def test_two_brands_have_two_keys_and_cannot_name_each_others(server: LiveServer) -> None:
    one, two = server.new_brand(), server.new_brand()
    assert one.platform_key_id != two.platform_key_id
    assert server.service.default_key_id not in (one.platform_key_id, two.platform_key_id)

    own = init_naming(two, two.platform_key_id)
    assert own.status_code == 200, own.text
    assert own.headers["Wechatpay-Serial"] == two.platform_key_id
    two.verified(own)

    borrowed = init_naming(two, one.platform_key_id)
    assert borrowed.status_code == 400, borrowed.text
    assert two.verified(borrowed)["code"] == "INVALID_REQUEST"
    assert borrowed.headers["Wechatpay-Serial"] == two.platform_key_id, "never one's key"


def test_another_brands_key_cannot_be_given_to_a_brand(server: LiveServer) -> None:
    one, two = server.new_brand(), server.new_brand()
    answer = server.admin.put(
        f"/admin/v1/brands/{two.brand_id}/platform-key",
        json={"public_key_id": one.platform_key_id},
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST"
    assert "POST /admin/v1/platform-keys" in answer.json()["message"]
    still = init_naming(two, one.platform_key_id)
    assert still.status_code == 400


def test_a_brand_made_before_keys_per_brand_keeps_the_shared_key(server: LiveServer) -> None:
    """Databases from before keep their associations: the old shared key goes on working."""
    brand = server.new_brand()
    shared = server.service.default_key_id
    with server.service.db.transaction() as conn:
        conn.execute(
            insert(brand_platform_keys).values(brand_id=brand.brand_id, public_key_id=shared)
        )
    server.service.brands._forget(brand.brand_id)
    answer = init_naming(brand, shared)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Wechatpay-Serial"] == shared
