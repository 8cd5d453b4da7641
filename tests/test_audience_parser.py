"""The line parser against a naive reference, whatever the chunking."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from userpkg.protocol import DataType
from userpkg.protocol.audience import BOM, lint_counts

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
MD5 = hashlib.md5(b"13800138000").hexdigest()


def reference(data: bytes, data_type: DataType) -> dict[str, int]:
    """The rules of SPEC §7 written the slow, obvious way."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    width = 28 if data_type is DataType.OPENID else 32
    alphabet = set(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        if data_type is DataType.OPENID
        else b"0123456789abcdefABCDEF"
    )
    blank = malformed = 0
    seen: list[bytes] = []
    for line in lines:
        value = line.strip()
        if not value:
            blank += 1
        elif len(value) != width or not set(value) <= alphabet or len(line) > 4096:
            malformed += 1
        else:
            seen.append(value.lower() if data_type is DataType.MD5_PHONE else value)
    return {
        "lines": len(lines),
        "blank": blank,
        "malformed": malformed,
        "duplicates": len(seen) - len(set(seen)),
    }


pieces = st.sampled_from(
    [
        OPENID,
        OPENID[:-1] + "A",
        MD5,
        MD5.upper(),
        "",
        " ",
        "  " + OPENID + " ",
        " " + MD5 + "\t",
        "x",
        "é",
        OPENID + MD5,
        "\r",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(pieces, max_size=40),
    crlf=st.booleans(),
    bom=st.booleans(),
    trailing=st.booleans(),
    chunk=st.integers(min_value=1, max_value=64),
    data_type=st.sampled_from(list(DataType)),
)
def test_parser_matches_reference_for_any_chunking(
    lines: list[str], crlf: bool, bom: bool, trailing: bool, chunk: int, data_type: DataType
) -> None:
    text = ("\r\n" if crlf else "\n").join(lines) + ("\n" if trailing and lines else "")
    data = (BOM if bom else b"") + text.encode()
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    assert lint_counts(chunks, data_type) == reference(data, data_type)


def test_overlong_line_is_one_malformed_line() -> None:
    data = b"x" * 10_000 + b"\n" + OPENID.encode() + b"\n"
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    assert lint_counts(chunks, DataType.OPENID) == {
        "lines": 2,
        "blank": 0,
        "malformed": 1,
        "duplicates": 0,
    }
