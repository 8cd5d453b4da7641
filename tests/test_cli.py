"""The `userpkg` client commands run as a user runs them: a process, a config, an exit status."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from userpkg.client.uploads import split_points

from .fakehost import FakeHost, Running
from .processes import USERPKG
from .support import write_credentials
from .test_client import openid_file
from .test_expand_pipeline import World, task_of


def userpkg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*USERPKG, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("USERPKG_")},
            **(env or {}),
        },
    )


def test_upload_then_expand_wait(world: World, config: Path, tmp_path: Path) -> None:
    package = world.server.new_package(world.brand.brand_id)
    source = openid_file(world, tmp_path / "list.csv", range(0, 10))
    uploaded = userpkg(
        "upload",
        str(source),
        "--data-type",
        "openid",
        "--package-type",
        "targeted-exposure",
        "--description",
        "members from the cli test",
        "--config",
        str(config),
    )
    assert uploaded.returncode == 0, uploaded.stderr
    upload_id = uploaded.stdout.strip()
    expanded = userpkg("expand", package, upload_id, "--wait", "--config", str(config))
    assert expanded.returncode == 0, expanded.stderr
    assert expanded.stdout.strip() == "USER_PACKAGE_PROCESS_STATE_FINISHED"
    assert "added 10 users" in expanded.stderr


def test_push_splits_lints_and_waits_using_environment_variables(
    world: World, config: Path, tmp_path: Path
) -> None:
    package = world.server.new_package(world.brand.brand_id)
    source = openid_file(world, tmp_path / "big.csv", range(0, 30), times=2)
    with source.open("a") as handle:
        handle.write("junk\n\n")
    env = {
        "USERPKG_BASE_URL": world.server.base_url,
        "USERPKG_BRAND_ID": world.brand.brand_id,
        "USERPKG_CERT_SERIAL_NO": world.brand.serial_no,
        "USERPKG_PRIVATE_KEY_PATH": str(tmp_path / f"{world.brand.brand_id}.pem"),
        "USERPKG_PLATFORM_PUBLIC_KEY_ID": world.brand.platform_key_id,
        "USERPKG_PLATFORM_PUBLIC_KEY_PATH": str(tmp_path / "platform.pem"),
    }
    pushed = userpkg(
        "push",
        package,
        str(source),
        "--data-type",
        "openid",
        "--wait",
        "--max-bytes",
        "600",
        env=env,
    )
    assert pushed.returncode == 0, pushed.stderr
    assert "lint: lines 62, blank 1, malformed 1, duplicates 30" in pushed.stderr
    pieces = pushed.stdout.split("\n")[:-1]
    assert len(pieces) == len(split_points(source, 600)) >= 3
    assert all(p.endswith("USER_PACKAGE_PROCESS_STATE_FINISHED") for p in pieces)
    assert world.server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 30
    for piece in pieces:
        assert task_of(world.server, package, piece.split()[0])["state"].endswith("FINISHED")  # type: ignore[union-attr]


def test_lint_and_hash_phones_work_offline(tmp_path: Path) -> None:
    raw = tmp_path / "phones.txt"
    raw.write_text("+86 138-0013-8000\n13900000000\n\nnot a phone\n")
    hashed = tmp_path / "hashed.csv"
    done = userpkg("hash-phones", str(raw), str(hashed))
    assert done.returncode == 0, done.stderr
    assert hashed.read_text().split() == [
        hashlib.md5(b"13800138000").hexdigest(),
        hashlib.md5(b"13900000000").hexdigest(),
    ]
    assert "hashed 2, blank 1, not a mobile number 1" in done.stderr
    linted = userpkg("lint", str(hashed), "--data-type", "md5-phone")
    assert linted.returncode == 0
    assert linted.stdout.split("\n")[:4] == ["lines 2", "blank 0", "malformed 0", "duplicates 0"]


def test_exit_statuses(world: World, config: Path, tmp_path: Path) -> None:
    api_error = userpkg("expand", "0" * 20, "nope", "--config", str(config))
    assert api_error.returncode == 1
    assert "NOT_FOUND" in api_error.stderr
    assert "Request-ID: " in api_error.stderr

    assert userpkg("expand", "0" * 20, "nope").returncode == 2, "no credentials"
    assert userpkg("lint", str(tmp_path / "missing.csv"), "--data-type", "openid").returncode == 2
    assert userpkg("lint", str(config), "--data-type", "unionid").returncode == 2

    host = FakeHost(world.server, faults=["bad-signature"])
    running = Running(host)
    try:
        forged = userpkg(
            "expand",
            "0" * 20,
            "nope",
            "--config",
            str(write_credentials(world.brand, tmp_path, running.base_url)),
        )
    finally:
        running.stop()
    assert forged.returncode == 3, forged.stderr
    assert "failed verification" in forged.stderr


@pytest.fixture
def unreachable(world: World, tmp_path: Path) -> Path:
    return write_credentials(world.brand, tmp_path, "http://127.0.0.1:9")


def test_no_answer_is_exit_1(unreachable: Path) -> None:
    result = subprocess.run(
        [*USERPKG, "expand", "0" * 20, "nope", "--config", str(unreachable)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "no answer from http://127.0.0.1:9" in result.stderr
