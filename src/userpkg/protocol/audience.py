"""The audience-file line parser (SPEC §7): pure, streaming, and the same for service and lint.

UTF-8 CSV, no header, one value per line; `\\n` or `\\r\\n`; a leading BOM, surrounding spaces
and blank lines are ignored. The common line, exactly one value, is checked for a whole
chunk at once with numpy; only lines that are not (spaces, blanks, junk) go one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from userpkg.protocol.models import DataType

BOM = b"\xef\xbb\xbf"
OPENID_WIDTH = 28
MD5_WIDTH = 32
MAX_LINE = 4096

_OPENID_CHARS = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-":
    _OPENID_CHARS[_c] = True
_HEX_CHARS = np.zeros(256, dtype=bool)
for _c in b"0123456789abcdefABCDEF":
    _HEX_CHARS[_c] = True
_ALL_TRUE = np.uint64(0x0101010101010101)

Values = npt.NDArray[np.uint8]


def _all_hex(grid: Values) -> npt.NDArray[np.bool_]:
    """Rows of `grid` that are all hex digits: byte arithmetic numpy runs in SIMD lanes."""
    good = ((grid - 48) <= 9) | (((grid | 32) - 97) <= 5)
    rows: npt.NDArray[np.bool_] = (np.ascontiguousarray(good).view(np.uint64) == _ALL_TRUE).all(
        axis=1
    )
    return rows


def width_of(data_type: DataType) -> int:
    return OPENID_WIDTH if data_type is DataType.OPENID else MD5_WIDTH


@dataclass
class LineCounts:
    lines: int = 0
    blank: int = 0
    malformed: int = 0

    @property
    def well_formed(self) -> int:
        return self.lines - self.blank - self.malformed


@dataclass
class AudienceParser:
    """Feed chunks of a file; get back its well-formed values, normalised, chunk by chunk.

    Values come as an (n, width) uint8 array; MD5 values are lower-cased. A line longer than
    MAX_LINE bytes is malformed and never held whole.
    """

    data_type: DataType
    counts: LineCounts = field(default_factory=LineCounts)
    _rest: bytes = b""
    _skipping: bool = False
    _started: bool = False

    @property
    def width(self) -> int:
        return width_of(self.data_type)

    def feed(self, chunk: bytes) -> Values:
        if not self._started:
            head = self._rest + chunk
            if len(head) < len(BOM) and BOM.startswith(head):
                self._rest = head
                return self._empty()
            self._started = True
            self._rest = b""
            chunk = head[len(BOM) :] if head.startswith(BOM) else head
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                return self._empty()
            chunk = chunk[newline + 1 :]
            self._skipping = False
        data = self._rest + chunk if self._rest else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._hold(data)
            return self._empty()
        values = self._lines(data[: cut + 1])
        self._hold(data[cut + 1 :])
        return values

    def finish(self) -> Values:
        """The last line, if the file does not end with a newline."""
        rest, self._rest = self._rest, b""
        skipped, self._skipping = self._skipping, False
        if skipped or not rest:
            return self._empty()
        if not self._started and rest.startswith(BOM):
            rest = rest[len(BOM) :]
        return self._lines(rest + b"\n")

    def _hold(self, tail: bytes) -> None:
        """Keep a partial last line for the next chunk, unless it is already too long."""
        if len(tail) > MAX_LINE:
            self.counts.lines += 1
            self.counts.malformed += 1
            self._skipping = True
            self._rest = b""
        else:
            self._rest = tail

    def _empty(self) -> Values:
        return np.empty((0, self.width), dtype=np.uint8)

    def _lines(self, data: bytes) -> Values:
        """Complete lines, each ending in `\\n`."""
        raw = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(raw == 10)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        stops = ends.copy()
        has_cr = (stops > starts) & (raw[np.maximum(stops - 1, 0)] == 13)
        stops[has_cr] -= 1
        self.counts.lines += len(ends)
        width = self.width
        table = _OPENID_CHARS if self.data_type is DataType.OPENID else _HEX_CHARS
        exact = np.flatnonzero(stops - starts == width)
        regular = len(exact) == len(ends) and len(raw) == (width + 1) * len(ends)
        if regular and not has_cr.any():
            grid = raw.reshape(-1, width + 1)[:, :width]  # every line is one bare value: a view
        elif len(raw) >= width:
            grid = np.lib.stride_tricks.sliding_window_view(raw, width)[starts[exact]]
        else:
            grid = np.empty((0, width), dtype=np.uint8)
        ok = _all_hex(grid) if self.data_type is DataType.MD5_PHONE else table[grid].all(axis=1)
        fast = np.ascontiguousarray(grid) if ok.all() else grid[ok]
        slow_rows = np.ones(len(ends), dtype=bool)
        slow_rows[exact[ok]] = False
        slow = [
            self._one(data[s:e]) for s, e in zip(starts[slow_rows], stops[slow_rows], strict=True)
        ]
        extra = [v for v in slow if v is not None]
        values = np.concatenate([fast, np.array(extra, dtype=np.uint8)]) if extra else fast
        if self.data_type is DataType.MD5_PHONE:
            values = values | ((values & 0x40) >> 1)
        return values

    def _one(self, line: bytes) -> Values | None:
        """A line off the fast path: blank, padded with spaces, or malformed."""
        text = line.strip()
        if not text:
            self.counts.blank += 1
            return None
        table = _OPENID_CHARS if self.data_type is DataType.OPENID else _HEX_CHARS
        value = np.frombuffer(text, dtype=np.uint8)
        if len(value) != self.width or not table[value].all():
            self.counts.malformed += 1
            return None
        return value


def lint_counts(chunks: Iterable[bytes], data_type: DataType) -> dict[str, int]:
    """Format counts of a whole file given as chunks: what `userpkg lint` reports."""
    parser = AudienceParser(data_type)
    found = [parser.feed(chunk) for chunk in chunks]
    found.append(parser.finish())
    values = np.concatenate(found)
    distinct = len(np.unique(values.view(f"S{parser.width}"))) if len(values) else 0
    return {
        "lines": parser.counts.lines,
        "blank": parser.counts.blank,
        "malformed": parser.counts.malformed,
        "duplicates": len(values) - distinct,
    }
