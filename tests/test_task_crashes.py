"""A worker that dies is not a failing file: its task comes back at once, and only a file that
kills the worker again and again (a poison file) ends FAILED, after which the brand may send it
again under the same filename."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.core.leases import MAX_CRASHES
from userpkg.core.settings import Settings, SyncDelay

from .conftest import PART_SIZE
from .databases import PG_URL, SKIP_PG, database_url
from .processes import USERPKG
from .support import LiveServer, World, build_world
from .test_expand_pipeline import task_of

PROCESSING = "USER_PACKAGE_PROCESS_STATE_PROCESSING"
FINISHED = "USER_PACKAGE_PROCESS_STATE_FINISHED"
FAILED = "USER_PACKAGE_PROCESS_STATE_FAILED"


def worker(
    data: Path, db_url: str | None, lease: int, crash_at: str = ""
) -> subprocess.Popen[bytes]:
    database = ["--db", db_url] if db_url else []
    return subprocess.Popen(
        [*USERPKG, "worker", "--data", str(data), *database, "--lease-seconds", str(lease)],
        env={**os.environ, "USERPKG_CRASH_AT": crash_at},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def killed_while_matching(data: Path, db_url: str | None, lease: int) -> None:
    crashed = worker(data, db_url, lease, crash_at="delta-written")
    assert crashed.wait(timeout=90) == -signal.SIGKILL, "the worker should die while matching"


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(request.param) as url:
        yield Settings(
            data_dir=tmp_path,
            db_url=url,
            sandbox=True,
            sync_delay=SyncDelay(seconds=0),
            part_size=PART_SIZE,
            processing=False,
        )


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    """The API without a worker: the tests run workers as real processes and kill them."""
    server = LiveServer(settings)
    yield server
    server.stop()


def submit(world: World, package: str, filename: str) -> str:
    text = "\n".join(world.openid(i, world.bound[0]) for i in range(10)).encode()
    upload_id = world.brand.upload(text, PART_SIZE, filename=filename)
    world.brand.verified(world.brand.expand(package, upload_id))
    return upload_id


def wait_state(live: LiveServer, package: str, upload_id: str, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while True:
        task = task_of(live, package, upload_id)
        if task["state"] != PROCESSING or time.monotonic() > deadline:
            return task
        time.sleep(0.1)


def test_a_restarted_worker_takes_its_task_back_without_waiting_for_the_lease(
    live: LiveServer, settings: Settings
) -> None:
    world = build_world(live)
    package = live.new_package(world.brand.brand_id)
    upload_id = submit(world, package, "restart.csv")
    killed_while_matching(settings.data_dir, settings.db_url, lease=120)

    started = time.monotonic()
    survivor = worker(settings.data_dir, settings.db_url, lease=120)
    try:
        task = wait_state(live, package, upload_id, seconds=60)
        waited = time.monotonic() - started
    finally:
        stop(survivor)
    assert task["state"] == FINISHED, task
    assert task["stats"]["added"] == 10  # type: ignore[index]
    assert waited < 60, f"the task waited {waited:.0f} s, half its 120 s lease"


def test_crashes_do_not_fail_a_task_until_the_file_keeps_killing_workers(
    live: LiveServer, settings: Settings
) -> None:
    world = build_world(live)
    package = live.new_package(world.brand.brand_id)
    upload_id = submit(world, package, "poison.csv")

    for death in range(1, MAX_CRASHES + 1):
        killed_while_matching(settings.data_dir, settings.db_url, lease=1)
        if death == 3:
            assert task_of(live, package, upload_id)["state"] == PROCESSING, (
                "three deaths of the worker are not three failures of the file"
            )

    survivor = worker(settings.data_dir, settings.db_url, lease=1)
    try:
        task = wait_state(live, package, upload_id, seconds=60)
        assert task["state"] == FAILED, task
        message = str(task["return_message"])
        assert f"stopped {MAX_CRASHES} times" in message, message
        assert "smaller files" in message, message
        assert live.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 0

        again = submit(world, package, "poison.csv")
        task = wait_state(live, package, again, seconds=60)
        assert task["state"] == FINISHED, task
        assert live.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 10
    finally:
        stop(survivor)

    refused = world.brand.init_upload(b"x\n", filename="poison.csv")
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "INVALID_REQUEST"
    assert "poison.csv" in refused.json()["message"]
