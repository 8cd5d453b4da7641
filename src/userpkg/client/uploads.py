"""Uploading a file the way the API wants it, without ever holding the whole file in memory.

The SHA-256 is streamed; parts are read by offset and sent in parallel (bounded); a small
state file remembers which parts the service has acknowledged, so an interrupted upload
resumes where it stopped; `push` splits a large file at line boundaries into several uploads
and expands each.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from userpkg.client.client import BrandClient
from userpkg.client.credentials import Credentials
from userpkg.client.errors import ApiError
from userpkg.protocol import DataType, PackageType, ProcessState
from userpkg.protocol.audience import lint_counts
from userpkg.protocol.models import ExpandResponse, InitUploadResponse, UserPackageFileInfo

MAX_FILE_BYTES = 20 * 1024 * 1024
READ = 1 << 20
Progress = Callable[[int], None]


def file_digest(path: Path, offset: int = 0, length: int | None = None) -> tuple[str, int]:
    """SHA-256 and size of a byte range of a file, read a MiB at a time."""
    digest = hashlib.sha256()
    size = 0
    remaining = length
    with path.open("rb") as handle:
        handle.seek(offset)
        while remaining is None or remaining > 0:
            chunk = handle.read(READ if remaining is None else min(READ, remaining))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest(), size


def upload_filename(path: Path, digest: str, piece: int | None = None) -> str:
    """A name the API accepts ([A-Za-z0-9_.-], .csv, ≤ 128) and unique per content."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)[:80] or "audience"
    suffix = f"-{piece:03d}" if piece is not None else ""
    return f"{stem}{suffix}-{digest[:12]}.csv"


def state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "userpkg" / "uploads"


@dataclass
class UploadState:
    """What a resumed upload needs: the upload id and which parts the service acknowledged."""

    key: str
    upload_id: str
    part_size: int
    part_count: int
    expire_time: str
    done: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, key: str) -> UploadState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("key") != key:
            return None
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__), encoding="utf-8")
        os.replace(tmp, path)


@dataclass
class UploadPlan:
    """One file's upload as resumable steps, shared by `Uploader` and `AsyncUploader`.

    The plan owns the state file: which upload the file went to and which parts the service
    acknowledged. The uploaders only decide how the calls are made (threads or asyncio).
    """

    path: Path
    offset: int
    size: int
    digest: str
    filename: str
    key: str
    state_path: Path
    state: UploadState | None

    @classmethod
    def make(
        cls,
        credentials: Credentials,
        states: Path,
        path: Path,
        offset: int = 0,
        length: int | None = None,
        piece: int | None = None,
    ) -> UploadPlan:
        digest, size = file_digest(path, offset, length)
        where = f"{credentials.base_url}|{credentials.brand_id}|{path.resolve()}"
        key = f"{where}|{offset}|{size}|{digest}"
        state_path = states / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
        filename = upload_filename(path, digest, piece)
        state = UploadState.load(state_path, key)
        return cls(path, offset, size, digest, filename, key, state_path, state)

    def file_info(
        self, data_type: DataType, package_type: PackageType, description: str
    ) -> UserPackageFileInfo:
        return UserPackageFileInfo(
            filename=self.filename,
            digest=self.digest,
            file_size=self.size,
            package_type=package_type,
            data_type=data_type,
            description=description,
        )

    def opened(self, answer: InitUploadResponse) -> UploadState:
        """Remember the new upload before any part is sent, so a crash can resume it."""
        self.state = UploadState(
            self.key, answer.upload_id, answer.part_size, answer.part_count, answer.expire_time
        )
        self.state.save(self.state_path)
        return self.state

    @property
    def upload_id(self) -> str:
        assert self.state is not None, "open the upload first"
        return self.state.upload_id

    def _length(self, number: int) -> int:
        assert self.state is not None
        return min(self.state.part_size, self.size - (number - 1) * self.state.part_size)

    def done_bytes(self) -> int:
        return 0 if self.state is None else sum(self._length(n) for n in self.state.done)

    def todo(self) -> list[int]:
        assert self.state is not None
        done = set(self.state.done)
        return [n for n in range(1, self.state.part_count + 1) if n not in done]

    def part(self, number: int) -> tuple[bytes, str]:
        """The part's bytes, read by offset, and their SHA-256."""
        assert self.state is not None
        with self.path.open("rb") as handle:
            handle.seek(self.offset + (number - 1) * self.state.part_size)
            data = handle.read(self._length(number))
        return data, hashlib.sha256(data).hexdigest()

    def acknowledged(self, number: int) -> int:
        """Record an acknowledged part; returns its size for progress."""
        assert self.state is not None
        self.state.done.append(number)
        self.state.save(self.state_path)
        return self._length(number)

    def failed(self, error: ApiError) -> None:
        """An expired upload cannot be resumed: forget it, so the next try starts afresh."""
        if error.code in ("NOT_FOUND", "INVALID_REQUEST") and "expired" in error.message:
            self.state_path.unlink(missing_ok=True)

    def finished(self) -> None:
        self.state_path.unlink(missing_ok=True)


