"""Explicit users from a file of phone numbers, streamed: millions a minute, memory bounded.

Two passes. While the body arrives, each line is checked and the numbers are spooled, as
8-byte integers, to an unlinked temporary file; a bad line anywhere refuses the whole file
with its line numbers before anything is written. Then the spool is imported a chunk at a
time, each chunk in one durable transaction that holds the user-id counter: numbers someone
already has are counted (`already_known`, or `duplicates` when this import gave them out),
the rest get consecutive ids in ascending phone order. A crash loses at most the chunk in
flight, whole; sending the file again imports exactly what is missing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from userpkg.core.directory import (
    SYNTHETIC_BASE,
    SYNTHETIC_SHIFT,
    SYNTHETIC_SPACE,
    SYNTHETIC_STEP,
    Directory,
)
from userpkg.protocol.errors import param_error
from userpkg.protocol.phone_digests import digit_rows_to_numbers
from userpkg.store.database import Database

Phones = npt.NDArray[np.int64]
CHUNK = 2_000_000
MAX_NUMBERS = 50_000_000
MAX_LINE = 64
SHOWN_BAD_LINES = 20
BOM = b"\xef\xbb\xbf"
_STEP_INVERSE = pow(SYNTHETIC_STEP, -1, SYNTHETIC_SPACE)


@dataclass
class ImportReport:
    """What one import did; `first_user_id`..`last_user_id` hold every id it gave out."""

    lines: int = 0
    blank: int = 0
    imported: int = 0
    duplicates: int = 0
    already_known: int = 0
    first_user_id: int | None = None
    last_user_id: int | None = None
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "blank": self.blank,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "already_known": self.already_known,
            "first_user_id": self.first_user_id,
            "last_user_id": self.last_user_id,
        }


class PhoneSpool:
    """Lines in, checked; numbers out to a temporary file. Feed bytes in any pieces."""

    def __init__(self, directory: Path) -> None:
        # closed by finish() on refusal, or by UserImport.run once imported
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix="import-")  # noqa: SIM115
        self._rest = b""
        self._started = False
        self.lines = 0
        self.blank = 0
        self.numbers = 0
        self.bad: list[int] = []
        self.bad_count = 0

    def feed(self, data: bytes) -> None:
        if not self._started:
            data = self._rest + data
            if len(data) < len(BOM) and BOM.startswith(data):
                self._rest = data
                return
            self._started = True
            self._rest = b""
            data = data.removeprefix(BOM)
        data = self._rest + data if self._rest else data
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data[: MAX_LINE + 1]
            return
        self._lines(data[: cut + 1])
        self._rest = data[cut + 1 : cut + 2 + MAX_LINE]

    def finish(self) -> None:
        """End of the body: check the last line and refuse the file if any line was bad."""
        rest, self._rest = self._rest, b""
        if rest:
            self._lines(rest + b"\n")
        self._file.flush()
        if self.bad_count:
            self.close()
            shown = ", ".join(str(n) for n in self.bad)
            more = (
                f" and {self.bad_count - len(self.bad)} more"
                if self.bad_count > len(self.bad)
                else ""
            )
            raise param_error(
                f"{self.bad_count} line(s) are not an 11-digit mainland mobile number "
                f"(1, then 3-9, then 9 digits; one number a line): line {shown}{more}. "
                "Correct them and send the file again; nothing was imported",
                "/body",
            )
        if self.numbers > MAX_NUMBERS:
            self.close()
            raise param_error(
                f"at most {MAX_NUMBERS} numbers per import; split the file", "/body", status=413
            )

    def chunks(self, size: int = CHUNK) -> Iterator[Phones]:
        self._file.seek(0)
        while block := self._file.read(size * 8):
            yield np.frombuffer(block, dtype=np.int64)

    def close(self) -> None:
        self._file.close()

    def _lines(self, data: bytes) -> None:
        """Complete lines, each ending in `\\n`."""
        raw = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(raw == 10)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        stops = ends.copy()
        has_cr = (stops > starts) & (raw[np.maximum(stops - 1, 0)] == 13)
        stops[has_cr] -= 1
        first_line = self.lines + 1
        self.lines += len(ends)
        exact = np.flatnonzero(stops - starts == 11)
        if len(exact) == len(ends) and len(raw) == 12 * len(ends) and not has_cr.any():
            grid = raw.reshape(-1, 12)[:, :11]  # every line is 11 characters: no gather
        elif len(raw) >= 11 and len(exact):
            grid = np.lib.stride_tricks.sliding_window_view(raw, 11)[starts[exact]]
        else:
            grid = np.empty((0, 11), dtype=np.uint8)
        if len(grid):
            digits = grid - 48
            ok = (digits.max(axis=1) <= 9) & (digits[:, 0] == 1) & (digits[:, 1] >= 3)
            values = digit_rows_to_numbers(digits[ok])
        else:
            ok = np.zeros(0, dtype=bool)
            values = np.empty(0, dtype=np.int64)
        others = np.ones(len(ends), dtype=bool)
        others[exact[ok]] = False
        extra: list[int] = []
        for row in np.flatnonzero(others).tolist():
            text = data[starts[row] : stops[row]].strip()
            if not text:
                self.blank += 1
            elif len(text) == 11 and text.isdigit() and text[0:1] == b"1" and text[1] >= 0x33:
                extra.append(int(text))
            else:
                self.bad_count += 1
                if len(self.bad) < SHOWN_BAD_LINES:
                    self.bad.append(first_line + row)
        if extra:
            values = np.concatenate([values, np.array(extra, dtype=np.int64)])
        if self.bad_count:
            return
        self.numbers += len(values)
        if self.numbers <= MAX_NUMBERS:
            self._file.write(values.tobytes())


class UserImport:
    """Spooled numbers → users, one durable transaction a chunk (see the module docstring)."""

    def __init__(self, db: Database, directory: Directory, spool_dir: Path) -> None:
        self._db = db
        self._directory = directory
        self._spool_dir = spool_dir

    def spool(self) -> PhoneSpool:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        return PhoneSpool(self._spool_dir)

    def run(self, spool: PhoneSpool, chunk: int = CHUNK) -> ImportReport:
        report = ImportReport(lines=spool.lines, blank=spool.blank)
        try:
            for phones in spool.chunks(chunk):
                self._chunk(phones, report)
        finally:
            spool.close()
        return report

    def _chunk(self, phones: Phones, report: ImportReport) -> None:
        """Every line is one of: a new user (its number's first line), `duplicates` (a later
        line of a number this import added) or `already_known` (a number someone had before)."""
        ordered = np.sort(phones)
        first_seen = np.ones(len(ordered), dtype=bool)
        first_seen[1:] = ordered[1:] != ordered[:-1]
        distinct = ordered[first_seen]
        lines_of = np.diff(np.append(np.flatnonzero(first_seen), len(ordered)))
        with self._db.transaction() as conn:
            first = self._directory.lock_next_id(conn)
            owners = self._synthetic_owners(conn, distinct)
            known_phones, known_ids = self._known(conn, distinct[owners == 0])
            owners[np.searchsorted(distinct, known_phones)] = known_ids
            fresh = distinct[owners == 0]
            if len(fresh):
                self._directory.set_next_id(conn, first + len(fresh))
                self._insert(conn, first, fresh)
        mine = np.zeros(len(distinct), dtype=bool)
        for low, high in report.ranges:
            mine |= (owners >= low) & (owners <= high)
        old = (owners != 0) & ~mine
        report.already_known += int(lines_of[old].sum())
        report.duplicates += int(lines_of[~old].sum()) - len(fresh)
        if len(fresh):
            last = first + len(fresh) - 1
            report.ranges.append((first, last))
            report.imported += len(fresh)
            report.first_user_id = report.first_user_id or first
            report.last_user_id = last

    def _synthetic_owners(self, conn: Connection, phones: Phones) -> npt.NDArray[np.int64]:
        """For each number, the synthetic user who has it, or 0 (see `directory`)."""
        owners = np.zeros(len(phones), dtype=np.int64)
        offsets = phones - SYNTHETIC_BASE
        inside = np.flatnonzero((offsets >= 0) & (offsets < SYNTHETIC_SPACE))
        if not len(inside):
            return owners
        ranges = conn.exec_driver_sql("SELECT first_id, count FROM synthetic_ranges").all()
        if not ranges:
            return owners
        candidate = ((offsets[inside] - SYNTHETIC_SHIFT) * _STEP_INVERSE) % SYNTHETIC_SPACE
        real = np.zeros(len(inside), dtype=bool)
        for first, count in ranges:
            real |= (candidate >= first) & (candidate < first + count)
        overridden = conn.exec_driver_sql(
            "SELECT u.user_id FROM users u JOIN synthetic_ranges r "
            "ON u.user_id >= r.first_id AND u.user_id < r.first_id + r.count"
        ).scalars()
        real &= ~np.isin(candidate, np.fromiter(overridden, dtype=np.int64))
        owners[inside[real]] = candidate[real]
        return owners

    def _known(self, conn: Connection, phones: Phones) -> tuple[Phones, Phones]:
        """(numbers, their owners' ids) of the sorted `phones` that rows already hold."""
        if not len(phones):
            return phones, phones
        if self._db.is_sqlite:
            rows = conn.exec_driver_sql(
                "SELECT j.value, u.user_id FROM json_each(?) j JOIN users u ON u.phone = j.value",
                (_json_array(phones),),
            ).all()
        else:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS import_phones (phone BIGINT) "
                    "ON COMMIT DELETE ROWS"
                )
                with cursor.copy("COPY import_phones (phone) FROM STDIN") as copy:
                    copy.write(_text_lines(phones))
                cursor.execute(
                    "SELECT i.phone, u.user_id FROM import_phones i "
                    "JOIN users u ON u.phone = i.phone"
                )
                rows = cursor.fetchall()
        found = np.array(rows, dtype=np.int64).reshape(-1, 2)
        return found[:, 0].copy(), found[:, 1].copy()

    def _insert(self, conn: Connection, first: int, phones: Phones) -> None:
        """Rows (first + i, phones[i]): ids and numbers both ascending, so both indexes append
        or fill in order."""
        if self._db.is_sqlite:
            conn.exec_driver_sql(
                "INSERT INTO users (user_id, phone) SELECT ? + key, value FROM json_each(?)",
                (first, _json_array(phones)),
            )
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        ids = np.arange(first, first + len(phones), dtype=np.int64)
        with raw.cursor() as cursor, cursor.copy("COPY users (user_id, phone) FROM STDIN") as copy:
            copy.write(_text_rows(ids, phones))


