"""`POST /admin/v1/reset` and where fault rules exist at all (SPEC §10), over real HTTP."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from userpkg.client import BrandClient, Credentials
from userpkg.client.operator import OperatorClient, OperatorError
from userpkg.client.uploads import Uploader
from userpkg.core.settings import Settings
from userpkg.protocol import DataType, PackageType
from userpkg.testing import Sandbox

from .processes import USERPKG, ServiceProcess
from .support import LiveServer
from .test_faults import signing_brand

TARGETED = "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"


@pytest.fixture
def sb(sandbox_service: Sandbox) -> Iterator[Sandbox]:
    yield sandbox_service
    for rule in sandbox_service.admin.faults():
        sandbox_service.admin.delete_fault(rule["fault_id"])


def members_file(sb: Sandbox, directory: Path, count: int) -> Path:
    """`count` of the sandbox's users, by openid under its first bound appid."""
    appid = sb.manifest["bound_appids"][0]
    users = sb.admin.request("GET", "users", params={"limit": count})["data"]
    path = directory / f"members-{secrets.token_hex(4)}.csv"
    path.write_text("".join(u["openids"][appid] + "\n" for u in users))
    return path


def push(sb: Sandbox, path: Path, states: Path) -> str:
    with BrandClient(Credentials.resolve(sb.credentials_path)) as client:
        result = Uploader(client, states=states).push(
            sb.package_ids[TARGETED],
            path,
            DataType.OPENID,
            PackageType.TARGETED_EXPOSURE,
            "members for the reset test",
            again=True,
            wait=True,
        )
    (piece,) = result.push.pieces
    assert piece.state == "USER_PACKAGE_PROCESS_STATE_FINISHED", piece
    return str(piece.upload_id)


def test_reset_empties_packages_and_keeps_credentials_and_ids(sb: Sandbox, tmp_path: Path) -> None:
    members = members_file(sb, tmp_path, 5)
    old_upload = push(sb, members, tmp_path / "states1")
    package = sb.package_ids[TARGETED]
    assert sb.admin.member_count(package) == 5
    sb.admin.add_fault("expand", "error", status=500, times=5)
    sb.admin.advance_clock(3600)
    first_user = sb.admin.request("GET", "users", params={"limit": 1})["data"][0]["user_id"]

    by_hand = subprocess.run(
        [*USERPKG, "admin", "--url", sb.base_url, "--json", "reset"],
        env={**os.environ, "USERPKG_ADMIN_TOKEN": sb.manifest["admin_token"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert json.loads(by_hand.stdout)["reset"]["uploads"] >= 1

    for package_id in sb.package_ids.values():
        assert sb.admin.member_count(package_id) == 0
        assert sb.admin.tasks(package_id) == []
    assert sb.admin.faults() == []
    assert sb.admin.requests() == []
    assert sb.admin.request("GET", "clock")["offset_seconds"] == 0
    check = sb.admin.request(
        "POST", f"user-packages/{package}/members/check", {"user_id": first_user}
    )
    assert check == {"member": False}
    brand = signing_brand(sb)
    gone = brand.expand(package, old_upload)
    assert gone.status_code == 404
    assert brand.verified(gone)["code"] == "NOT_FOUND"
    assert sb.admin.request("GET", "users", params={"limit": 1})["total_count"] == 50

    push(sb, members, tmp_path / "states2")
    assert sb.admin.member_count(package) == 5

    in_words = subprocess.run(
        [*USERPKG, "admin", "--url", sb.base_url, "reset"],
        env={**os.environ, "USERPKG_ADMIN_TOKEN": sb.manifest["admin_token"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert in_words.returncode == 0, in_words.stderr
    packages = len(sb.package_ids)
    assert in_words.stdout.startswith(f"sandbox reset: {packages} packages emptied, 1 upload and")
    assert "{" not in in_words.stdout


def test_reset_while_requests_are_in_flight_answers_no_500(sb: Sandbox) -> None:
    brand = signing_brand(sb)
    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        for number in range(200):
            if stop.is_set():
                return
            data = f"{'r' * 28}\n{number}\n".encode()
            opened = brand.init_upload(data)
            statuses.append(opened.status_code)
            if opened.status_code != 200:
                continue
            upload_id = opened.json()["upload_id"]
            statuses.append(brand.put_part(upload_id, 1, data).status_code)
            statuses.append(brand.merge(upload_id).status_code)
            statuses.append(brand.expand(sb.package_ids[TARGETED], upload_id).status_code)

    threads = [threading.Thread(target=traffic) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(1, 4):
            deadline = time.monotonic() + 30
            while len(statuses) < 8 * round_ and time.monotonic() < deadline:
                time.sleep(0.01)
            sb.admin.reset()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses
    assert set(statuses) <= {200, 400, 404}, sorted(set(statuses))


def test_outside_a_sandbox_faults_and_reset_are_404(tmp_path: Path) -> None:
    live = LiveServer(Settings(data_dir=tmp_path / "data"))
    try:
        brand = live.new_brand()
        admin = OperatorClient(live.base_url, live.service.admin_token)
        brand_id = brand.brand_id
        for call in (
            lambda: admin.add_fault(brand_id, {"endpoint": "expand", "kind": "drop"}),
            lambda: admin.faults(brand_id),
            lambda: admin.delete_fault(brand_id, "fault_x"),
            admin.reset,
        ):
            with pytest.raises(OperatorError) as missing:
                call()
            assert missing.value.status == 404
            assert missing.value.code == "NOT_FOUND"
        admin.close()
    finally:
        live.stop()


def test_serve_faults_enables_rules_but_not_reset(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(16)
    process = ServiceProcess(
        ["serve", "--faults", "--data", str(tmp_path / "data"), "--log-level", "WARNING"],
        tmp_path / "serve.log",
        env={"USERPKG_ADMIN_TOKEN": token},
    )
    try:
        process.wait_healthy()
        with OperatorClient(process.base_url, token) as admin:
            brand_id = admin.request("POST", "brands", {"name": "faults on"})["brand_id"]
            rule = admin.add_fault(
                brand_id,
                {
                    "endpoint": "expand",
                    "kind": "error",
                    "status": 429,
                    "code": "RATELIMIT_EXCEEDED",
                },
            )
            assert [r["fault_id"] for r in admin.faults(brand_id)] == [rule["fault_id"]]
            with pytest.raises(OperatorError) as no_reset:
                admin.reset()
            assert no_reset.value.status == 404
        unauthenticated = httpx.get(f"{process.base_url}/admin/v1/brands/{brand_id}/faults")
        assert unauthenticated.status_code == 401
    finally:
        process.stop()
