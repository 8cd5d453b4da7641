"""`userpkg lint`: will the service take this file, and if not, which lines and why (SPEC §9).

The counts come from the service's own parser (fast, whole file). Only when something is
malformed is the file read again line by line, to name the first few offending lines
(1-based) with a reason and, where the mistake is recognisable, the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from userpkg.protocol import DataType
from userpkg.protocol.audience import BOM, MAX_LINE, lint_counts

READ = 4 << 20
SHOWN = 5
DEFAULT_MAX_MALFORMED = 5.0
_OPENID = re.compile(rb"[A-Za-z0-9_-]{28}")
_MD5 = re.compile(rb"[0-9a-fA-F]{32}")
_PHONE = re.compile(rb"(?:\(?(?:\+|00)?86\)?)?1[3-9]\d{9}")
_HEADER = re.compile(rb"[A-Za-z_ ,;\t\"]{2,200}")

HINTS = {
    "phone": "these are raw phone numbers: hash them first with "
    "`userpkg hash-phones IN OUT`, then push OUT with --data-type md5-phone",
    "columns": "one value per line: keep only the id column (for phones, "
    "`userpkg hash-phones IN OUT --column N` takes column N)",
    "header": "the first line looks like a header row: remove it (the file has no header)",
    "md5_as_openid": "these look like MD5s of phone numbers: use --data-type md5-phone",
    "openid_as_md5": "these look like openids: use --data-type openid",
}


@dataclass
class Offence:
    line: int
    reason: str
    hint: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason, "hint": self.hint}


@dataclass
class LintReport:
    counts: dict[str, int]
    max_malformed: float
    offences: list[Offence] = field(default_factory=list)

    @property
    def well_formed(self) -> int:
        c = self.counts
        return c["lines"] - c["blank"] - c["malformed"]

    @property
    def malformed_percent(self) -> float:
        """Malformed lines among non-blank lines, in percent."""
        values = self.counts["lines"] - self.counts["blank"]
        return 100.0 * self.counts["malformed"] / values if values else 0.0

    @property
    def hints(self) -> list[str]:
        return list(dict.fromkeys(o.hint for o in self.offences if o.hint))

    @property
    def problem(self) -> str | None:
        """Why the file would be refused (exit 2), or None when it may be sent."""
        if self.counts["lines"] == 0:
            return "the file is empty: give a file with one value per line"
        if self.well_formed == 0:
            return "no line is well-formed"
        if self.malformed_percent > self.max_malformed:
            return (
                f"{self.malformed_percent:.1f} % of the non-blank lines are malformed, over "
                f"the {self.max_malformed:g} % limit (--max-malformed PCT)"
            )
        return None

    def as_json(self) -> dict[str, object]:
        return {
            "counts": {**self.counts, "well_formed": self.well_formed},
            "malformed_percent": round(self.malformed_percent, 3),
            "max_malformed": self.max_malformed,
            "ok": self.problem is None,
            "problem": self.problem,
            "offending_lines": [o.as_json() for o in self.offences],
            "hints": self.hints,
        }


def lint_file(path: Path, data_type: DataType) -> dict[str, int]:
    """Format counts of a file (SPEC §7) by the service's own parser, read 4 MiB at a time."""
    with path.open("rb") as handle:
        return lint_counts(iter(lambda: handle.read(READ), b""), data_type)


def check_file(
    path: Path, data_type: DataType, max_malformed: float = DEFAULT_MAX_MALFORMED
) -> LintReport:
    report = LintReport(lint_file(path, data_type), max_malformed)
    if report.counts["malformed"]:
        report.offences = first_offences(path, data_type)
    return report


def first_offences(path: Path, data_type: DataType, limit: int = SHOWN) -> list[Offence]:
    found: list[Offence] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw[len(BOM) :] if number == 1 and raw.startswith(BOM) else raw
            offence = judge(line.strip(), number, data_type, len(raw))
            if offence is not None:
                found.append(offence)
                if len(found) >= limit:
                    break
    return found


def judge(value: bytes, number: int, data_type: DataType, raw_length: int) -> Offence | None:
    """Why one stripped line is malformed, with the fix when the mistake is recognisable."""
    if not value:
        return None
    if raw_length > MAX_LINE:
        return Offence(number, f"longer than {MAX_LINE} bytes", HINTS["columns"])
    expected = _OPENID if data_type is DataType.OPENID else _MD5
    if expected.fullmatch(value):
        return None
    what = "a 28-character openid" if data_type is DataType.OPENID else "a 32-hex-digit MD5"
    # an openid or an MD5 of the other type is that, not a header, even on line 1
    if data_type is DataType.OPENID and _MD5.fullmatch(value):
        return Offence(number, "32 hex digits (an MD5), not an openid", HINTS["md5_as_openid"])
    if data_type is DataType.MD5_PHONE and _OPENID.fullmatch(value):
        return Offence(number, "28 characters (an openid), not an MD5", HINTS["openid_as_md5"])
    if number == 1 and _HEADER.fullmatch(value):
        return Offence(number, f"{value[:40].decode()!r} is a header, not {what}", HINTS["header"])
    if re.search(rb"[,;\t|]", value):
        return Offence(number, f"several columns, not {what}", HINTS["columns"])
    compact = re.sub(rb"[\s.-]", b"", value)
    if _PHONE.fullmatch(compact):
        return Offence(number, f"a raw phone number, not {what}", HINTS["phone"])
    return Offence(number, f"not {what} ({len(value)} characters)")