def _ascii(values: Phones, width: int) -> npt.NDArray[np.uint8]:
    """(n, width) zero-padded decimal digits of non-negative numbers below 10**width (7..11):
    two 32-bit halves, as 32-bit division is several times faster than 64-bit in numpy."""
    out = np.empty((len(values), width), dtype=np.uint8)
    high = (values // 1_000_000).astype(np.uint32)
    low = (values % 1_000_000).astype(np.uint32)
    for part, columns in ((low, range(width - 1, width - 7, -1)), (high, range(width - 7, -1, -1))):
        for column in columns:
            quotient = part // 10
            out[:, column] = part - quotient * 10 + 48
            part = quotient
    return out


def _json_array(phones: Phones) -> str:
    """A JSON array of 11-digit numbers, built without a Python object per number."""
    grid = np.empty((len(phones), 12), dtype=np.uint8)
    grid[:, :11] = _ascii(phones, 11)
    grid[:, 11] = ord(",")
    text = grid.tobytes()[:-1].decode("ascii")
    return f"[{text}]"


def _text_lines(phones: Phones) -> bytes:
    grid = np.empty((len(phones), 12), dtype=np.uint8)
    grid[:, :11] = _ascii(phones, 11)
    grid[:, 11] = 10
    return grid.tobytes()


def _text_rows(ids: Phones, phones: Phones) -> bytes:
    """COPY text rows `id<TAB>phone`; PostgreSQL reads the zero-padded ids as numbers."""
    grid = np.empty((len(phones), 23), dtype=np.uint8)
    grid[:, :10] = _ascii(ids, 10)
    grid[:, 10] = 9
    grid[:, 11:22] = _ascii(phones, 11)
    grid[:, 22] = 10
    return grid.tobytes()
