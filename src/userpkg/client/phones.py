"""Raw phone numbers → MD5 hex, the form an MD5_PHONE upload wants (SPEC §7, §9).

Normalisation: spaces, tabs, dashes, dots and brackets removed; a leading `+86`, `0086` or
`86` country code removed; what remains must be an 11-digit mainland mobile number
(1[3-9]…), else the line is rejected (by number). A CSV line gives its first column, or
column N. The output is written beside the target and renamed into place at the end, so a
failure never leaves a half-written or truncated file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import md5
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from userpkg.protocol.audience import BOM
from userpkg.protocol.phone_digests import digit_rows_to_numbers, phone_md5_halves

_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % octet for octet in range(256)), dtype="<u2")
_PREFIXES = (b"+86", b"0086", b"86")

CHUNK = 4 << 20
STDIO = Path("-")
_DROP = b" \t\r-.()\"'"
SHOWN_REJECTS = 10


@dataclass
class HashCounts:
    hashed: int = 0
    blank: int = 0
    bad: int = 0
    rejected_lines: list[int] = field(default_factory=list)
    columns_rejected: bool = False
    """A rejected line had several columns: the number may be in another one (--column)."""


def same_file(source: Path, target: Path) -> bool:
    if source == STDIO or target == STDIO:
        return False
    if target.exists():
        return os.path.samefile(source, target)
    return source.resolve() == target.resolve()


def normalise(raw: bytes, column: int) -> bytes | None:
    """The 11 digits of a mainland mobile number in one line, or None."""
    if column or b"," in raw:
        cells = raw.split(b",")
        if len(cells) <= column:
            return None
        raw = cells[column]
    raw = raw.translate(None, _DROP)
    if raw.startswith(b"+86"):
        raw = raw[3:]
    elif raw.startswith(b"0086"):
        raw = raw[4:]
    elif len(raw) == 13 and raw.startswith(b"86"):
        raw = raw[2:]
    if len(raw) == 11 and raw.isdigit() and raw[:1] == b"1" and raw[1] > 0x32:
        return raw
    return None


def _hex_lines(halves: npt.NDArray[np.uint64]) -> bytes:
    """Each digest as 32 lowercase hex digits and a newline, formatted as one array."""
    octets = halves.astype(">u8").view(np.uint8).reshape(-1, 16)
    out = np.empty((len(octets), 33), dtype=np.uint8)
    out[:, :32] = _HEX_PAIRS[octets].view(np.uint8).reshape(-1, 32)
    out[:, 32] = 10
    return out.tobytes()


def _squeezed_numbers(data: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The numbers of `data`'s good lines, and which lines were good, for a block of whole lines.

    Separators are dropped from the whole block in one call; a line is good when what is left
    is 11 digits 1[3-9]…, or those after +86, 0086, or 86 (13 long) — what `normalise` says.
    """
    squeezed = data.translate(None, _DROP)
    if not squeezed.endswith(b"\n"):
        squeezed += b"\n"
    raw = np.frombuffer(squeezed, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    sizes = ends - starts
    shaped = sizes == 11
    for prefix in _PREFIXES:
        candidates = np.flatnonzero(sizes == len(prefix) + 11)
        for offset, octet in enumerate(prefix):
            candidates = candidates[raw[starts[candidates] + offset] == octet]
        shaped[candidates] = True
    good = np.zeros(len(ends), dtype=bool)
    rows = np.flatnonzero(shaped)
    if len(rows):
        digits = np.lib.stride_tricks.sliding_window_view(raw, 11)[ends[rows] - 11] - np.uint8(48)
        ok = (digits.max(axis=1) <= 9) & (digits[:, 0] == 1) & (digits[:, 1] >= 3)
        good[rows[ok]] = True
        values = digit_rows_to_numbers(digits[ok])
    else:
        values = np.empty(0, dtype=np.int64)
    return values, good


def _hash_block(
    data: bytes, col: int, explicit: bool, counts: HashCounts
) -> tuple[bytes, list[tuple[int, bytes]]]:
    """MD5 hex lines of `data`'s good lines (whole lines); (1-based offset, line) of the bad.

    A block with no column to pick is parsed and hashed as arrays (`phone_md5_halves`), ten
    times a `hashlib` call per line; lines with commas take `normalise` one at a time.
    """
    bad: list[tuple[int, bytes]] = []
    if not data:
        return b"", bad
    if explicit or b"," in data:
        out: list[str] = []
        for offset, raw in enumerate(data.removesuffix(b"\n").split(b"\n"), 1):
            if not raw.strip(b" \t\r"):
                counts.blank += 1
                continue
            digits = normalise(raw, col if explicit else 0)
            if digits is None:
                bad.append((offset, raw))
                counts.columns_rejected |= not explicit and b"," in raw
            else:
                out.append(md5(digits, usedforsecurity=False).hexdigest() + "\n")
        counts.hashed += len(out)
        return "".join(out).encode(), bad
    values, good = _squeezed_numbers(data)
    others = np.flatnonzero(~good).tolist()
    lines = data.split(b"\n") if others else []
    for row in others:
        if lines[row].strip(b" \t\r"):
            bad.append((row + 1, lines[row]))
        else:
            counts.blank += 1
    counts.hashed += len(values)
    return _hex_lines(phone_md5_halves(values)), bad


@contextmanager
def _reader(source: Path) -> Iterator[IO[bytes]]:
    if source == STDIO:
        yield sys.stdin.buffer
        return
    with source.open("rb") as handle:
        yield handle


@contextmanager
def _writer(target: Path) -> Iterator[IO[bytes]]:
    """stdout, or a temporary file renamed over `target` only when everything succeeded."""
    if target == STDIO:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            yield handle
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def hash_phones(
    source: Path,
    target: Path,
    *,
    column: int = 1,
    rejects: Path | None = None,
) -> HashCounts:
    """Stream `source` to `target` one MD5 per line, a few MiB at a time.

    `column` is 1-based; `rejects`, when given, receives `line-number<TAB>line` per rejection.
    """
    if same_file(source, target):
        raise ValueError(f"IN and OUT are the same file ({target}): give another OUT")
    counts = HashCounts()
    col = column - 1
    explicit = column != 1
    tail = b""
    first = True
    number = 0
    rejected = rejects.open("wb") if rejects is not None else None
    try:
        with _reader(source) as reader, _writer(target) as writer:
            while True:
                chunk = reader.read(CHUNK)
                if first and chunk.startswith(BOM):
                    chunk = chunk[len(BOM) :]
                first = False
                data = tail + chunk
                if chunk:
                    cut = data.rfind(b"\n") + 1
                    data, tail = data[:cut], data[cut:]
                else:
                    tail = b""
                hashed, bad = _hash_block(data, col, explicit, counts)
                counts.bad += len(bad)
                for offset, raw in bad:
                    if len(counts.rejected_lines) < SHOWN_REJECTS:
                        counts.rejected_lines.append(number + offset)
                    if rejected is not None:
                        rejected.write(b"%d\t%s\n" % (number + offset, raw.rstrip(b"\r")))
                number += data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
                writer.write(hashed)
                if not chunk:
                    break
    finally:
        if rejected is not None:
            rejected.close()
    return counts
