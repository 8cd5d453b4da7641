"""The phone index answers exactly what a dict of hashlib digests would, whatever the digests."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from userpkg.core.phone_index import DigestTable, PhoneIndex
from userpkg.protocol.phone_digests import phone_md5_halves

mobile = st.integers(min_value=13_000_000_000, max_value=19_999_999_999)


def md5_hex(phone: int) -> str:
    return hashlib.md5(str(phone).encode()).hexdigest()


class FakeDirectory:
    """Users with ids 1..n and the given numbers, growing when `add` is called."""

    def __init__(self) -> None:
        self.phones: list[int] = []

    def add(self, phones: list[int]) -> None:
        self.phones.extend(phones)

    def next_id(self) -> int:
        return len(self.phones) + 1

    def phones_between(
        self, first: int, stop: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        ids = np.arange(first, stop, dtype=np.int64)
        return ids, np.array(self.phones[first - 1 : stop - 1], dtype=np.int64)


def hex_rows(values: list[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("".join(values).encode(), dtype=np.uint8).reshape(-1, 32)


@given(st.lists(st.integers(min_value=0, max_value=10**12), max_size=200))
def test_vectorised_md5_equals_hashlib(phones: list[int]) -> None:
    expected = b"".join(hashlib.md5(str(p).encode()).digest() for p in phones)
    got = phone_md5_halves(np.array(phones, dtype=np.int64)).astype(">u8").tobytes()
    assert got == expected


@settings(max_examples=60)
@given(
    first=st.lists(mobile, unique=True, max_size=300),
    later=st.lists(mobile, unique=True, max_size=300),
    misses=st.lists(mobile, max_size=50),
)
def test_lookup_finds_every_user_and_only_them(
    first: list[int], later: list[int], misses: list[int]
) -> None:
    later = [p for p in later if p not in set(first)]
    directory = FakeDirectory()
    index = PhoneIndex(directory)  # type: ignore[arg-type]
    directory.add(first)
    index.refresh()
    directory.add(later)
    owners = {p: i + 1 for i, p in enumerate(first + later)}
    asked = [*owners, *misses]
    values = [md5_hex(p) for p in asked]
    found = index.lookup(hex_rows(values)) if asked else np.empty(0)
    assert found.tolist() == [owners.get(p, 0) for p in asked]
    if asked:
        assert index.user_of(values[0].upper()) == (owners.get(asked[0]))


halves = st.integers(min_value=0, max_value=2**64 - 1)


@given(
    entries=st.lists(
        st.tuples(st.integers(min_value=0, max_value=15), halves, halves),
        unique_by=lambda e: (e[0], e[2]),
        max_size=120,
    ),
    low_bits=halves,
    probes=st.lists(st.tuples(st.integers(min_value=0, max_value=15), halves), max_size=30),
)
def test_collisions_on_the_top_bits_and_on_a_whole_half(
    entries: list[tuple[int, int, int]],
    low_bits: int,
    probes: list[tuple[int, int]],
) -> None:
    """Few distinct top bits and shared first halves: every bucket holds long runs."""
    shape = [((top << 60) | (low_bits >> 4), lo) for top, _, lo in entries]
    table = DigestTable.build(np.empty((0, 2), dtype=np.uint64), np.empty(0, dtype=np.uint32))
    split = len(shape) // 2
    for part in (shape[:split], shape[split:]):
        start = len(table.ids) + 1
        table = table.merged(
            np.array(part, dtype=np.uint64).reshape(-1, 2),
            np.arange(start, start + len(part), dtype=np.uint32),
        )
    owners = {key: i + 1 for i, key in enumerate(shape)}
    asked = [*shape, *(((top << 60) | (low_bits >> 4), lo) for top, lo in probes)]
    hi = np.array([a for a, _ in asked], dtype=np.uint64)
    lo = np.array([b for _, b in asked], dtype=np.uint64)
    assert table.find(hi, lo).tolist() == [owners.get(key, 0) for key in asked]


def test_growing_index_finds_everyone_in_at_most_24_bytes_a_user() -> None:
    directory = FakeDirectory()
    directory.add(list(range(13_800_000_000, 13_800_000_000 + 5_000)))
    index = PhoneIndex(directory)  # type: ignore[arg-type]
    for grow in (1, 2_047, 3_000, 1, 25_000):
        start = 14_000_000_000 + len(directory.phones)
        directory.add(list(range(start, start + grow)))
        index.refresh()
        assert index.nbytes <= 24 * len(index)
        every = [md5_hex(p) for p in directory.phones]
        assert index.lookup(hex_rows(every)).tolist() == list(range(1, len(every) + 1))
