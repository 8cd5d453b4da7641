"""Raw phone numbers → MD5 hex, the form an MD5_PHONE upload wants (SPEC §7, §9).

Normalisation: spaces, tabs, dashes and `+` removed; a leading `86` country code removed;
what remains must be an 11-digit mainland mobile number (1[3-9]…), else the line is bad.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from userpkg.protocol.audience import BOM

CHUNK = 4 << 20
_DROP = b" \t\r-+"


@dataclass
class HashCounts:
    hashed: int = 0
    blank: int = 0
    bad: int = 0


def hash_phones(source: Path, target: Path) -> HashCounts:
    """Stream `source` to `target` one MD5 per line, a few MiB at a time."""
    counts = HashCounts()
    md5 = hashlib.md5
    tail = b""
    first = True
    with source.open("rb") as reader, target.open("w", encoding="ascii", newline="\n") as writer:
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
            out = []
            lines = data.translate(None, _DROP).split(b"\n") if data else []
            if data.endswith(b"\n"):
                lines.pop()
            for raw in lines:
                if not raw:
                    counts.blank += 1
                    continue
                if len(raw) == 13 and raw.startswith(b"86"):
                    raw = raw[2:]
                if len(raw) == 11 and raw.isdigit() and raw[:1] == b"1" and raw[1] > 0x32:
                    out.append(md5(raw, usedforsecurity=False).hexdigest())
                else:
                    counts.bad += 1
            if out:
                writer.write("\n".join(out))
                writer.write("\n")
                counts.hashed += len(out)
            if not chunk:
                break
    return counts
