"""Blobs in the database (PostgreSQL): 1 MiB rows, so every machine sees every byte.

A part's bytes are inserted in the same transaction as its row, and a merge writes the
merged file in the merge's transaction: a deployment needs nothing but the database.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, delete, func, insert, select

from userpkg.store.blobs import StagedFile
from userpkg.store.database import Database
from userpkg.store.schema import blob_chunks

CHUNK = 1 << 20


def _part(upload_id: str, number: int) -> str:
    return f"parts/{upload_id}/{number:05d}"


def _file(resource_id: str) -> str:
    return f"files/{resource_id}"


class _ChunkReader(io.RawIOBase):
    """Reads a blob's chunks in order, one row at a time: memory stays at one chunk."""

    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self._name = name
        self._seq = 0
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        with self._db.read() as conn:
            data = conn.execute(
                select(blob_chunks.c.data).where(
                    blob_chunks.c.name == self._name, blob_chunks.c.seq == self._seq
                )
            ).scalar()
        self._seq += 1
        return bytes(data) if data is not None else b""

    def read(self, size: int = -1) -> bytes:
        parts = [self._buffer]
        have = len(self._buffer)
        while size < 0 or have < size:
            chunk = self._next()
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if size < 0:
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]


class DatabaseBlobStore:
    def __init__(self, db: Database, staging: Path) -> None:
        self._db = db
        self._staging = staging
        staging.mkdir(parents=True, exist_ok=True)

    def stage(self) -> StagedFile:
        return StagedFile(self._staging)

    def clear_staging(self) -> None:
        for leftover in self._staging.glob(".staging-*"):
            leftover.unlink(missing_ok=True)

    @staticmethod
    def _write(conn: Connection, name: str, chunks: Iterator[bytes]) -> None:
        conn.execute(delete(blob_chunks).where(blob_chunks.c.name == name))
        for seq, chunk in enumerate(chunks):
            conn.execute(insert(blob_chunks).values(name=name, seq=seq, data=chunk))

    @contextmanager
    def hold(self, upload_id: str) -> Iterator[None]:
        """Nothing to hold: parts and merges take turns on the upload's row."""
        yield

    def write_part(self, staged: StagedFile, upload_id: str, offset: int) -> None:
        """Nothing yet: the part's bytes go in with its row, in `keep_part`."""

    def keep_part(
        self, staged: StagedFile, upload_id: str, part_number: int, offset: int, conn: Connection
    ) -> None:
        staged.finish(durable=False)
        with staged.path.open("rb") as handle:
            self._write(conn, _part(upload_id, part_number), iter(lambda: handle.read(CHUNK), b""))
        staged.discard()

    def merge(
        self, upload_id: str, parts: Mapping[int, str], resource_id: str, conn: Connection
    ) -> tuple[int, str]:
        part_count = len(parts)
        digest = hashlib.sha256()
        size = 0

        def merged() -> Iterator[bytes]:
            nonlocal size
            for number in range(1, part_count + 1):
                rows = conn.execute(
                    select(blob_chunks.c.data)
                    .where(blob_chunks.c.name == _part(upload_id, number))
                    .order_by(blob_chunks.c.seq)
                ).scalars()
                for data in rows:
                    chunk = bytes(data)
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk

        self._write(conn, _file(resource_id), merged())
        return size, digest.hexdigest()

    def has_file(self, resource_id: str) -> bool:
        with self._db.read() as conn:
            found = conn.execute(
                select(func.count())
                .select_from(blob_chunks)
                .where(blob_chunks.c.name == _file(resource_id), blob_chunks.c.seq == 0)
            ).scalar_one()
        return bool(found)

    def merged_files(self, written_before: float) -> list[str]:
        """None to check: a merged file's rows commit in the merge's transaction, with the
        upload row naming it, so a killed merge leaves nothing behind."""
        return []

    @contextmanager
    def open_file(self, resource_id: str) -> Iterator[BinaryIO]:
        reader = _ChunkReader(self._db, _file(resource_id))
        yield reader  # type: ignore[misc]

    def _drop(self, prefix: str) -> None:
        with self._db.transaction(durable=False) as conn:
            conn.execute(
                delete(blob_chunks).where(blob_chunks.c.name.startswith(prefix, autoescape=True))
            )

    def delete_parts(self, upload_id: str) -> None:
        self._drop(f"parts/{upload_id}/")

    def delete_file(self, resource_id: str) -> None:
        self._drop(_file(resource_id))

    def put(self, name: str, data: bytes) -> None:
        """A named blob; an empty one is one empty row, so `get` tells it from a missing one."""
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        with self._db.transaction() as conn:
            self._write(conn, name, iter(chunks))

    def get(self, name: str) -> bytes | None:
        with self._db.read() as conn:
            rows = list(
                conn.execute(
                    select(blob_chunks.c.data)
                    .where(blob_chunks.c.name == name)
                    .order_by(blob_chunks.c.seq)
                ).scalars()
            )
        return b"".join(bytes(r) for r in rows) if rows else None

    def delete(self, name: str) -> None:
        with self._db.transaction(durable=False) as conn:
            conn.execute(delete(blob_chunks).where(blob_chunks.c.name == name))
