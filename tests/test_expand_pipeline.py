"""Ground truth for what an expand does (SPEC §7): exact counts, members and visibility."""

from __future__ import annotations

import hashlib
import random
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.core.settings import Settings, SyncDelay

from .support import PART_SIZE, LiveServer, SigningBrand, World, build_world

RISK = "USER_PACKAGE_TYPE_RISK_USER"


def wait_final(
    brand: SigningBrand, package: str, upload_id: str, seconds: float = 20
) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        answer = brand.verified(brand.expand(package, upload_id))
        if (
            answer["state"] != "USER_PACKAGE_PROCESS_STATE_PROCESSING"
            or time.monotonic() > deadline
        ):
            return answer  # type: ignore[no-any-return]
        time.sleep(0.05)


def task_of(server: LiveServer, package: str, upload_id: str) -> dict[str, object]:
    tasks = server.admin_ok("GET", f"/admin/v1/user-packages/{package}/tasks")["data"]
    return next(t for t in tasks if t["upload_id"] == upload_id)


def is_member(server: LiveServer, package: str, **query: object) -> bool:
    return bool(
        server.admin_ok("POST", f"/admin/v1/user-packages/{package}/members/check", query)["member"]
    )


def random_openid() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits + "_-", k=28))


def test_openid_file_counts_and_members(world: World) -> None:
    server, brand = world.server, world.brand
    a, b = world.bound
    lines = [
        world.openid(0, a),
        world.openid(1, a),
        "  " + world.openid(2, a) + " ",
        world.openid(0, b),
        world.openid(1, a),
        world.openid(3, world.unbound),
        random_openid(),
        "",
        "   ",
        "not an openid",
        world.openid(4, a)[:-1],
        world.openid(4, a) + "X",
        world.openid(5, b),
    ]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n\n"
    expected = {
        "lines": len(lines) + 1,
        "blank": 3,
        "malformed": 3,
        "unrecognised": 2,
        "matched": 6,
        "duplicates": 2,
        "already_members": 0,
        "added": 4,
    }
    package = server.new_package(brand.brand_id)
    upload_id = brand.upload(text.encode(), PART_SIZE)
    assert wait_final(brand, package, upload_id)["state"] == "USER_PACKAGE_PROCESS_STATE_FINISHED"
    task = task_of(server, package, upload_id)
    assert task["stats"] == expected
    assert "added 4 users" in str(task["return_message"])
    assert server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 4
    for index in (0, 1, 2, 5):
        assert is_member(server, package, user_id=world.users[index]["user_id"])
    for index in (3, 4, 6):
        assert not is_member(server, package, user_id=world.users[index]["user_id"])
    assert is_member(server, package, appid=b, openid=world.openid(0, b))
    assert not is_member(server, package, appid=a, openid=world.openid(3, a))
    assert is_member(server, package, md5_phone=hashlib.md5(world.phone(2).encode()).hexdigest())


def test_md5_file_both_cases_and_an_overlapping_second_expand(world: World) -> None:
    server, brand = world.server, world.brand
    package = server.new_package(brand.brand_id, RISK)

    def md5(index: int) -> str:
        return hashlib.md5(world.phone(index).encode()).hexdigest()

    first = [
        md5(10),
        md5(11).upper(),
        md5(12),
        md5(10).upper(),
        hashlib.md5(b"13000000000").hexdigest(),
        "zz",
    ]
    upload_one = brand.upload(
        "\n".join(first).encode(),
        PART_SIZE,
        data_type="USER_PACKAGE_DATA_TYPE_MD5_PHONE",
        package_type=RISK,
    )
    assert wait_final(brand, package, upload_one)["state"].endswith("FINISHED")
    assert task_of(server, package, upload_one)["stats"] == {
        "lines": 6,
        "blank": 0,
        "malformed": 1,
        "unrecognised": 1,
        "matched": 4,
        "duplicates": 1,
        "already_members": 0,
        "added": 3,
    }
    second = [md5(12), md5(13), md5(13), md5(14).upper()]
    upload_two = brand.upload(
        "\n".join(second).encode(),
        PART_SIZE,
        data_type="USER_PACKAGE_DATA_TYPE_MD5_PHONE",
        package_type=RISK,
    )
    assert wait_final(brand, package, upload_two)["state"].endswith("FINISHED")
    assert task_of(server, package, upload_two)["stats"] == {
        "lines": 4,
        "blank": 0,
        "malformed": 0,
        "unrecognised": 0,
        "matched": 4,
        "duplicates": 1,
        "already_members": 1,
        "added": 2,
    }
    assert server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 5
    assert is_member(server, package, md5_phone=md5(14))
    assert not is_member(server, package, md5_phone=md5(15))


def test_appid_bindings_count_at_processing_time(world: World) -> None:
    server, brand = world.server, world.brand
    package = server.new_package(brand.brand_id)
    extra = f"wxd{brand.brand_id[-6:]}"
    server.admin_ok("POST", f"/admin/v1/brands/{brand.brand_id}/appids", {"appid": extra})
    user = server.admin_ok("GET", f"/admin/v1/users/{world.users[20]['user_id']}")
    server.admin_ok("DELETE", f"/admin/v1/brands/{brand.brand_id}/appids/{extra}")
    upload_id = brand.upload((user["openids"][extra] + "\n").encode(), PART_SIZE)
    wait_final(brand, package, upload_id)
    assert task_of(server, package, upload_id)["stats"]["unrecognised"] == 1  # type: ignore[index]


@pytest.fixture
def delayed(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(
        Settings(
            data_dir=tmp_path, sandbox=True, sync_delay=SyncDelay(seconds=3600), part_size=PART_SIZE
        )
    )
    yield live
    live.stop()


def test_members_appear_all_at_once_at_the_effective_time(delayed: LiveServer) -> None:
    world = build_world(delayed)
    brand = world.brand
    package = delayed.new_package(brand.brand_id)
    text = "\n".join(world.openid(i, world.bound[0]) for i in range(30)).encode()
    upload_id = brand.upload(text, PART_SIZE)
    assert brand.verified(brand.expand(package, upload_id))["state"].endswith("PROCESSING")
    deadline = time.monotonic() + 20
    while task_of(delayed, package, upload_id)["stats"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    task = task_of(delayed, package, upload_id)
    assert task["stats"]["matched"] == 30  # type: ignore[index]
    assert task["state"].endswith("PROCESSING")  # type: ignore[union-attr]
    assert delayed.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 0
    assert not is_member(delayed, package, user_id=world.users[0]["user_id"])

    delayed.admin_ok("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    assert wait_final(brand, package, upload_id)["state"].endswith("FINISHED")
    assert delayed.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 30
    assert is_member(delayed, package, user_id=world.users[29]["user_id"])
