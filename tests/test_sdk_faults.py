"""The SDK and the CLI on a bad day: every fault kind against a real sandbox service.

The documented behaviour: 5xx, 429, dropped and lost answers are retried with the same body
bytes signed anew; a response that fails verification (bad signature, stale timestamp, wrong
serial) is an error (`SignatureError`, exit status 3); a lost expand or merge answer is
retried without a second task; an interrupted upload resumes, sync and async alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from userpkg.client import AsyncBrandClient, BrandClient, Credentials, SignatureError
from userpkg.client.async_uploads import AsyncUploader
from userpkg.client.client import RetryPolicy
from userpkg.client.errors import ApiError
from userpkg.client.uploads import Uploader
from userpkg.protocol import DataType, PackageType
from userpkg.protocol.models import UserPackageFileInfo
from userpkg.testing import Sandbox

from .processes import USERPKG

T = TypeVar("T")
TARGETED = "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"
QUICK = RetryPolicy(attempts=5, base_seconds=0.01, cap_seconds=0.05)


@pytest.fixture
def sb(sandbox_service: Sandbox) -> Iterator[Sandbox]:
    yield sandbox_service
    for rule in sandbox_service.admin.faults():
        sandbox_service.admin.delete_fault(rule["fault_id"])


class Sdk:
    """One face for BrandClient and AsyncBrandClient, so each test runs on both."""

    def __init__(self, sb: Sandbox, kind: str, states: Path) -> None:
        self.kind = kind
        self.credentials = Credentials.resolve(sb.credentials_path)
        self.states = states
        self.retries = QUICK

    def run(self, work: Callable[[Any, Any], Any]) -> Any:
        """`work(client, uploader)`: plain calls for sync, awaitables for async."""
        if self.kind == "sync":
            with BrandClient(self.credentials, retries=self.retries) as client:
                return work(client, Uploader(client, parallel=1, states=self.states))

        async def main() -> Any:
            async with AsyncBrandClient(self.credentials, retries=self.retries) as client:
                result = work(client, AsyncUploader(client, parallel=1, states=self.states))
                return await result if asyncio.iscoroutine(result) else result

        return asyncio.run(main())

    def call(self, name: str, *args: Any, **kw: Any) -> Any:
        return self.run(lambda client, _up: getattr(client, name)(*args, **kw))

    def upload(self, path: Path, progress: Callable[[int], None] | None = None) -> str:
        return str(
            self.run(
                lambda _c, up: up.upload_file(
                    path,
                    DataType.OPENID,
                    PackageType.TARGETED_EXPOSURE,
                    "a file for the fault tests",
                    progress=progress,
                )
            )
        )


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest, sb: Sandbox, tmp_path: Path) -> Sdk:
    return Sdk(sb, str(request.param), tmp_path / "states")


def info(data: bytes) -> UserPackageFileInfo:
    import hashlib

    return UserPackageFileInfo(
        filename=f"sdk-{secrets.token_hex(6)}.csv",
        digest=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        package_type=PackageType.TARGETED_EXPOSURE,
        data_type=DataType.OPENID,
        description="a file for the fault tests",
    )


def csv_file(directory: Path, lines: int = 3) -> Path:
    path = directory / f"f-{secrets.token_hex(4)}.csv"
    path.write_text("".join(f"{secrets.token_urlsafe(21)[:28]}\n" for _ in range(lines)))
    return path


def test_retries_a_500_with_the_same_bytes_signed_anew(
    sdk: Sdk, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    rule = sb.admin.add_fault("init_upload", "error", status=500, times=2)
    data = b"x" * 28 + b"\n"
    with caplog.at_level(logging.DEBUG, logger="userpkg.client.wire"):
        opened = sdk.call("init_upload", info(data))
    assert opened.part_count == 1
    tries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("→ POST")]
    assert len(tries) == 3
    bodies = {t.split(" body=", 1)[1] for t in tries}
    assert len(bodies) == 1, "every try sends the very same body"
    nonces = {re.search(r'nonce_str="([^"]+)"', t).group(1) for t in tries}  # type: ignore[union-attr]
    assert len(nonces) == 3, "every try is signed anew"
    answers = [r.getMessage() for r in caplog.records if r.getMessage().startswith("← ")]
    assert [a.split()[1] for a in answers] == ["500", "500", "200"]
    assert sb.admin.faults() == []
    assert rule["times"] == 2


def test_honours_retry_after_on_429(sdk: Sdk, sb: Sandbox) -> None:
    sb.admin.add_fault("init_upload", "error", status=429, code="RATELIMIT_EXCEEDED", retry_after=1)
    sdk.retries = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=1.0)
    started = time.monotonic()
    assert sdk.call("init_upload", info(b"y" * 28 + b"\n")).part_count == 1
    assert time.monotonic() - started >= 1.0


def test_survives_a_delay_and_a_dropped_connection(sdk: Sdk, sb: Sandbox) -> None:
    sb.admin.add_fault("init_upload", "drop")
    sb.admin.add_fault("init_upload", "delay", delay_ms=300)
    assert sdk.call("init_upload", info(b"d" * 28 + b"\n")).part_count == 1
    assert sb.admin.faults() == []


def test_lost_answers_to_merge_and_expand_make_no_second_task(
    sdk: Sdk, sb: Sandbox, tmp_path: Path
) -> None:
    path = csv_file(tmp_path)
    sb.admin.add_fault("merge_upload", "lost_response")
    upload_id = sdk.upload(path)
    sb.admin.add_fault("expand", "lost_response")
    answer = sdk.call("expand", sb.package_ids[TARGETED], upload_id)
    assert answer.state.startswith("USER_PACKAGE_PROCESS_STATE_")
    tasks = [t for t in sb.admin.tasks(sb.package_ids[TARGETED]) if t["upload_id"] == upload_id]
    assert len(tasks) == 1
    assert sb.admin.faults() == []


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("bad_signature", "does not verify"),
        ("stale_timestamp", "away from the local clock"),
        ("wrong_serial", "signed with key"),
    ],
)
def test_an_answer_that_fails_verification_is_refused(
    sdk: Sdk, sb: Sandbox, kind: str, reason: str
) -> None:
    sb.admin.add_fault("init_upload", kind)
    with pytest.raises(SignatureError, match=reason) as refused:
        sdk.call("init_upload", info(b"v" * 28 + b"\n"))
    assert refused.value.request_id


def test_a_failed_task_is_reported_failed(sdk: Sdk, sb: Sandbox, tmp_path: Path) -> None:
    upload_id = sdk.upload(csv_file(tmp_path))
    sb.admin.add_fault("expand", "task_failed", message="injected: the import broke")
    package = sb.package_ids[TARGETED]
    final = sdk.run(lambda _c, up: up.wait(package, upload_id, timeout=30))
    assert final.state == "USER_PACKAGE_PROCESS_STATE_FAILED"
    assert final.return_message == "injected: the import broke"


def test_an_interrupted_upload_resumes_where_it_stopped(
    sdk: Sdk, sb: Sandbox, tmp_path: Path
) -> None:
    part_size = 4 * 1024 * 1024
    path = tmp_path / "two-parts.csv"
    line = b"%028d\n"
    with path.open("wb") as handle:
        for number in range(part_size // 29 + 100):
            handle.write(line % number)
    # One rule per request, oldest first: part 1 passes (a 1 ms delay), part 2 is refused.
    sb.admin.add_fault("upload_part", "delay", delay_ms=1)
    sb.admin.add_fault("upload_part", "error", status=400, code="PARAM_ERROR")
    with pytest.raises(ApiError, match="PARAM_ERROR"):
        sdk.upload(path)
    (state,) = list((tmp_path / "states").glob("*.json"))
    remembered = json.loads(state.read_text())
    assert remembered["done"] == [1]

    upload_id = remembered["upload_id"]

    def accepted(part: str) -> int:
        shown = f"{upload_id[:12]}…{upload_id[-4:]}/{part}"
        return sum(
            1
            for e in sb.admin.requests(200)
            if e["method"] == "PUT" and e["status"] == 200 and e["path"].endswith(shown)
        )

    def settled(part: str, at_least: int) -> int:
        """Each API process writes its request log in batches: give the other one a moment."""
        deadline = time.monotonic() + 10
        while accepted(part) < at_least and time.monotonic() < deadline:
            time.sleep(0.2)
        return accepted(part)

    part_1_before = settled("1", 1)
    assert settled("2", 0) == 0, "part 2 was refused the first time"

    assert sdk.upload(path) == upload_id, "the same upload, resumed"
    assert not state.exists(), "a finished upload forgets its state"
    assert settled("2", 1) >= 1
    assert accepted("1") == part_1_before, "part 1 was not sent again"


def cli(sb: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*USERPKG, *args, "--config", str(sb.credentials_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("USERPKG_")},
    )


def test_cli_through_every_fault_kind(sb: Sandbox, tmp_path: Path) -> None:
    package = sb.package_ids[TARGETED]
    path = csv_file(tmp_path)
    sb.admin.add_fault("init_upload", "error", status=503)
    sb.admin.add_fault("upload_part", "drop")
    sb.admin.add_fault("merge_upload", "lost_response")
    uploaded = cli(
        sb,
        "upload",
        str(path),
        "--data-type",
        "openid",
        "--package-type",
        "targeted-exposure",
        "--description",
        "a file for the CLI fault test",
    )
    assert uploaded.returncode == 0, uploaded.stderr
    upload_id = uploaded.stdout.split()[-1]
    assert sb.admin.faults() == []

    for kind in ("bad_signature", "stale_timestamp", "wrong_serial"):
        sb.admin.add_fault("expand", kind)
        refused = cli(sb, "expand", package, upload_id)
        assert refused.returncode == 3, (kind, refused.stderr)
        assert "failed verification" in refused.stderr

    sb.admin.add_fault("expand", "lost_response")
    sb.admin.add_fault("expand", "delay", delay_ms=200)
    expanded = cli(sb, "expand", package, upload_id)
    assert expanded.returncode == 0, expanded.stderr
    assert sb.admin.faults() == []
    assert [t["upload_id"] for t in sb.admin.tasks(package)].count(upload_id) == 1

    second = Sdk(sb, "sync", tmp_path / "states").upload(csv_file(tmp_path))
    sb.admin.add_fault("expand", "task_failed", message="injected for the CLI")
    failed = cli(sb, "expand", package, second, "--wait")
    assert failed.returncode == 1
    assert "FAILED" in failed.stdout
    assert "injected for the CLI" in failed.stderr


def test_an_error_answer_off_only_by_its_timestamp_names_the_clock(sb: Sandbox) -> None:
    """The service's words are still shown, marked UNVERIFIED, with the setting to fix."""
    sb.admin.add_fault("expand", "stale_timestamp")
    refused = cli(sb, "expand", sb.package_ids[TARGETED], "nope")
    assert refused.returncode == 3, refused.stderr
    assert "600 s away from the local clock" in refused.stderr
    assert "fix: check the clock" in refused.stderr
    assert "UNVERIFIED" in refused.stderr
    assert "upload nope not found" in refused.stderr


def test_the_wire_log_shows_no_key_no_full_signature_no_token(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = csv_file(tmp_path)
    secret_lines = path.read_text().split()
    sdk = Sdk(sb, "sync", tmp_path / "states")
    with caplog.at_level(logging.DEBUG, logger="userpkg.client.wire"):
        upload_id = sdk.upload(path)
        sb.admin.add_fault("expand", "bad_signature")
        with pytest.raises(SignatureError):
            sdk.call("expand", sb.package_ids[TARGETED], upload_id)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "→ PUT" in text
    assert "← 200 POST" in text
    key = Path(sb.manifest["brand_private_key_path"]).read_text()
    assert "PRIVATE KEY" not in text
    assert key.splitlines()[1] not in text
    assert sb.manifest["admin_token"] not in text
    for signature in re.findall(r'signature="([^"]*)"', text):
        assert len(signature.rstrip("…")) <= 8
    for line in secret_lines:
        assert line not in text, "the file's lines (openids) never reach the log"
