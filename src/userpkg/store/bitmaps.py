"""Roaring bitmaps of user ids, stored as immutable named versions.

A package's members are one version; an expand writes a new version under a new name and
the database then points the package at it in one transaction, so readers see the old set or
the new one, never a half-applied file. Versions never change once written, so they cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from pyroaring import BitMap

from userpkg.store.blobs import write_atomically

CACHED = 8


class BitmapStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._cache: OrderedDict[str, BitMap] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.root / name

    def save(self, name: str, bitmap: BitMap) -> None:
        """Write a version atomically (temp file, fsync, rename); saving it again is harmless."""
        bitmap.run_optimize()
        write_atomically(self._path(name), bitmap.serialize())

    def load(self, name: str | None) -> BitMap:
        """A version by name (None: the empty set). Cached: versions are immutable."""
        if name is None:
            return BitMap()
        with self._lock:
            found = self._cache.get(name)
            if found is not None:
                self._cache.move_to_end(name)
                return found
        bitmap = BitMap.deserialize(self._path(name).read_bytes())
        with self._lock:
            self._cache[name] = bitmap
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return bitmap

    def delete(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
        self._path(name).unlink(missing_ok=True)
