"""MD5 of a phone number → user id, in memory: sorted 64-bit halves searched with numpy.

Built from the directory (rows and synthetic ranges) and extended as ids grow: ids are only
ever appended, so the index remembers up to which id it covers and hashes just the new ones.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import numpy.typing as npt

from userpkg.core.directory import Directory

UserIds = npt.NDArray[np.uint32]


def md5_halves(
    phones: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    md5 = hashlib.md5
    digests = b"".join(
        md5(str(int(p)).encode(), usedforsecurity=False).digest() for p in phones.tolist()
    )
    pairs = np.frombuffer(digests, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def hex_halves(
    values: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """(n, 32) hex digits → the two big-endian 64-bit halves of each digest."""
    raw = bytes.fromhex(np.ascontiguousarray(values).tobytes().decode("ascii"))
    pairs = np.frombuffer(raw, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return pairs[:, 0], pairs[:, 1]


class PhoneIndex:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._hi = np.empty(0, dtype=np.uint64)
        self._lo = np.empty(0, dtype=np.uint64)
        self._ids = np.empty(0, dtype=np.uint32)
        self._covered = 1
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Take in users added since the last refresh."""
        stop = self._directory.next_id()
        if stop <= self._covered:
            return
        with self._lock:
            if stop <= self._covered:
                return
            ids, phones = self._directory.phones_between(self._covered, stop)
            hi, lo = md5_halves(phones)
            all_hi = np.concatenate([self._hi, hi])
            order = np.argsort(all_hi, kind="stable")
            self._hi = all_hi[order]
            self._lo = np.concatenate([self._lo, lo])[order]
            self._ids = np.concatenate([self._ids, ids.astype(np.uint32)])[order]
            self._covered = stop

    def lookup(self, values: npt.NDArray[np.uint8]) -> UserIds:
        """User ids for (n, 32) lower-case hex MD5 values; 0 where no user has that number."""
        self.refresh()
        hi, lo = hex_halves(values)
        found = np.zeros(len(values), dtype=np.uint32)
        if not len(self._hi) or not len(values):
            return found
        order = np.argsort(hi)
        pos = np.empty(len(hi), dtype=np.intp)
        pos[order] = np.searchsorted(self._hi, hi[order])
        pending = np.arange(len(values))
        while len(pending):
            at = pos[pending]
            inside = at < len(self._hi)
            pending, at = pending[inside], at[inside]
            same_hi = self._hi[at] == hi[pending]
            pending, at = pending[same_hi], at[same_hi]
            hit = self._lo[at] == lo[pending]
            found[pending[hit]] = self._ids[at[hit]]
            pending = pending[~hit]
            pos[pending] += 1
        return found

    def user_of(self, md5_hex: str) -> int | None:
        row = np.frombuffer(md5_hex.lower().encode("ascii"), dtype=np.uint8).reshape(1, 32)
        uid = int(self.lookup(row)[0])
        return uid or None
