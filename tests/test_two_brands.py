"""Two brands that try to use each other's uploads and packages."""

from __future__ import annotations

from .conftest import PART_SIZE
from .support import LiveServer

DATA = b"shared-data\n" * 150


def test_brands_cannot_touch_each_others_uploads_or_packages(server: LiveServer) -> None:
    alice, mallory = server.new_brand(), server.new_brand()
    alice_package = server.new_package(alice.brand_id)
    mallory_package = server.new_package(mallory.brand_id)
    opened = alice.verified(alice.init_upload(DATA))["upload_id"]
    merged = alice.upload(DATA, PART_SIZE)

    for response in (
        mallory.put_part(opened, 1, DATA[:PART_SIZE]),
        mallory.merge(opened),
        mallory.merge(merged),
        mallory.expand(mallory_package, merged),
    ):
        body = mallory.verified(response)
        assert (response.status_code, body["code"]) == (403, "NO_AUTH"), body

    into_alice = mallory.expand(alice_package, merged)
    assert (into_alice.status_code, mallory.verified(into_alice)["code"]) == (404, "NOT_FOUND")
    own_into_alice = mallory.expand(alice_package, mallory.upload(DATA, PART_SIZE))
    assert own_into_alice.status_code == 404

    assert alice.verified(alice.expand(alice_package, merged))["state"]
    tasks = server.admin_ok("GET", f"/admin/v1/user-packages/{mallory_package}/tasks")
    assert tasks["total_count"] == 0
