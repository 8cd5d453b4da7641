"""Package members as Roaring bitmaps: immutable file versions, or chunk rows per container.

Both give the same guarantee: an expand's users appear all at once, in the transaction that
marks the task FINISHED. Files (SQLite): a new version is written and the package row points
at it. Database (PostgreSQL): one row per Roaring container key (user_id >> 16); an expand
rewrites only the rows its users fall in, under the package row lock the caller holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np
from pyroaring import BitMap
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from userpkg.store.bitmaps import BitmapStore
from userpkg.store.blobs import BlobStore
from userpkg.store.database import Database
from userpkg.store.schema import member_chunks

CACHED = 64


class AudienceStore(Protocol):
    def save_delta(self, name: str, bitmap: BitMap) -> None: ...
    def load_delta(self, name: str) -> BitMap: ...
    def apply(
        self, conn: Connection, package_id: str, ref: str | None, delta: BitMap, version: str
    ) -> tuple[int, str]:
        """Add `delta` in the caller's transaction: (users already members, the new ref)."""
        ...

    def members(self, package_id: str, ref: str | None) -> BitMap: ...
    def contains(self, package_id: str, ref: str | None, user_id: int) -> bool: ...
    def forget(self, package_id: str, ref: str, delta: str | None) -> None:
        """Remove what the new ref made unreachable (old versions, the used delta)."""
        ...


class FileAudience:
    def __init__(self, root: Path) -> None:
        self.bitmaps = BitmapStore(root)

    def save_delta(self, name: str, bitmap: BitMap) -> None:
        self.bitmaps.save(name, bitmap)

    def load_delta(self, name: str) -> BitMap:
        return self.bitmaps.load(name)

    def apply(
        self, conn: Connection, package_id: str, ref: str | None, delta: BitMap, version: str
    ) -> tuple[int, str]:
        current = self.bitmaps.load(ref)
        name = f"members/{package_id}/{version}"
        self.bitmaps.save(name, current | delta)
        return current.intersection_cardinality(delta), name

    def members(self, package_id: str, ref: str | None) -> BitMap:
        return self.bitmaps.load(ref)

    def contains(self, package_id: str, ref: str | None, user_id: int) -> bool:
        return user_id in self.bitmaps.load(ref)

    def forget(self, package_id: str, ref: str, delta: str | None) -> None:
        if delta:
            self.bitmaps.delete(delta)
        for path in (self.bitmaps.root / "members" / package_id).glob("*"):
            name = f"members/{package_id}/{path.name}"
            if name != ref and not path.name.endswith(".tmp"):
                self.bitmaps.delete(name)


class DatabaseAudience:
    """Members as chunk rows; deltas as blobs. Readers cache chunks by the package's ref."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self._db = db
        self._blobs = blobs
        self._cache: OrderedDict[tuple[str, str | None, int], BitMap] = OrderedDict()
        self._lock = threading.Lock()
        insert = (sqlite.insert if db.is_sqlite else postgresql.insert)(member_chunks)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[member_chunks.c.user_package_id, member_chunks.c.chunk_key],
            set_={"data": insert.excluded.data},
        )

    def save_delta(self, name: str, bitmap: BitMap) -> None:
        self._blobs.put(name, bitmap.serialize())

    def load_delta(self, name: str) -> BitMap:
        data = self._blobs.get(name)
        if data is None:
            raise FileNotFoundError(name)
        return BitMap.deserialize(data)

    def apply(
        self, conn: Connection, package_id: str, ref: str | None, delta: BitMap, version: str
    ) -> tuple[int, str]:
        keys = [int(k) for k in np.unique(np.frombuffer(delta.to_array(), dtype=np.uint32) >> 16)]
        rows = {
            row.chunk_key: BitMap.deserialize(bytes(row.data))
            for row in conn.execute(
                select(member_chunks.c.chunk_key, member_chunks.c.data).where(
                    member_chunks.c.user_package_id == package_id,
                    member_chunks.c.chunk_key.in_(keys),
                )
            )
        }
        already = 0
        for key in keys:
            part = _container(delta, key)
            old = rows.get(key, BitMap())
            already += old.intersection_cardinality(part)
            merged = old | part
            merged.run_optimize()
            conn.execute(
                self._upsert.values(
                    user_package_id=package_id, chunk_key=key, data=merged.serialize()
                )
            )
        return already, version

    def _chunk(self, package_id: str, ref: str | None, key: int) -> BitMap:
        cache_key = (package_id, ref, key)
        with self._lock:
            found = self._cache.get(cache_key)
        if found is not None:
            return found
        with self._db.read() as conn:
            data = conn.execute(
                select(member_chunks.c.data).where(
                    member_chunks.c.user_package_id == package_id,
                    member_chunks.c.chunk_key == key,
                )
            ).scalar()
        chunk = BitMap.deserialize(bytes(data)) if data is not None else BitMap()
        with self._lock:
            self._cache[cache_key] = chunk
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return chunk

    def contains(self, package_id: str, ref: str | None, user_id: int) -> bool:
        return user_id in self._chunk(package_id, ref, user_id >> 16)

    def members(self, package_id: str, ref: str | None) -> BitMap:
        with self._db.read() as conn:
            rows = conn.execute(
                select(member_chunks.c.data).where(member_chunks.c.user_package_id == package_id)
            ).scalars()
            return BitMap.union(BitMap(), *(BitMap.deserialize(bytes(d)) for d in rows))

    def forget(self, package_id: str, ref: str, delta: str | None) -> None:
        if delta:
            self._blobs.delete(delta)


def _container(bitmap: BitMap, key: int) -> BitMap:
    """The members of `bitmap` whose high 16 bits are `key`, sliced by rank."""
    low = bitmap.rank((key << 16) - 1) if key else 0
    high = bitmap.rank(((key + 1) << 16) - 1)
    part: BitMap = bitmap[low:high]
    return part
