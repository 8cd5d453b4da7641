"""An upload's parts land in one file; the merge's size and SHA-256 are those of that file,
whatever order the parts came in, when a part is sent again, or when the rows disagree with
what this process hashed (another process wrote the part)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import cast

from sqlalchemy import Connection

from userpkg.store.blobs import FileBlobStore

PART = 1024
NO_CONN = cast(Connection, None)


def put(store: FileBlobStore, upload_id: str, number: int, data: bytes) -> str:
    staged = store.stage()
    staged.write(data)
    with store.hold(upload_id):
        store.write_part(staged, upload_id, (number - 1) * PART)
    staged.discard()
    return hashlib.sha256(data).hexdigest()


def merge(store: FileBlobStore, upload_id: str, rows: dict[int, str]) -> tuple[int, str]:
    with store.hold(upload_id):
        return store.merge(
            upload_id, {(n - 1) * PART: d for n, d in rows.items()}, "res_" + upload_id, NO_CONN
        )


def test_parts_in_any_order_and_sent_again_merge_to_the_file(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    data = os.urandom(4 * PART + 100)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    rows = {}
    for number in (3, 1, 5, 2):
        rows[number] = put(store, "u1", number, parts[number - 1])
    rows[1] = put(store, "u1", 1, b"x" * PART)
    rows[1] = put(store, "u1", 1, parts[0])
    rows[4] = put(store, "u1", 4, parts[3])
    assert merge(store, "u1", rows) == (len(data), hashlib.sha256(data).hexdigest())
    with store.open_file("res_u1") as merged:
        assert merged.read() == data


def test_a_part_another_process_rewrote_is_read_from_the_file(tmp_path: Path) -> None:
    store, other = FileBlobStore(tmp_path), FileBlobStore(tmp_path)
    data = os.urandom(2 * PART)
    rows = {1: put(store, "u2", 1, b"y" * PART), 2: put(store, "u2", 2, data[PART:])}
    rows[1] = put(other, "u2", 1, data[:PART])
    assert merge(store, "u2", rows) == (len(data), hashlib.sha256(data).hexdigest())
