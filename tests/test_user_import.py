"""Explicit users from a streamed file over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from userpkg.client.operator import OperatorClient, OperatorError

from .conftest import PART_SIZE
from .support import LiveServer
from .test_expand_pipeline import task_of, wait_final


def fresh_numbers(count: int) -> list[str]:
    """Numbers no other test in the module uses (the 17x block, random)."""
    return [f"17{n:09d}" for n in random.sample(range(10**9), count)]


def operator(server: LiveServer) -> OperatorClient:
    return OperatorClient(server.base_url, server.service.admin_token)


def user_count(server: LiveServer) -> int:
    return int(server.admin_ok("GET", "/admin/v1/users?limit=1")["total_count"])


def test_import_counts_new_known_and_repeated_numbers(server: LiveServer, tmp_path: Path) -> None:
    known = fresh_numbers(2)
    server.admin_ok("POST", "/admin/v1/users", {"users": [{"phone": p} for p in known]})
    new = fresh_numbers(2500)
    lines = [*new[:1200], known[0], new[5], "", *new[1200:], new[2000], known[1], new[5]]
    path = tmp_path / "numbers.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    before = user_count(server)

    with operator(server) as client:
        report = client.import_users(path)

    assert report == {
        "lines": len(lines),
        "blank": 1,
        "imported": 2500,
        "duplicates": 3,
        "already_known": 2,
        "first_user_id": before + 1,
        "last_user_id": before + 2500,
    }
    assert user_count(server) == before + 2500
    ids = {
        server.admin_ok("GET", f"/admin/v1/users/{uid}")["phone"]
        for uid in (before + 1, before + 1250, before + 2500)
    }
    assert ids <= set(new)

    with operator(server) as client:
        again = client.import_users(path)
    assert (again["imported"], again["already_known"], again["duplicates"]) == (
        0,
        len(lines) - 1,
        0,
    )
    assert user_count(server) == before + 2500, "sending the file again adds nobody"


def test_bad_lines_refuse_the_whole_file_with_their_numbers(
    server: LiveServer, tmp_path: Path
) -> None:
    good = fresh_numbers(50)
    lines = [*good[:10], "1380013800", *good[10:20], "12800138000", "+8613800138000", *good[20:]]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    before = user_count(server)

    with operator(server) as client, pytest.raises(OperatorError) as refused:
        client.import_users(path)

    assert (refused.value.status, refused.value.code) == (400, "PARAM_ERROR")
    assert "line 11, 22, 23" in refused.value.message
    assert "3 line(s)" in refused.value.message
    assert user_count(server) == before, "nothing imported"


def test_only_text_bodies_are_taken(server: LiveServer) -> None:
    response = server.admin.post(
        "/admin/v1/users/import", json=["13800138000"], headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (415, "PARAM_ERROR")
    assert "text/csv" in response.json()["message"]


def test_imported_users_are_matched_by_an_md5_expand(server: LiveServer, tmp_path: Path) -> None:
    numbers = fresh_numbers(300)
    path = tmp_path / "numbers.txt"
    path.write_text("\n".join(numbers))
    with operator(server) as client:
        assert client.import_users(path)["imported"] == 300

    brand = server.new_brand()
    package = server.new_package(brand.brand_id)
    hashes = [hashlib.md5(p.encode()).hexdigest() for p in numbers[:120]]
    hashes += [hashlib.md5(p.encode()).hexdigest() for p in fresh_numbers(5)]
    upload_id = brand.upload(
        ("\n".join(hashes) + "\n").encode(),
        PART_SIZE,
        data_type="USER_PACKAGE_DATA_TYPE_MD5_PHONE",
    )
    assert wait_final(brand, package, upload_id)["state"].endswith("FINISHED")
    stats = task_of(server, package, upload_id)["stats"]
    assert (stats["matched"], stats["unrecognised"], stats["added"]) == (120, 5, 120)  # type: ignore[index]
    assert server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 120
