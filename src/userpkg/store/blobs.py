"""Parts and merged files on disk, written so that an acknowledged byte survives a crash.

Every file is fsync'd (and its directory) before the caller acknowledges it. An upload's parts
are written at their offsets into one file, so the merge only reads and hashes it and links
it into place under the merged file's name: the bytes go to disk once, not twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Protocol

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection

from userpkg.store.running_digests import RunningDigests

CHUNK = 1 << 20
_HOLD = threading.RLock()


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file so a crash leaves the old one or the new one: temp, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class StagedFile:
    """A file being received: written chunk by chunk, hashed as it goes, never held in memory."""

    def __init__(self, directory: Path) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".staging-")
        self.path = Path(name)
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self, *, durable: bool = True) -> None:
        """Close once the last chunk is written; `durable` flushes it to disk first."""
        if not self._file.closed:
            self._file.flush()
            if durable:
                os.fsync(self._file.fileno())
            self._file.close()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class BlobStore(Protocol):
    """Where parts, merged files and small named blobs (deltas) live.

    Methods that take `conn` run inside the caller's transaction, so a database store
    commits the bytes together with the row that points at them.
    """

    def stage(self) -> StagedFile: ...
    def clear_staging(self) -> None: ...
    def hold(self, upload_id: str) -> AbstractContextManager[None]: ...
    def write_part(self, staged: StagedFile, upload_id: str, offset: int) -> None: ...
    def keep_part(
        self, staged: StagedFile, upload_id: str, part_number: int, offset: int, conn: Connection
    ) -> None: ...
    def merge(
        self, upload_id: str, parts: Mapping[int, str], resource_id: str, conn: Connection
    ) -> tuple[int, str]: ...
    def has_file(self, resource_id: str) -> bool: ...
    def merged_files(self, written_before: float) -> list[str]: ...
    def open_file(self, resource_id: str) -> AbstractContextManager[BinaryIO]: ...
    def delete_parts(self, upload_id: str) -> None: ...
    def delete_file(self, resource_id: str) -> None: ...
    def put(self, name: str, data: bytes) -> None: ...
    def get(self, name: str) -> bytes | None: ...
    def delete(self, name: str) -> None: ...


class FileBlobStore:
    """Blobs under one directory: `parts/<upload_id>/assembly`, `files/<resource_id>`, `named/…`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._staging = root / "staging"
        self._parts = root / "parts"
        self._files = root / "files"
        self._named = root / "named"
        for path in (self._staging, self._parts, self._files, self._named):
            path.mkdir(parents=True, exist_ok=True)
        self._running = RunningDigests()

    def stage(self) -> StagedFile:
        return StagedFile(self._staging)

    def clear_staging(self) -> None:
        """Remove half-received files left by a crash; called at start-up."""
        for leftover in self._staging.glob(".staging-*"):
            leftover.unlink(missing_ok=True)

    def _assembly(self, upload_id: str) -> Path:
        return self._parts / upload_id / "assembly"

    @contextmanager
    def hold(self, upload_id: str) -> Iterator[None]:
        """The upload's lock, across processes (its directory's): one part or the merge at a
        time writes or reads its file, so a part's bytes match its row and no part changes a
        merged file. Held outside the database's write lock, while the disk flushes."""
        directory = self._parts / upload_id
        created = not directory.exists()
        directory.mkdir(exist_ok=True)
        if fcntl is None:
            with _HOLD:
                yield
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
            if created:
                with suppress(OSError):
                    directory.rmdir()

    def write_part(self, staged: StagedFile, upload_id: str, offset: int) -> None:
        """Copy a checked part to its offset in the upload's file and flush that file. The
        staged copy is not flushed: it is dropped, only the upload's file must survive."""
        staged.finish(durable=False)
        target = self._assembly(upload_id)
        created = not target.exists()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            with staged.path.open("rb") as source:
                _copy_range(source.fileno(), fd, staged.size, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(target.parent)
            _fsync_dir(self._parts)
        self._running.written(upload_id, target, offset, staged.size, staged.sha256)

    def keep_part(
        self, staged: StagedFile, upload_id: str, part_number: int, offset: int, conn: Connection
    ) -> None:
        """Nothing left to do: `write_part` wrote and flushed the bytes."""

    def merge(
        self, upload_id: str, parts: Mapping[int, str], resource_id: str, conn: Connection
    ) -> tuple[int, str]:
        """Hash the upload's file and link it in as `resource_id`; returns (size, sha256).
        `parts` maps each part's offset to its row's digest (see `RunningDigests`).

        The parts' name stays until `delete_parts`, after the caller commits, so a merge
        that fails or is killed can be tried again."""
        source = self._assembly(upload_id)
        size, digest = self._running.file_digest(upload_id, source, parts)
        target = self._files / resource_id
        os.link(source, target)
        os.utime(target)
        _fsync_dir(self._files)
        return size, digest

    def has_file(self, resource_id: str) -> bool:
        return (self._files / resource_id).exists()

    def merged_files(self, written_before: float) -> list[str]:
        """Merged files written before a time: a merge still committing wrote its file later."""
        found = []
        for path in self._files.iterdir():
            try:
                if path.stat().st_mtime < written_before:
                    found.append(path.name)
            except FileNotFoundError:
                continue
        return found

    @contextmanager
    def open_file(self, resource_id: str) -> Iterator[BinaryIO]:
        with (self._files / resource_id).open("rb") as handle:
            yield handle

    def delete_parts(self, upload_id: str) -> None:
        self._running.forget(upload_id)
        shutil.rmtree(self._parts / upload_id, ignore_errors=True)

    def delete_file(self, resource_id: str) -> None:
        (self._files / resource_id).unlink(missing_ok=True)

    def _named_path(self, name: str) -> Path:
        return self._named / name

    def put(self, name: str, data: bytes) -> None:
        """A small named blob, written atomically."""
        write_atomically(self._named_path(name), data)

    def get(self, name: str) -> bytes | None:
        try:
            return self._named_path(name).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        self._named_path(name).unlink(missing_ok=True)


def _copy_range(source: int, target: int, length: int, offset: int) -> None:
    """Copy `length` bytes from the start of `source` to `offset` in `target`: in the kernel
    where it can (`copy_file_range`), else through a buffer."""
    done = 0
    if hasattr(os, "copy_file_range"):
        try:
            while done < length:
                copied = os.copy_file_range(
                    source, target, length - done, offset_src=done, offset_dst=offset + done
                )
                if copied == 0:
                    break
                done += copied
        except OSError:
            done = 0
    while done < length:
        chunk = os.pread(source, min(CHUNK, length - done), done)
        if not chunk:
            raise OSError(f"the staged part ended after {done} of {length} bytes")
        done += os.pwrite(target, chunk, offset + done)
