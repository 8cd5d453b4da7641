"""Every row of the error table (SPEC §6) over real HTTP, and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from .conftest import PART_SIZE
from .support import PREFIX, LiveServer, SigningBrand

DATA = b"0123456789abcdef\n" * 100


@pytest.fixture(scope="module")
def brand(server: LiveServer) -> SigningBrand:
    return server.new_brand()


def error(response: object, brand: SigningBrand, status: int, code: str) -> dict[str, object]:
    body = brand.verified(response)  # type: ignore[arg-type]
    assert (response.status_code, body["code"]) == (status, code), body  # type: ignore[attr-defined]
    assert body["message"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filename": "no-extension"}, "/user_package_file_info/filename"),
        ({"digest": "zz"}, "/user_package_file_info/digest"),
        ({"file_size": 64 * PART_SIZE + 1}, "/user_package_file_info/file_size"),
        ({"file_size": None}, "/user_package_file_info/file_size"),
        ({"description": "short"}, "/user_package_file_info/description"),
        ({"description": "emoji 😀 not allowed here"}, "/user_package_file_info/description"),
        ({"package_type": "USER_PACKAGE_TYPE_OTHER"}, "/user_package_file_info/package_type"),
    ],
)
def test_init_param_errors_name_the_field(
    server: LiveServer, brand: SigningBrand, changes: dict[str, object], field: str
) -> None:
    body = error(brand.init_upload(DATA, **changes), brand, 400, "PARAM_ERROR")
    assert body["detail"] == {"location": "body", "field": field}


def test_part_rules(server: LiveServer, brand: SigningBrand) -> None:
    upload_id = brand.verified(brand.init_upload(DATA))["upload_id"]
    for number in ("0", "3", "x", "-1", "99999999"):
        body = error(brand.put_part(upload_id, number, DATA[:PART_SIZE]), brand, 400, "PARAM_ERROR")
        assert body["detail"] == {"location": "path", "field": "part_number"}
    short = error(brand.put_part(upload_id, 1, DATA[:10]), brand, 400, "PARAM_ERROR")
    assert "must be 1024 bytes" in str(short["message"])
    meta = json.dumps({"filename": "p.csv", "digest": "0" * 64}).encode()
    mismatch = error(
        brand.put_part(upload_id, 1, DATA[:PART_SIZE], meta=meta), brand, 400, "PARAM_ERROR"
    )
    assert mismatch["detail"] == {"location": "body", "field": "/file_meta/digest"}
    bad_meta = error(
        brand.put_part(upload_id, 1, DATA[:PART_SIZE], meta=b'{"filename":null}'),
        brand,
        400,
        "PARAM_ERROR",
    )
    assert bad_meta["detail"] == {"location": "body", "field": "/filename"}


def test_merge_business_rules(server: LiveServer, brand: SigningBrand) -> None:
    upload_id = brand.verified(brand.init_upload(DATA))["upload_id"]
    brand.verified(brand.put_part(upload_id, 1, DATA[:PART_SIZE]))
    missing = error(brand.merge(upload_id), brand, 400, "INVALID_REQUEST")
    assert "1 of 2 parts missing (2)" in str(missing["message"])

    declared = DATA[:-1] + b"X"
    wrong_id = brand.verified(brand.init_upload(declared))["upload_id"]
    brand.verified(brand.put_part(wrong_id, 1, DATA[:PART_SIZE]))
    brand.verified(brand.put_part(wrong_id, 2, DATA[PART_SIZE:]))
    mismatch = error(brand.merge(wrong_id), brand, 400, "INVALID_REQUEST")
    assert hashlib.sha256(declared).hexdigest() in str(mismatch["message"])
    brand.verified(brand.put_part(wrong_id, 2, declared[PART_SIZE:]))
    assert brand.verified(brand.merge(wrong_id))["digest"] == hashlib.sha256(declared).hexdigest()


def test_expand_business_rules(server: LiveServer, brand: SigningBrand) -> None:
    package = server.new_package(brand.brand_id)
    risk = server.new_package(brand.brand_id, "USER_PACKAGE_TYPE_RISK_USER")
    unmerged = brand.verified(brand.init_upload(DATA))["upload_id"]
    assert "not merged" in str(
        error(brand.expand(package, unmerged), brand, 400, "INVALID_REQUEST")["message"]
    )
    merged = brand.upload(DATA, PART_SIZE)
    assert "USER_PACKAGE_TYPE_RISK_USER" in str(
        error(brand.expand(risk, merged), brand, 400, "INVALID_REQUEST")["message"]
    )
    assert brand.verified(brand.expand(package, merged))["state"]
    other = server.new_package(brand.brand_id)
    assert "another package" in str(
        error(brand.expand(other, merged), brand, 400, "INVALID_REQUEST")["message"]
    )
    error(brand.expand("0" * 20, merged), brand, 404, "NOT_FOUND")
    error(brand.expand(package, "unknownupload"), brand, 404, "NOT_FOUND")
    bad_id = error(brand.expand("123", merged), brand, 400, "PARAM_ERROR")
    assert bad_id["detail"] == {"location": "path", "field": "user_package_id"}


def test_filename_that_reached_a_package_cannot_be_reused(
    server: LiveServer, brand: SigningBrand
) -> None:
    package = server.new_package(brand.brand_id)
    first = brand.upload(DATA, PART_SIZE, filename="members_once.csv")
    again = brand.init_upload(DATA, filename="members_once.csv")
    assert again.status_code == 200, "reusable while no package used it"
    brand.verified(brand.expand(package, first))
    refused = error(
        brand.init_upload(DATA, filename="members_once.csv"), brand, 400, "INVALID_REQUEST"
    )
    assert refused["detail"] == {"field": "/user_package_file_info/filename"}


def test_expired_upload(server: LiveServer, brand: SigningBrand) -> None:
    upload_id = brand.verified(brand.init_upload(DATA))["upload_id"]
    brand.verified(brand.put_part(upload_id, 1, DATA[:PART_SIZE]))
    merged_id = brand.upload(DATA, PART_SIZE)
    server.admin_ok("POST", "/admin/v1/clock/advance", {"seconds": 24 * 3600 + 1})
    expired = error(brand.put_part(upload_id, 2, DATA[PART_SIZE:]), brand, 400, "INVALID_REQUEST")
    assert "expired" in str(expired["message"])
    error(brand.merge(upload_id), brand, 400, "INVALID_REQUEST")
    assert brand.verified(brand.merge(merged_id))["upload_id"] == merged_id
    server.service.sweep()
    parts_dir = server.service.settings.data_dir / "blobs" / "parts" / upload_id
    assert not parts_dir.exists()
    assert "expired" in str(
        error(brand.put_part(upload_id, 2, DATA[PART_SIZE:]), brand, 400, "INVALID_REQUEST")[
            "message"
        ]
    )


def test_permission_off_means_no_auth(server: LiveServer) -> None:
    brand = server.new_brand()
    server.admin_ok("PUT", f"/admin/v1/brands/{brand.brand_id}/permission", {"user_package": False})
    error(brand.init_upload(DATA), brand, 403, "NO_AUTH")
    server.admin_ok("PUT", f"/admin/v1/brands/{brand.brand_id}/permission", {"user_package": True})
    assert brand.init_upload(DATA).status_code == 200


def test_body_over_the_limit_is_413_before_it_is_read(
    server: LiveServer, brand: SigningBrand
) -> None:
    upload_id = brand.verified(brand.init_upload(DATA))["upload_id"]
    huge = b"x" * (PART_SIZE + 70 * 1024)
    too_big = error(brand.put_part(upload_id, 1, huge), brand, 413, "PARAM_ERROR")
    assert "bytes allowed" in str(too_big["message"])
    big_json = b'{"upload_id":"' + b"a" * (70 * 1024) + b'"}'
    error(
        brand.send("POST", f"{PREFIX}/user-packages/{'0' * 20}/expand", big_json),
        brand,
        413,
        "PARAM_ERROR",
    )

    def chunks() -> object:
        for _ in range(200):
            yield b"y" * 4096

    auth = brand.credential.authorize("POST", f"{PREFIX}/uploads", b"").header()
    streamed = brand.client.post(
        f"{PREFIX}/uploads",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    error(streamed, brand, 413, "PARAM_ERROR")
