"""Running `userpkg` as a real process in tests: a free port, wait for health, stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

USERPKG = [sys.executable, "-m", "userpkg"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        self.args = args
        self.log_path = log
        self._log = log.open("ab")
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*USERPKG, *self.args, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        """Wait for /healthz; if another process took the port meanwhile, start again."""
        deadline = time.monotonic() + timeout
        retries = 3
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log_path.read_text(errors="replace")
                if "address already in use" in log.lower() and retries:
                    retries -= 1
                    self._start()
                    continue
                raise RuntimeError(f"userpkg exited early:\n{log[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"userpkg did not become healthy:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> bool:
        """SIGTERM, as a supervisor would; True if the service shut down gracefully."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        graceful = "Finished server process" in self.log_path.read_text(errors="replace")
        return self.proc.returncode in (0, -signal.SIGTERM) and graceful
