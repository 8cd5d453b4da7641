"""Service configuration: one frozen object built by the CLI and read everywhere below it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1 << 20

_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class SyncDelay:
    """When an expand takes effect: `T+n` (midnight Asia/Shanghai, n days on) or a duration."""

    days: int | None = None
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> SyncDelay:
        text = text.strip()
        if text.upper().startswith("T+") and text[2:].isdigit():
            return cls(days=int(text[2:]))
        match = _DURATION.match(text)
        if match:
            return cls(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        raise ValueError(
            f"sync delay must be T+N (e.g. T+2) or a duration like 0s, 30s, 5m: {text!r}"
        )

    def __str__(self) -> str:
        return f"T+{self.days}" if self.days is not None else f"{self.seconds}s"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("userpkg-data")
    db_url: str | None = None
    sandbox: bool = False
    sync_delay: SyncDelay = field(default_factory=lambda: SyncDelay(days=2))
    part_size: int = 4 * MiB
    max_file_size: int = 20 * MiB
    upload_ttl_seconds: int = 24 * 3600
    nonce_ttl_seconds: int = 600
    timestamp_window_seconds: int = 300
    rate_per_second: float = 20.0
    rate_burst: int = 40
    max_json_body: int = 64 * 1024
    request_log_keep: int = 1000
    admin_token: str | None = None
    lease_seconds: int = 10
    blob_dir: Path | None = None
    shared_limits: bool = False
    processing: bool = True
    faults: bool = False

    @property
    def faults_enabled(self) -> bool:
        """Fault rules (SPEC §10) exist in a sandbox and where `serve --faults` asked for them."""
        return self.sandbox or self.faults

    @property
    def max_part_body(self) -> int:
        """A part upload's body limit: one part plus room for the multipart framing and meta."""
        return self.part_size + 64 * 1024
