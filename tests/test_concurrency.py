"""Requests that race for the same thing get clean answers: never a 500, never twice."""

from __future__ import annotations

from .support import PART_SIZE, LiveServer, World
from .test_state import together


def test_simultaneous_expands_of_one_upload_create_one_task(
    server: LiveServer, world: World
) -> None:
    brand = world.brand
    package = server.new_package(brand.brand_id)
    text = "\n".join(world.openid(i, world.bound[0]) for i in range(10))
    upload_id = brand.upload(text.encode(), PART_SIZE)
    answers = together(6, lambda _i: brand.expand(package, upload_id))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    for answer in answers:
        assert brand.verified(answer)["state"].startswith("USER_PACKAGE_PROCESS_STATE_")
    tasks = server.admin_ok("GET", f"/admin/v1/user-packages/{package}/tasks")
    assert tasks["total_count"] == 1


def test_simultaneous_bindings_of_one_appid(server: LiveServer, world: World) -> None:
    path = f"/admin/v1/brands/{world.brand.brand_id}/appids"
    statuses = together(
        6, lambda _i: server.admin.post(path, json={"appid": "wxracing01"}).status_code
    )
    assert sorted(statuses) == [201] + [409] * 5


def test_simultaneous_part_uploads_of_one_part(server: LiveServer, world: World) -> None:
    brand = world.brand
    data = b"x" * (PART_SIZE + 10)
    upload_id = brand.verified(brand.init_upload(data))["upload_id"]
    answers = together(6, lambda _i: brand.put_part(upload_id, 1, data[:PART_SIZE]))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert brand.put_part(upload_id, 2, data[PART_SIZE:]).status_code == 200
    assert brand.merge(upload_id).status_code == 200
