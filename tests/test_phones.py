"""hash-phones gives, line for line, what normalising each line alone and hashing it gives.

The fast path squeezes separators out of a whole block at once; these tests hold it to the
one-line-at-a-time reference (`normalise` + hashlib) under any mix of forms and any chunking.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from userpkg.client import phones
from userpkg.client.phones import hash_phones, normalise

FORMS = st.sampled_from(
    [
        "13800138000",
        "+86 139-0000-0000",
        "0086 (137) 0000.0000",
        "8613600000000",
        "86 136 0000 0000",
        "12345678901",  # second digit too low
        "23800138000",  # not a mobile number
        "+86 1380013800",  # one digit short
        "1380013800x",
        "",
        "   ",
        "\t\r",
        "--",
        "..()",
        '"13800138000"',
        "13800138000\r",
        "1 3 8 0 0 1 3 8 0 0 0",
        "13800138000,alice",  # a comma sends its whole block down the one-line path
        "alice,13800138000",
    ]
)


def reference(lines: list[str]) -> tuple[list[str], int, list[int]]:
    hashed, blank, rejected = [], 0, []
    for number, line in enumerate(lines, 1):
        raw = line.encode()
        if not raw.strip(b" \t\r"):
            blank += 1
            continue
        digits = normalise(raw, 0)
        if digits is None:
            rejected.append(number)
        else:
            hashed.append(hashlib.md5(digits).hexdigest())
    return hashed, blank, rejected


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(FORMS, max_size=40), chunk=st.integers(min_value=1, max_value=64))
def test_block_hashing_matches_the_line_by_line_reference(
    lines: list[str], chunk: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("phones")
    source, target, rejects = root / "in.txt", root / "out.csv", root / "rejects.txt"
    source.write_text("".join(f"{line}\n" for line in lines), newline="")
    expected, blank, rejected = reference(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(phones, "CHUNK", chunk)
        counts = hash_phones(source, target, rejects=rejects)
    assert target.read_text().split() == expected
    assert (counts.hashed, counts.blank, counts.bad) == (len(expected), blank, len(rejected))
    assert counts.rejected_lines == rejected[: phones.SHOWN_REJECTS]
    numbers = [int(row.split("\t")[0]) for row in rejects.read_text().splitlines()]
    assert numbers == rejected


def test_the_last_line_needs_no_newline(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"13800138000\n+86 139 0000 0000")
    counts = hash_phones(source, tmp_path / "out.csv")
    assert counts.hashed == 2
    assert (tmp_path / "out.csv").read_text().split()[1] == hashlib.md5(b"13900000000").hexdigest()
