"""Kill the worker between every two steps of a task; a restart gives exactly the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.core.settings import Settings, SyncDelay

from .conftest import PART_SIZE
from .databases import PG_URL, SKIP_PG, database_url
from .processes import USERPKG
from .support import LiveServer
from .test_expand_pipeline import build_world, task_of

STEPS = ["claimed", "delta-written", "matched", "members-written", "finalized"]


def run_worker(data: Path, db_url: str | None, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "USERPKG_CRASH_AT": crash_at or ""}
    database = ["--db", db_url] if db_url else []
    return subprocess.Popen(
        [
            *USERPKG,
            "worker",
            "--data",
            str(data),
            *database,
            "--lease-seconds",
            "1",
            "--log-level",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(request.param) as url:
        yield url


@pytest.mark.parametrize("step", STEPS)
def test_worker_killed_at_each_step_finishes_exactly_once(
    tmp_path: Path, db_url: str | None, step: str
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        db_url=db_url,
        sandbox=True,
        sync_delay=SyncDelay(seconds=0),
        part_size=PART_SIZE,
        processing=False,
    )
    live = LiveServer(settings)
    try:
        world = build_world(live)
        brand = world.brand
        package = live.new_package(brand.brand_id)
        before = "\n".join(world.openid(i, world.bound[0]) for i in range(0, 10)).encode()
        seeded = brand.upload(before, PART_SIZE)
        brand.verified(brand.expand(package, seeded))
        text = "\n".join(
            [world.openid(i, world.bound[0]) for i in range(5, 25)]
            + ["junk", world.openid(5, world.bound[1])]
        ).encode()
        upload_id = brand.upload(text, PART_SIZE)
        brand.verified(brand.expand(package, upload_id))
    finally:
        live.stop()

    crashed = run_worker(tmp_path, db_url, step)
    assert crashed.wait(timeout=60) == -signal.SIGKILL, f"the worker should have died at {step}"

    survivor = run_worker(tmp_path, db_url, None)
    try:
        check = LiveServer(settings)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                task = task_of(check, package, upload_id)
                if task["state"] != "USER_PACKAGE_PROCESS_STATE_PROCESSING":
                    break
                time.sleep(0.1)
            assert task["state"] == "USER_PACKAGE_PROCESS_STATE_FINISHED", task
            assert task["stats"] == {
                "lines": 22,
                "blank": 0,
                "malformed": 1,
                "unrecognised": 0,
                "matched": 21,
                "duplicates": 1,
                "already_members": 5,
                "added": 15,
            }
            seeded_task = task_of(check, package, seeded)
            assert seeded_task["stats"]["added"] == 10  # type: ignore[index]
            assert check.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 25
            members = sorted(check.service.members(package))
            assert members == sorted(int(u["user_id"]) for u in world.users[:25])  # type: ignore[call-overload]
            if db_url is None:
                versions = list((tmp_path / "bitmaps" / "members" / package).glob("*"))
                assert len(versions) == 1, "old member versions are cleaned up"
        finally:
            check.stop()
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
