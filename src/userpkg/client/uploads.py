"""Uploading a file the way the API wants it, without ever holding the whole file in memory.

The SHA-256 is streamed; parts are read by offset and sent in parallel (bounded); a small
state file remembers which parts the service has acknowledged, so an interrupted upload
resumes where it stopped; `push` splits a large file at line boundaries into several uploads
and expands each, keeping a journal so that a push can be resumed and is not repeated by
accident. Filenames are unique per upload (the service refuses a filename twice).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from userpkg.client.client import BrandClient
from userpkg.client.credentials import Credentials
from userpkg.client.digests import READ, UploadDigests, file_digest
from userpkg.client.errors import ApiError
from userpkg.client.journal import Journal, Piece, Push, now
from userpkg.protocol import DataType, PackageType, ProcessState
from userpkg.protocol.models import (
    DESCRIPTION,
    ExpandResponse,
    InitUploadResponse,
    UserPackageFileInfo,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
POLL_FIRST, POLL_GROWTH, POLL_MAX = 0.2, 1.5, 30.0
Progress = Callable[[int], None]


PACKAGE_ID = re.compile(r"[0-9]{20}")


def description_problem(text: str) -> str | None:
    """What is wrong with an upload's description, said as the fix, or None."""
    low, high = DESCRIPTION
    if low <= len(text) <= high:
        return None
    unit = "character" if len(text) == 1 else "characters"
    return (
        f"description is {len(text)} {unit}; the service wants {low} to {high}: "
        "say in a sentence what the list is"
    )


def check_package_id(package_id: str) -> None:
    """Refuse a malformed package id before a byte is uploaded for it."""
    if not PACKAGE_ID.fullmatch(package_id):
        raise ValueError(
            f"USER_PACKAGE_ID {package_id[:40]!r} is not a user package id: those are 20 digits"
        )


