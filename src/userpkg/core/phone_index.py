"""MD5 of a phone number → user id, in memory: a radix directory over the sorted digests.

The digests' two 64-bit halves are kept side by side, sorted by the first, with the user ids
beside them; a table of 2^k offsets, indexed by the top k bits, says where each bucket
starts, so a lookup is one table read and a probe of one or two entries instead of a binary
search over millions. k is chosen so the table costs at most 4 bytes a user: 24 in all.

Built from the directory (rows and synthetic ranges) and extended as ids grow: ids are only
ever appended, so the index remembers up to which id it covers, hashes just the new users and
merges them in.
"""

from __future__ import annotations

import binascii
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from userpkg.core.directory import Directory
from userpkg.protocol.phone_digests import phone_md5_halves

UserIds = npt.NDArray[np.uint32]
Halves = npt.NDArray[np.uint64]
REFRESH_WINDOW = 1_000_000
MAX_BITS = 30
FEW = 20_000


def md5_halves(
    phones: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    pairs = phone_md5_halves(phones)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def hex_halves(
    values: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """(n, 32) lower-case hex digits → the two big-endian 64-bit halves of each digest."""
    raw = binascii.a2b_hex(np.ascontiguousarray(values).tobytes())
    pairs = np.frombuffer(raw, dtype=">u8").reshape(-1, 2)
    return pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)


@dataclass(frozen=True)
class DigestTable:
    """Digests → ids, one immutable state: lookups read it while a refresh builds the next."""

    keys: Halves
    ids: UserIds
    starts: npt.NDArray[np.uint32]
    bits: int

    @classmethod
    def build(cls, keys: Halves, ids: UserIds) -> DigestTable:
        """From (n, 2) digest halves sorted by the first half, and the ids beside them."""
        bits = _bits_for(len(keys))
        counts = np.bincount(_buckets(keys[:, 0], bits), minlength=1 << bits)
        starts = np.zeros((1 << bits) + 1, dtype=np.uint32)
        np.cumsum(counts, out=starts[1:])
        return cls(keys, ids, starts, bits)

    def find(self, hi: Halves, lo: Halves) -> UserIds:
        """Ids of the digests (hi, lo); 0 where absent. Each probe walks one bucket, in order."""
        found = np.zeros(len(hi), dtype=np.uint32)
        if not len(self.ids) or not len(hi):
            return found
        bucket = _buckets(hi, self.bits)
        at = self.starts[bucket].astype(np.intp)
        stop = self.starts[bucket + 1].astype(np.intp)
        # the first probe for every value at once: most are answered by it
        entry = self.keys[np.minimum(at, len(self.ids) - 1)]
        hit = (at < stop) & (entry[:, 0] == hi) & (entry[:, 1] == lo)
        found[hit] = self.ids[at[hit]]
        at += 1
        pending = np.flatnonzero(~hit & (entry[:, 0] <= hi) & (at < stop))
        at, stop = at[pending], stop[pending]
        while len(pending):
            entry = self.keys[at]
            want_hi = hi[pending]
            hit = (entry[:, 0] == want_hi) & (entry[:, 1] == lo[pending])
            found[pending[hit]] = self.ids[at[hit]]
            at += 1
            again = ~hit & (entry[:, 0] <= want_hi) & (at < stop)
            pending, at, stop = pending[again], at[again], stop[again]
        return found

    def merged(self, keys: Halves, ids: UserIds) -> DigestTable:
        """This table with (keys, ids) added: the new ones sorted, then merged in one pass."""
        order = np.argsort(keys[:, 0])
        keys, ids = keys[order], ids[order]
        if not len(self.ids):
            return DigestTable.build(keys, ids)
        total = len(self.ids) + len(ids)
        places = np.searchsorted(self.keys[:, 0], keys[:, 0])
        merged_keys = np.empty((total, 2), dtype=np.uint64)
        merged_ids = np.empty(total, dtype=np.uint32)
        if len(ids) <= FEW:
            # a few newcomers: copy the runs between them, no mask over millions of rows
            done = 0
            for i, place in enumerate([*places.tolist(), len(self.ids)]):
                merged_keys[done + i : place + i] = self.keys[done:place]
                merged_ids[done + i : place + i] = self.ids[done:place]
                if i < len(ids):
                    merged_keys[place + i] = keys[i]
                    merged_ids[place + i] = ids[i]
                done = place
        else:
            at = places + np.arange(len(ids))
            fresh = np.zeros(total, dtype=bool)
            fresh[at] = True
            merged_keys[at] = keys
            merged_ids[at] = ids
            merged_keys[~fresh] = self.keys
            merged_ids[~fresh] = self.ids
        bits = _bits_for(total)
        if bits != self.bits:
            return DigestTable.build(merged_keys, merged_ids)
        added = np.bincount(_buckets(keys[:, 0], bits), minlength=1 << bits)
        starts = self.starts.copy()
        starts[1:] += np.cumsum(added, dtype=np.uint32)
        return DigestTable(merged_keys, merged_ids, starts, bits)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.ids.nbytes + self.starts.nbytes


def _bits_for(count: int) -> int:
    """The most top bits whose table (2^k + 1 offsets of 4 bytes) costs at most 4 bytes a user."""
    return min(max((count - 1).bit_length() - 1, 0), MAX_BITS)


def _buckets(hi: Halves, bits: int) -> npt.NDArray[np.intp]:
    if bits == 0:
        return np.zeros(len(hi), dtype=np.intp)
    return (hi >> np.uint64(64 - bits)).astype(np.intp)


_EMPTY = DigestTable.build(np.empty((0, 2), dtype=np.uint64), np.empty(0, dtype=np.uint32))


class PhoneIndex:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._state = _EMPTY
        self._covered = 1
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._state.ids)

    @property
    def nbytes(self) -> int:
        """Memory the index holds (digests, ids and the bucket table)."""
        return self._state.nbytes

    def refresh(self) -> None:
        """Take in users added since the last refresh."""
        stop = self._directory.next_id()
        if stop <= self._covered:
            return
        with self._lock:
            if stop <= self._covered:
                return
            key_parts, id_parts = [], []
            for first in range(self._covered, stop, REFRESH_WINDOW):
                ids, phones = self._directory.phones_between(
                    first, min(first + REFRESH_WINDOW, stop)
                )
                key_parts.append(phone_md5_halves(phones))
                id_parts.append(ids.astype(np.uint32))
            self._state = self._state.merged(np.concatenate(key_parts), np.concatenate(id_parts))
            self._covered = stop

    def lookup(self, values: npt.NDArray[np.uint8]) -> UserIds:
        """User ids for (n, 32) lower-case hex MD5 values; 0 where no user has that number."""
        self.refresh()
        hi, lo = hex_halves(values)
        return self.lookup_halves(hi, lo)

    def lookup_halves(self, hi: Halves, lo: Halves) -> UserIds:
        """User ids for digests given as their two big-endian 64-bit halves; 0 if unknown."""
        return self._state.find(hi, lo)

    def user_of(self, md5_hex: str) -> int | None:
        row = np.frombuffer(md5_hex.lower().encode("ascii"), dtype=np.uint8).reshape(1, 32)
        uid = int(self.lookup(row)[0])
        return uid or None
