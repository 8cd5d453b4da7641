"""Two API processes and two workers on one PostgreSQL: nothing lost, nothing twice."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .databases import PG_URL, SKIP_PG, database_url, fresh_postgres
from .processes import USERPKG, ServiceProcess
from .support import PREFIX, Operator, SigningBrand

FLOWS = 12
USERS_PER_FLOW = 40


def start_worker(url: str, data: Path, crash_at: str = "") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *USERPKG,
            "worker",
            "--db",
            url,
            "--data",
            str(data),
            "--lease-seconds",
            "2",
            "--log-level",
            "WARNING",
        ],
        env={**os.environ, "USERPKG_CRASH_AT": crash_at},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def cluster(
    tmp_path: Path,
) -> Iterator[tuple[list[ServiceProcess], list[subprocess.Popen[bytes]], str, str]]:
    with fresh_postgres() as url:
        token = secrets.token_urlsafe(16)
        env = {"USERPKG_ADMIN_TOKEN": token}
        apis = [
            ServiceProcess(
                [
                    "serve",
                    "--db",
                    url,
                    "--data",
                    str(tmp_path / f"api{i}"),
                    "--no-processing",
                    "--sync-delay",
                    "0s",
                    "--rate-limit",
                    "1000",
                    "--rate-burst",
                    "1000",
                    "--log-level",
                    "WARNING",
                ],
                tmp_path / f"api{i}.log",
                env=env,
            )
            for i in range(2)
        ]
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for api in apis:
                api.wait_healthy()
            workers.append(start_worker(url, tmp_path / "worker0", crash_at="delta-written"))
            yield apis, workers, url, str(tmp_path)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(timeout=30)
            for api in apis:
                api.stop()


def test_concurrent_flows_with_a_killed_worker_finish_exactly_once(
    cluster: tuple[list[ServiceProcess], list[subprocess.Popen[bytes]], str, str],
) -> None:
    apis, workers, url, tmp = cluster
    operators = [Operator(api.base_url, apis[0].env["USERPKG_ADMIN_TOKEN"]) for api in apis]
    one = operators[0].new_brand()
    brands = [
        one,
        SigningBrand(
            apis[1].base_url,
            one.brand_id,
            one.serial_no,
            one.private_key,
            one.platform_key_id,
            one.platform_public_pem,
        ),
    ]
    appid = f"wx{secrets.token_hex(6)}"
    operators[1].admin_ok("POST", f"/admin/v1/brands/{one.brand_id}/appids", {"appid": appid})
    first = operators[0].admin_ok("POST", "/admin/v1/users", {"generate": FLOWS * USERS_PER_FLOW})[
        "first_user_id"
    ]
    users = operators[1].admin_ok(
        "GET", f"/admin/v1/users?offset={first - 1}&limit={FLOWS * USERS_PER_FLOW}"
    )["data"]

    def flow(index: int) -> tuple[str, str]:
        brand = brands[index % 2]
        operator = operators[(index + 1) % 2]
        package = operator.new_package(brand.brand_id)
        mine = users[index * USERS_PER_FLOW : (index + 1) * USERS_PER_FLOW]
        text = "\n".join(u["openids"][appid] for u in mine * 2) + "\n"
        opened = brand.verified(brand.init_upload(text.encode()))
        size = opened["part_size"]
        for number in range(1, opened["part_count"] + 1):
            other = brands[(index + number) % 2]
            chunk = text.encode()[(number - 1) * size : number * size]
            assert other.put_part(opened["upload_id"], number, chunk).status_code == 200
        assert brands[(index + 1) % 2].merge(opened["upload_id"]).status_code == 200
        assert brand.verified(brand.expand(package, opened["upload_id"]))["state"]
        return package, opened["upload_id"]

    with ThreadPoolExecutor(6) as pool:
        flows = list(pool.map(flow, range(FLOWS)))

    assert workers[0].wait(timeout=60) == -signal.SIGKILL, "the first worker died mid-task"
    workers.extend(start_worker(url, Path(tmp) / f"worker{i}") for i in (1, 2))
    deadline = time.monotonic() + 90
    for package, upload_id in flows:
        while True:
            tasks = operators[0].admin_ok("GET", f"/admin/v1/user-packages/{package}/tasks")
            state = tasks["data"][0]["state"]
            if state != "USER_PACKAGE_PROCESS_STATE_PROCESSING" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert tasks["total_count"] == 1
        task = tasks["data"][0]
        assert task["upload_id"] == upload_id
        assert state == "USER_PACKAGE_PROCESS_STATE_FINISHED", task
        assert task["stats"]["matched"] == 2 * USERS_PER_FLOW
        assert task["stats"]["duplicates"] == USERS_PER_FLOW
        assert task["stats"]["added"] == USERS_PER_FLOW
        shown = operators[1].admin_ok("GET", f"/admin/v1/user-packages/{package}")
        assert shown["member_count"] == USERS_PER_FLOW


def test_a_nonce_used_on_one_api_process_is_refused_by_the_other(
    cluster: tuple[list[ServiceProcess], list[subprocess.Popen[bytes]], str, str],
) -> None:
    apis, _workers, _url, _tmp = cluster
    brand = Operator(apis[0].base_url, apis[0].env["USERPKG_ADMIN_TOKEN"]).new_brand()
    other = SigningBrand(
        apis[1].base_url,
        brand.brand_id,
        brand.serial_no,
        brand.private_key,
        brand.platform_key_id,
        brand.platform_public_pem,
    )
    path = f"{PREFIX}/user-packages/{'0' * 20}/expand"
    body = b'{"upload_id":"x"}'
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    assert (
        brand.verified(brand.send("POST", path, body, timestamp=ts, nonce=nonce))["code"]
        == "NOT_FOUND"
    )
    replay = other.send("POST", path, body, timestamp=ts, nonce=nonce)
    assert replay.status_code == 401
    assert "replay" in other.verified(replay)["message"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_serve_workers_2_shares_one_port_and_one_replay_memory(
    tmp_path: Path, backend: str
) -> None:
    if backend == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(backend) as url:
        database = ["--db", url] if url else []
        api = ServiceProcess(
            ["serve", "--workers", "2", "--data", str(tmp_path), *database],
            tmp_path / "api.log",
            env={"USERPKG_ADMIN_TOKEN": "t" * 32},
        )
        try:
            api.wait_healthy()
            brand = Operator(api.base_url, "t" * 32).new_brand()
            path = f"{PREFIX}/user-packages/{'0' * 20}/expand"
            for _ in range(10):
                assert (
                    brand.verified(brand.send("POST", path, b'{"upload_id":"x"}'))["code"]
                    == "NOT_FOUND"
                )
            ts, nonce = str(int(time.time())), secrets.token_hex(16)
            codes = [
                brand.verified(
                    brand.send("POST", path, b'{"upload_id":"x"}', timestamp=ts, nonce=nonce)
                )["code"]
                for _ in range(6)
            ]
            assert codes == ["NOT_FOUND"] + ["SIGN_ERROR"] * 5, "whichever process answers"
            assert api.log_path.read_text().count('"msg": "Started server process') == 2
        finally:
            api.stop()
