"""A sandbox service in a subprocess, for one test or one `with` block."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from userpkg.client.operator import OperatorClient
from userpkg.testing.admin import SandboxAdmin

DEFAULT_USERS = 1_000
"""Users a kit sandbox provisions: enough to match files against, quick to create."""
START_SECONDS = 60.0
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3


class SandboxStartError(RuntimeError):
    """The sandbox did not come up; the message ends with its log."""


@dataclass
class Sandbox:
    base_url: str
    manifest: dict[str, Any]
    credentials_path: Path
    brand_id: str
    package_ids: dict[str, str]
    """Package type (`USER_PACKAGE_TYPE_…`) → user_package_id."""
    admin: SandboxAdmin
    data_dir: Path
    log_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, manifest: Path) -> bool:
    """True once /readyz answers; False if the process exited (say, the port was taken)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if manifest.exists():
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    _stop(proc)
    raise SandboxStartError(f"the sandbox did not answer at {base_url} in {START_SECONDS:g} s")


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-3000:]


@contextmanager
def sandbox(
    *,
    users: int = DEFAULT_USERS,
    data_dir: Path | None = None,
    sync_delay: str = "0s",
    extra_args: tuple[str, ...] = (),
) -> Iterator[Sandbox]:
    """A running sandbox for the `with` block; its data directory is removed afterwards
    unless you passed one."""
    with tempfile.TemporaryDirectory(prefix="userpkg-sandbox-") as scratch:
        data = data_dir or Path(scratch) / "data"
        log_path = Path(scratch) / "serve.log"
        manifest_path = data / "sandbox" / "sandbox.json"
        with log_path.open("ab") as log:
            for _ in range(PORT_ATTEMPTS):
                port = _free_port()
                base_url = f"http://127.0.0.1:{port}"
                command = [
                    sys.executable,
                    "-m",
                    "userpkg",
                    "serve",
                    "--sandbox",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--data",
                    str(data),
                    "--sandbox-users",
                    str(users),
                    "--sync-delay",
                    sync_delay,
                    "--log-level",
                    "WARNING",
                    *extra_args,
                ]
                proc = subprocess.Popen(  # noqa: S603 - this interpreter, our arguments
                    command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ}
                )
                if _wait_ready(proc, base_url, manifest_path):
                    break
                if "address already in use" not in _tail(log_path).lower():
                    raise SandboxStartError(f"the sandbox exited early:\n{_tail(log_path)}")
            else:
                raise SandboxStartError(f"no free port after {PORT_ATTEMPTS} tries")
            try:
                manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
                admin = SandboxAdmin(
                    OperatorClient(base_url, manifest["admin_token"]), manifest["brand_id"]
                )
                try:
                    yield Sandbox(
                        base_url=base_url,
                        manifest=manifest,
                        credentials_path=Path(manifest["credentials_path"]),
                        brand_id=manifest["brand_id"],
                        package_ids={
                            p["package_type"]: p["user_package_id"]
                            for p in manifest["user_packages"]
                        },
                        admin=admin,
                        data_dir=data,
                        log_path=log_path,
                    )
                finally:
                    admin.close()
            finally:
                _stop(proc)