def upload_filename(path: Path, token: str, piece: str | None = None) -> str:
    """A name the API accepts ([A-Za-z0-9_.-], .csv, ≤ 128), unique by its random token."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)[:80] or "audience"
    suffix = f"-{piece}" if piece is not None else ""
    return f"{stem}-{token}{suffix}.csv"


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
    filename: str = ""
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

    The plan owns the state file: which upload the bytes went to, under which filename, and
    which parts the service acknowledged. The uploaders only decide how the calls are made.
    """

    path: Path
    offset: int
    size: int
    digest: str
    filename: str
    key: str
    state_path: Path
    state: UploadState | None
    digests: UploadDigests | None = None

    @classmethod
    def make(
        cls,
        credentials: Credentials,
        states: Path,
        path: Path,
        offset: int = 0,
        length: int | None = None,
        piece: str | None = None,
        tag: str | None = None,
    ) -> UploadPlan:
        """An unfinished upload of the same bytes (and `tag`, a push's id) resumes."""
        digests = UploadDigests.of(path, offset, length)
        digest, size = digests.digest, digests.size
        where = f"{credentials.base_url}|{credentials.brand_id}|{path.resolve()}"
        key = f"{where}|{offset}|{size}|{digest}|{tag or ''}"
        state_path = states / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
        state = UploadState.load(state_path, key)
        if state is None:
            filename = upload_filename(path, tag or secrets.token_hex(4), piece)
        else:
            filename = state.filename or upload_filename(path, digest[:8], piece)
        return cls(path, offset, size, digest, filename, key, state_path, state, digests)

    def file_info(
        self, data_type: DataType, package_type: PackageType, description: str
    ) -> UserPackageFileInfo:
        problem = description_problem(description)
        if problem is not None:
            raise ValueError(problem)
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
            self.key,
            answer.upload_id,
            answer.part_size,
            answer.part_count,
            answer.expire_time,
            self.filename,
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
        """The part's bytes, read by offset, and their SHA-256 (hashed when the plan was made
        if the service's part size is the default, else now)."""
        assert self.state is not None
        with self.path.open("rb") as handle:
            handle.seek(self.offset + (number - 1) * self.state.part_size)
            data = handle.read(self._length(number))
        known = None if self.digests is None else self.digests.part(number, self.state.part_size)
        return data, known or hashlib.sha256(data).hexdigest()

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
        piece: str | None = None,
        tag: str | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload one file (or a byte range of it) and merge it; returns the upload_id.

        An unfinished upload of the same bytes (and `tag`, a push's id) resumes.
        """
        plan = UploadPlan.make(
            self.client.credentials, self.states, path, offset, length, piece, tag
        )
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

        todo = plan.todo()
        with ThreadPoolExecutor(self.parallel) as pool:
            # Start every worker before the first part goes: a worker started while another
            # one sends waits for the GIL, and the parts would leave one after the other.
            ready = threading.Barrier(min(self.parallel, len(todo)) + 1)
            for _ in range(ready.parties - 1):
                pool.submit(ready.wait)
            ready.wait()
            for number in pool.map(send, todo):
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
        again: bool = False,
        max_bytes: int = MAX_FILE_BYTES,
        journal: Journal | None = None,
        progress: Progress | None = None,
        on_piece: Callable[[Push, Piece, str], None] | None = None,
    ) -> PushResult:
        """Split at line boundaries into uploads of at most `max_bytes`, expand each.

        Resumes an interrupted push of the same file into the same package; refuses to
        repeat a finished one unless `again`. The first refused expand stops the push.
        """
        check_package_id(package_id)
        problem = description_problem(description)
        if problem is not None:
            raise ValueError(problem)
        journal = journal or Journal()
        creds = self.client.credentials
        digest, size = file_digest(path)
        earlier = [
            p
            for p in journal.same(creds.base_url, creds.brand_id, package_id, digest)
            if (p.data_type, p.package_type) == (data_type.value, package_type.value)
        ]
        unfinished = [p for p in earlier if not p.expanded]
        resumed = bool(unfinished)
        if unfinished:
            push = unfinished[-1]
        elif earlier and not again:
            raise AlreadyPushed(earlier[-1])
        else:
            push = journal.new(
                base_url=creds.base_url,
                brand_id=creds.brand_id,
                user_package_id=package_id,
                file=str(path.resolve()),
                file_digest=digest,
                file_size=size,
                data_type=data_type.value,
                package_type=package_type.value,
            )
            push.pieces = [
                Piece(n, offset, length)
                for n, (offset, length) in enumerate(split_points(path, max_bytes), 1)
            ]
            journal.save(push)
        total = len(push.pieces)
        for piece in push.pieces:
            label = f"{piece.number}/{total}"
            if piece.state:
                if on_piece is not None:
                    on_piece(push, piece, "skipped")
                if progress is not None:
                    progress(piece.length)
                continue
            if piece.upload_id is None:
                piece.upload_id = self.upload_file(
                    path,
                    data_type,
                    package_type,
                    description,
                    offset=piece.offset,
                    length=piece.length,
                    piece=f"{piece.number}of{total}" if total > 1 else None,
                    tag=push.push_id,
                    progress=progress,
                )
                journal.save(push)
            elif progress is not None:
                progress(piece.length)
            try:
                answer = self.client.expand(package_id, piece.upload_id)
            except ApiError as exc:
                raise ExpandRefused(exc, label, package_id, package_type) from None
            piece.state, piece.return_message = answer.state, answer.return_message
            piece.checked_at = now()
            journal.save(push)
            if on_piece is not None:
                on_piece(push, piece, "expanded")
        if wait:
            for piece in push.pieces:
                final = self.wait(package_id, str(piece.upload_id))
                piece.state, piece.return_message = final.state, final.return_message
                piece.checked_at = now()
                journal.save(push)
        return PushResult(push, resumed)

    def wait(
        self,
        package_id: str,
        upload_id: str,
        *,
        timeout: float | None = None,
        on_poll: Callable[[ExpandResponse, float], None] | None = None,
    ) -> ExpandResponse:
        """Poll the expand until it is final (or `timeout` passes), backing off 0.2 s → 30 s."""
        started = time.monotonic()
        delay = POLL_FIRST
        while True:
            answer = self.client.expand(package_id, upload_id)
            waited = time.monotonic() - started
            if on_poll is not None:
                on_poll(answer, waited)
            if answer.is_final:
                return answer
            if timeout is not None and waited >= timeout:
                raise WaitTimeout(package_id, upload_id, answer, waited)
            pause = delay if timeout is None else min(delay, max(0.0, timeout - waited))
            time.sleep(pause)
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


EFFECTIVE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def effective_time(return_message: str | None) -> str | None:
    """The effective time an expand's return_message names, if any."""
    found = EFFECTIVE.search(return_message or "")
    return found.group(0) if found else None


@dataclass
class PushResult:
    """What a push did: its journal entry (pieces and their states), and whether it resumed."""

    push: Push
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return all(p.state != ProcessState.FAILED.value for p in self.push.pieces)


class AlreadyPushed(Exception):
    """This machine already pushed these bytes into this package; `--again` repeats it."""

    def __init__(self, push: Push) -> None:
        added = "; ".join(
            f"{p.number}/{len(push.pieces)} {p.state}: {p.return_message}" for p in push.pieces
        )
        super().__init__(
            f"this machine already pushed {push.file} (the same bytes) into package "
            f"{push.user_package_id} at {push.started_at} (push {push.push_id}): {added}. "
            "Pass --again to push it again (`userpkg status` lists pushes)"
        )
        self.push = push


class ExpandRefused(Exception):
    """The service refused a piece's expand: the push stops there and says what to change."""

    def __init__(
        self, error: ApiError, label: str, package_id: str, package_type: PackageType
    ) -> None:
        hint = "check USER_PACKAGE_ID and --package-type"
        if error.status == 404:
            hint = (
                f"package {package_id} is not one of this brand's packages: check USER_PACKAGE_ID"
            )
        found = re.search(r"is (USER_PACKAGE_TYPE_[A-Z_]+)", error.message)
        if found and found.group(1) != package_type.value:
            option = found.group(1).removeprefix("USER_PACKAGE_TYPE_").lower().replace("_", "-")
            hint = f"package {package_id} is {option}: pass --package-type {option}"
        super().__init__(
            f"piece {label}: the expand was refused ({error.code}: {error.message}); {hint}. "
            "Nothing further was sent"
        )
        self.error = error
        self.hint = hint


class WaitTimeout(Exception):
    """An expand was still not final when --timeout passed."""

    def __init__(
        self, package_id: str, upload_id: str, answer: ExpandResponse, waited: float
    ) -> None:
        when = effective_time(answer.return_message)
        super().__init__(
            f"still {answer.state} after {waited:.0f} s"
            + (f" (takes effect at {when})" if when else "")
            + f"; poll later with `userpkg expand {package_id} {upload_id} --wait` "
            "or `userpkg status`"
        )
        self.answer = answer
        self.upload_id = upload_id
