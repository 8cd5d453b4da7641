"""The brand API's happy path over real HTTP, every response verified as a client would."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

from .conftest import PART_SIZE
from .support import LiveServer

DATA = b"".join(f"line-{i:06d}\n".encode() for i in range(300))


def test_init_parts_in_any_order_merge_expand_and_poll(server: LiveServer) -> None:
    brand = server.new_brand()
    package = server.new_package(brand.brand_id)

    opened = brand.verified(brand.init_upload(DATA))
    assert opened["part_size"] == PART_SIZE
    assert opened["part_count"] == -(-len(DATA) // PART_SIZE)
    assert opened["expire_time"].endswith("+08:00")
    upload_id = opened["upload_id"]
    assert len(upload_id) <= 128

    numbers = list(range(opened["part_count"], 0, -1))
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda n: brand.put_part(upload_id, n, DATA[(n - 1) * PART_SIZE : n * PART_SIZE]),
                numbers,
            )
        )
    for number, response in zip(numbers, answers, strict=True):
        body = brand.verified(response)
        chunk = DATA[(number - 1) * PART_SIZE : number * PART_SIZE]
        assert body == {
            "upload_id": upload_id,
            "part_number": number,
            "digest": hashlib.sha256(chunk).hexdigest(),
            "size": len(chunk),
        }

    merged = brand.verified(brand.merge(upload_id))
    assert merged["file_size"] == len(DATA)
    assert merged["digest"] == hashlib.sha256(DATA).hexdigest()
    assert merged["resource_id"]
    assert brand.verified(brand.merge(upload_id)) == merged

    first = brand.expand(package, upload_id)
    assert first.status_code == 200
    assert brand.verified(first) == {
        "return_message": "success",
        "state": "USER_PACKAGE_PROCESS_STATE_PROCESSING",
    }
    again = brand.verified(brand.expand(package, upload_id))
    assert again["state"].startswith("USER_PACKAGE_PROCESS_STATE_")

    tasks = server.admin_ok("GET", f"/admin/v1/user-packages/{package}/tasks")
    assert tasks["total_count"] == 1
    assert tasks["data"][0]["upload_id"] == upload_id


def test_same_part_twice_is_idempotent_and_new_bytes_replace_before_merge(
    server: LiveServer,
) -> None:
    brand = server.new_brand()
    data = b"a" * PART_SIZE + b"b" * 10
    opened = brand.verified(brand.init_upload(data))
    upload_id = opened["upload_id"]
    wrong = b"x" * PART_SIZE
    assert brand.put_part(upload_id, 1, wrong).status_code == 200
    first = brand.verified(brand.put_part(upload_id, 1, data[:PART_SIZE]))
    assert brand.verified(brand.put_part(upload_id, 1, data[:PART_SIZE])) == first
    assert brand.put_part(upload_id, 2, data[PART_SIZE:]).status_code == 200
    merged = brand.verified(brand.merge(upload_id))
    assert merged["digest"] == hashlib.sha256(data).hexdigest()

    assert brand.verified(brand.put_part(upload_id, 1, data[:PART_SIZE])) == first
    changed = brand.put_part(upload_id, 1, wrong)
    assert changed.status_code == 400
    assert brand.verified(changed)["code"] == "INVALID_REQUEST"


def test_pretty_printed_json_body_is_accepted_byte_for_byte(server: LiveServer) -> None:
    brand = server.new_brand()
    info = {
        "filename": "pretty.csv",
        "digest": hashlib.sha256(b"x\n").hexdigest(),
        "file_size": 2,
        "package_type": "USER_PACKAGE_TYPE_RISK_USER",
        "data_type": "USER_PACKAGE_DATA_TYPE_MD5_PHONE",
        "description": "风险用户人群包，二零二六年十一月导入",
    }
    body = json.dumps({"user_package_file_info": info}, indent=2, ensure_ascii=False).encode()
    response = brand.send("POST", "/brand/marketing/user-package/uploads", body)
    assert response.status_code == 200, response.text
    assert brand.verified(response)["part_count"] == 1
