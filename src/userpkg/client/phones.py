"""Raw phone numbers → MD5 hex, the form an MD5_PHONE upload wants (SPEC §7, §9).

Normalisation: spaces, tabs, dashes, dots and brackets removed; a leading `+86`, `0086` or
`86` country code removed; what remains must be an 11-digit mainland mobile number
(1[3-9]…), else the line is rejected (by number). A CSV line gives its first column, or
column N. The output is written beside the target and renamed into place at the end, so a
failure never leaves a half-written or truncated file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from userpkg.protocol.audience import BOM

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


@contextmanager
def _reader(source: Path) -> Iterator[IO[bytes]]:
    if source == STDIO:
        yield sys.stdin.buffer
        return
    with source.open("rb") as handle:
        yield handle


@contextmanager
def _writer(target: Path) -> Iterator[IO[str]]:
    """stdout, or a temporary file renamed over `target` only when everything succeeded."""
    if target == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="ascii", newline="\n") as handle:
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
    md5 = hashlib.md5
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
                lines = data.split(b"\n") if data else []
                if data.endswith(b"\n"):
                    lines.pop()
                out = []
                for raw in lines:
                    number += 1
                    if len(raw) == 11 and not explicit and raw.isdigit() and raw[1] > 0x32:
                        digits: bytes | None = raw if raw[:1] == b"1" else None
                    elif not raw.strip(b" \t\r"):
                        counts.blank += 1
                        continue
                    else:
                        digits = normalise(raw, col if explicit else 0)
                    if digits is None:
                        counts.bad += 1
                        if len(counts.rejected_lines) < SHOWN_REJECTS:
                            counts.rejected_lines.append(number)
                        if rejected is not None:
                            rejected.write(b"%d\t%s\n" % (number, raw.rstrip(b"\r")))
                        continue
                    out.append(md5(digits, usedforsecurity=False).hexdigest())
                if out:
                    writer.write("\n".join(out))
                    writer.write("\n")
                    counts.hashed += len(out)
                if not chunk:
                    break
    finally:
        if rejected is not None:
            rejected.close()
    return counts