def piece_result(upload_id: str, length: int, answer: ExpandResponse) -> dict[str, Any]:
    """What `push` reports for one piece."""
    return {
        "upload_id": upload_id,
        "bytes": length,
        "state": answer.state,
        "return_message": answer.return_message,
    }


POLL_FIRST, POLL_GROWTH, POLL_MAX = 0.2, 1.5, 30.0


class Uploader:
    def __init__(
        self,
        client: BrandClient,
        *,
        parallel: int = 4,
        states: Path | None = None,
    ) -> None:
        self.client = client
        self.parallel = parallel
        self.states = states or state_dir()

    def upload_file(
        self,
        path: Path,
        data_type: DataType,
        package_type: PackageType,
        description: str,
        *,
        offset: int = 0,
        length: int | None = None,
        piece: int | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload one file (or a byte range of it) and merge it; returns the upload_id."""
        plan = UploadPlan.make(self.client.credentials, self.states, path, offset, length, piece)
        if plan.state is None:
            plan.opened(
                self.client.init_upload(plan.file_info(data_type, package_type, description))
            )
        elif progress is not None:
            progress(plan.done_bytes())
        try:
            self._send_parts(plan, progress)
            self.client.merge(plan.upload_id)
        except ApiError as exc:
            plan.failed(exc)
            raise
        plan.finished()
        return plan.upload_id

    def _send_parts(self, plan: UploadPlan, progress: Progress | None) -> None:
        def send(number: int) -> int:
            data, digest = plan.part(number)
            self.client.upload_part(plan.upload_id, number, data, digest, plan.filename)
            return number

        with ThreadPoolExecutor(self.parallel) as pool:
            for number in pool.map(send, plan.todo()):
                sent = plan.acknowledged(number)
                if progress is not None:
                    progress(sent)

    def push(
        self,
        package_id: str,
        path: Path,
        data_type: DataType,
        package_type: PackageType,
        description: str,
        *,
        wait: bool = False,
        max_bytes: int = MAX_FILE_BYTES,
        progress: Progress | None = None,
        on_piece: Callable[[dict[str, Any]], None] | None = None,
    ) -> PushResult:
        """Lint, split at line boundaries into uploads of at most `max_bytes`, expand each."""
        counts = lint_file(path, data_type)
        pieces = split_points(path, max_bytes)
        results: list[dict[str, Any]] = []
        for number, (offset, length) in enumerate(pieces, 1):
            upload_id = self.upload_file(
                path,
                data_type,
                package_type,
                description,
                offset=offset,
                length=length,
                piece=number if len(pieces) > 1 else None,
                progress=progress,
            )
            result = piece_result(upload_id, length, self.client.expand(package_id, upload_id))
            results.append(result)
            if on_piece is not None:
                on_piece(result)
        if wait:
            for result in results:
                final = self.wait(package_id, str(result["upload_id"]))
                result.update(state=final.state, return_message=final.return_message)
        return PushResult(counts, results)

    def wait(
        self,
        package_id: str,
        upload_id: str,
        *,
        timeout: float | None = None,
        on_poll: Callable[[ExpandResponse], None] | None = None,
    ) -> ExpandResponse:
        """Poll the expand until it is final, backing off from 0.2 s to 30 s between polls."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = POLL_FIRST
        while True:
            answer = self.client.expand(package_id, upload_id)
            if on_poll is not None:
                on_poll(answer)
            if answer.is_final or (deadline is not None and time.monotonic() >= deadline):
                return answer
            time.sleep(delay)
            delay = min(delay * POLL_GROWTH, POLL_MAX)


def split_points(path: Path, max_bytes: int = MAX_FILE_BYTES) -> list[tuple[int, int]]:
    """(offset, length) pieces of at most `max_bytes`, each ending at a line boundary."""
    size = path.stat().st_size
    pieces: list[tuple[int, int]] = []
    start = 0
    with path.open("rb") as handle:
        while size - start > max_bytes:
            handle.seek(start + max_bytes - 1)
            window_start = max(start, start + max_bytes - READ)
            handle.seek(window_start)
            window = handle.read(start + max_bytes - window_start)
            cut = window.rfind(b"\n")
            if cut < 0:
                raise ValueError(f"a line longer than {READ} bytes near offset {start}: not a CSV")
            end = window_start + cut + 1
            pieces.append((start, end - start))
            start = end
    if size > start:
        pieces.append((start, size - start))
    return pieces


def lint_file(path: Path, data_type: DataType) -> dict[str, int]:
    """Format counts of a file (SPEC §7) by the service's own parser, read 4 MiB at a time."""
    with path.open("rb") as handle:
        return lint_counts(iter(lambda: handle.read(4 * READ), b""), data_type)


@dataclass
class PushResult:
    """What a push did: the file's format counts and, per upload, its expand's state."""

    counts: dict[str, int]
    pieces: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return all(p["state"] != ProcessState.FAILED.value for p in self.pieces)
