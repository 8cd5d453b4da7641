"""Fault injection (SPEC §10) seen from outside, over real HTTP, as a brand's client sees it.

Each kind runs against a real `userpkg serve --sandbox` process: on SQLite, and on
PostgreSQL with two API processes sharing one port, so rules live in the database and every
process applies them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from userpkg.client.operator import OperatorError
from userpkg.protocol import ResponseValidator, load_private_key, load_public_key
from userpkg.protocol.responses import ResponseVerificationError
from userpkg.testing import Sandbox

from .support import Operator, SigningBrand


@pytest.fixture
def sb(sandbox_service: Sandbox) -> Iterator[Sandbox]:
    yield sandbox_service
    for rule in sandbox_service.admin.faults():
        sandbox_service.admin.delete_fault(rule["fault_id"])


def signing_brand(sb: Sandbox) -> SigningBrand:
    """The playground brand, signing by hand from the files the manifest names."""
    m = sb.manifest
    return SigningBrand(
        sb.base_url,
        m["brand_id"],
        m["cert_serial_no"],
        load_private_key(Path(m["brand_private_key_path"]).read_bytes()),
        m["platform_public_key_id"],
        Path(m["platform_public_key_path"]).read_text(),
    )


@pytest.fixture
def brand(sb: Sandbox) -> Iterator[SigningBrand]:
    for rule in sb.admin.faults():
        sb.admin.delete_fault(rule["fault_id"])
    yield signing_brand(sb)
    for rule in sb.admin.faults():
        sb.admin.delete_fault(rule["fault_id"])


def merged_upload(brand: SigningBrand, sb: Sandbox) -> str:
    data = f"{'x' * 28}\n{time.time_ns()}\n".encode()
    return brand.upload(data, 4 * 1024 * 1024)


def package(sb: Sandbox) -> str:
    return sb.package_ids["USER_PACKAGE_TYPE_TARGETED_EXPOSURE"]


def log_entry(sb: Sandbox, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in sb.admin.requests(100):
            if entry["request_id"] == request_id:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"request {request_id} is not in the request log")


def log_entries_with(sb: Sandbox, fault_id: str, count: int) -> list[dict[str, Any]]:
    """Entries naming the rule; entries of other processes are flushed in batches."""
    deadline = time.monotonic() + 10
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [e for e in sb.admin.requests(200) if e["fault_id"] == fault_id]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{len(found)} log entries name {fault_id}, expected {count}")


def test_error_answers_signed_errors_and_does_not_carry_the_request_out(
    sb: Sandbox, brand: SigningBrand
) -> None:
    upload_id = merged_upload(brand, sb)
    rule = sb.admin.add_fault(
        "expand", "error", status=503, code="SYSTEM_ERROR", retry_after=7, times=2
    )
    assert rule["remaining"] == 2
    assert rule["fault_id"]
    for _ in range(2):
        answer = brand.expand(package(sb), upload_id)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "7"
        body = brand.verified(answer)
        assert body["code"] == "SYSTEM_ERROR"
        assert "injected" in body["message"]
    assert [t["upload_id"] for t in sb.admin.tasks(package(sb))].count(upload_id) == 0
    assert sb.admin.faults() == []
    done = brand.expand(package(sb), upload_id)
    assert done.status_code == 200
    assert brand.verified(done)["state"] == "USER_PACKAGE_PROCESS_STATE_PROCESSING"
    entries = log_entries_with(sb, rule["fault_id"], 2)
    assert {e["status"] for e in entries} == {503}
    assert log_entry(sb, done.headers["Request-ID"])["fault_id"] is None


def test_delay_answers_normally_but_late(sb: Sandbox, brand: SigningBrand) -> None:
    data = b"y" * 28 + b"\n"
    sb.admin.add_fault("init_upload", "delay", delay_ms=700)
    started = time.monotonic()
    answer = brand.init_upload(data)
    late = time.monotonic() - started
    assert answer.status_code == 200
    assert brand.verified(answer)["part_count"] == 1
    started = time.monotonic()
    assert brand.init_upload(data).status_code == 200
    assert late >= 0.7
    assert time.monotonic() - started < late, "only the rule made it late"


def test_drop_closes_the_connection_and_does_nothing(sb: Sandbox, brand: SigningBrand) -> None:
    upload_id = merged_upload(brand, sb)
    rule = sb.admin.add_fault("expand", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        brand.expand(package(sb), upload_id)
    assert upload_id not in [t["upload_id"] for t in sb.admin.tasks(package(sb))]
    (entry,) = log_entries_with(sb, rule["fault_id"], 1)
    assert entry["status"] == 444
    assert brand.expand(package(sb), upload_id).status_code == 200


def test_lost_response_carries_out_then_closes_and_a_retry_is_safe(
    sb: Sandbox, brand: SigningBrand
) -> None:
    upload_id = merged_upload(brand, sb)
    sb.admin.add_fault("expand", "lost_response")
    with pytest.raises(httpx.RemoteProtocolError):
        brand.expand(package(sb), upload_id)
    tasks = [t for t in sb.admin.tasks(package(sb)) if t["upload_id"] == upload_id]
    assert len(tasks) == 1, "the lost expand was carried out"
    again = brand.expand(package(sb), upload_id)
    assert brand.verified(again)["state"].startswith("USER_PACKAGE_PROCESS_STATE_")
    assert [t["upload_id"] for t in sb.admin.tasks(package(sb))].count(upload_id) == 1


def test_lost_response_on_merge_leaves_it_merged(sb: Sandbox, brand: SigningBrand) -> None:
    data = b"z" * 28 + b"\n"
    opened = brand.verified(brand.init_upload(data))
    assert brand.put_part(opened["upload_id"], 1, data).status_code == 200
    sb.admin.add_fault("merge_upload", "lost_response")
    with pytest.raises(httpx.RemoteProtocolError):
        brand.merge(opened["upload_id"])
    answer = brand.merge(opened["upload_id"])
    assert answer.status_code == 200
    assert brand.verified(answer)["upload_id"] == opened["upload_id"]


def test_bad_signature_does_not_verify(sb: Sandbox, brand: SigningBrand) -> None:
    sb.admin.add_fault("*", "bad_signature")
    answer = brand.init_upload(b"q" * 28 + b"\n")
    assert answer.status_code == 200
    with pytest.raises(ResponseVerificationError, match="does not verify"):
        brand.verified(answer)
    assert brand.verified(brand.init_upload(b"q" * 28 + b"\n"))["part_count"] == 1


def test_stale_timestamp_is_ten_minutes_old_and_otherwise_genuine(
    sb: Sandbox, brand: SigningBrand
) -> None:
    sb.admin.add_fault("init_upload", "stale_timestamp")
    answer = brand.init_upload(b"s" * 28 + b"\n")
    stamp = int(answer.headers["Wechatpay-Timestamp"])
    assert abs(time.time() - 600 - stamp) < 30
    with pytest.raises(ResponseVerificationError, match="600 s away"):
        brand.verified(answer)
    then = ResponseValidator(
        sb.manifest["platform_public_key_id"],
        load_public_key(Path(sb.manifest["platform_public_key_path"]).read_text()),
        clock=lambda: float(stamp),
    )
    then.validate(dict(answer.headers), answer.content)


def test_wrong_serial_names_a_key_nobody_holds(sb: Sandbox, brand: SigningBrand) -> None:
    sb.admin.add_fault("init_upload", "wrong_serial")
    answer = brand.init_upload(b"w" * 28 + b"\n")
    serial = answer.headers["Wechatpay-Serial"]
    assert serial.startswith("PUB_KEY_ID_")
    assert serial != sb.manifest["platform_public_key_id"]
    with pytest.raises(ResponseVerificationError, match="signed with key"):
        brand.verified(answer)
    with pytest.raises(OperatorError) as unknown:
        sb.admin.request("GET", f"platform-keys/{serial}")
    assert unknown.value.status == 404


def test_task_failed_accepts_the_expand_and_fails_its_task(
    sb: Sandbox, brand: SigningBrand
) -> None:
    upload_id = merged_upload(brand, sb)
    sb.admin.add_fault("expand", "task_failed", message="disk on fire (test)")
    answer = brand.verified(brand.expand(package(sb), upload_id))
    assert answer.get("state") == "USER_PACKAGE_PROCESS_STATE_PROCESSING", answer
    polled = brand.verified(brand.expand(package(sb), upload_id))
    assert polled == {
        "return_message": "disk on fire (test)",
        "state": "USER_PACKAGE_PROCESS_STATE_FAILED",
    }


def test_oldest_rule_first_one_rule_per_request_star_matches_all(
    sb: Sandbox, brand: SigningBrand
) -> None:
    first = sb.admin.add_fault("*", "error", status=500, code="FIRST_RULE")
    second = sb.admin.add_fault("init_upload", "error", status=502, code="SECOND_RULE", times=2)
    assert [r["fault_id"] for r in sb.admin.faults()] == [first["fault_id"], second["fault_id"]]
    codes = [brand.init_upload(b"o" * 28 + b"\n") for _ in range(4)]
    assert [(a.status_code, a.json().get("code")) for a in codes] == [
        (500, "FIRST_RULE"),
        (502, "SECOND_RULE"),
        (502, "SECOND_RULE"),
        (200, None),
    ]


def test_rules_apply_only_after_authentication(sb: Sandbox, brand: SigningBrand) -> None:
    rule = sb.admin.add_fault("*", "error", status=500)
    forged = brand.send(
        "POST",
        "/brand/marketing/user-package/uploads",
        b"{}",
        signed_body=b"something else",
    )
    assert forged.status_code == 401
    assert forged.json()["code"] == "SIGN_ERROR"
    assert [r["remaining"] for r in sb.admin.faults()] == [1]
    assert brand.init_upload(b"a" * 28 + b"\n").status_code == 500
    assert sb.admin.faults() == []
    assert rule["fault_id"]


def test_count_down_is_atomic_across_api_processes(sb: Sandbox, brand: SigningBrand) -> None:
    rule = sb.admin.add_fault("init_upload", "error", status=500, code="COUNTED", times=10)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: brand.init_upload(b"c" * 28 + b"\n"), range(30)))
    codes = [a.json().get("code") for a in answers]
    assert codes.count("COUNTED") == 10
    assert all(a.status_code == 200 for a in answers if a.json().get("code") != "COUNTED")
    assert len(log_entries_with(sb, rule["fault_id"], 10)) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"endpoint": "expand", "kind": "explode"}, "/kind"),
        ({"endpoint": "refund", "kind": "drop"}, "/endpoint"),
        ({"endpoint": "expand", "kind": "drop", "times": 0}, "/times"),
        ({"endpoint": "expand", "kind": "delay"}, None),
        ({"endpoint": "merge_upload", "kind": "task_failed"}, None),
        ({"endpoint": "expand", "kind": "drop", "delay_ms": 5}, None),
        ({"endpoint": "expand", "kind": "error", "status": 200}, "/status"),
        ({"endpoint": "expand", "kind": "error", "retry_after": -1}, "/retry_after"),
        ({"endpoint": "expand", "kind": "drop", "tmes": 3}, "/tmes"),
    ],
)
def test_a_bad_rule_is_param_error_and_adds_nothing(
    sb: Sandbox, brand: SigningBrand, body: dict[str, Any], field: str | None
) -> None:
    answer = httpx.post(
        f"{sb.base_url}/admin/v1/brands/{sb.brand_id}/faults",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {sb.manifest['admin_token']}"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "PARAM_ERROR"
    if field is not None:
        assert answer.json()["detail"]["field"] == field
    assert sb.admin.faults() == []


def test_delete_and_unknown_fault_id(sb: Sandbox, brand: SigningBrand) -> None:
    rule = sb.admin.add_fault("expand", "drop", times=3)
    sb.admin.delete_fault(rule["fault_id"])
    assert sb.admin.faults() == []
    with pytest.raises(OperatorError) as gone:
        sb.admin.delete_fault(rule["fault_id"])
    assert gone.value.status == 404
    assert gone.value.code == "NOT_FOUND"
    with pytest.raises(OperatorError) as no_brand:
        sb.admin.operator.add_fault("NoSuchBrand", {"endpoint": "expand", "kind": "drop"})
    assert no_brand.value.status == 404


def test_rules_of_one_brand_leave_another_alone(sb: Sandbox, brand: SigningBrand) -> None:
    other = Operator(sb.base_url, sb.manifest["admin_token"]).new_brand()
    sb.admin.operator.add_fault(other.brand_id, {"endpoint": "*", "kind": "error", "status": 500})
    assert brand.init_upload(b"b" * 28 + b"\n").status_code == 200
    assert other.init_upload(b"b" * 28 + b"\n").status_code == 500
