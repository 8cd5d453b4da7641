"""Logs never carry keys, signatures, tokens, phone numbers, openids or upload ids in full."""

from __future__ import annotations

import hashlib
import logging

import pytest

from userpkg.server.logs import JsonFormatter, quiet_libraries

from .support import PART_SIZE, LiveServer, World


def test_a_full_flow_logs_no_secret(
    server: LiveServer, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_libraries()
    caplog.set_level(logging.DEBUG)
    brand = world.brand
    package = server.new_package(brand.brand_id)
    openids = [world.openid(i, world.bound[0]) for i in range(5)]
    upload_id = brand.upload("\n".join(openids).encode(), PART_SIZE)
    expanded = brand.expand(package, upload_id)
    forged = brand.send("POST", "/brand/marketing/user-package/uploads", b"{}", signed_body=b"x")
    md5 = hashlib.md5(world.phone(0).encode()).hexdigest()
    server.admin_ok("POST", f"/admin/v1/user-packages/{package}/members/check", {"md5_phone": md5})
    server.service.request_log.flush()

    ours = [r for r in caplog.records if r.name.split(".")[0] in ("userpkg", "uvicorn", "alembic")]
    text = "\n".join(JsonFormatter().format(record) for record in ours)
    assert "upload opened" in text, "the flow was logged at all"
    secrets = [
        upload_id,
        server.service.admin_token,
        world.phone(0),
        md5,
        *openids,
        expanded.request.headers["authorization"].split('signature="')[1][:40],
        forged.request.headers["authorization"].split('signature="')[1][:40],
        expanded.headers["wechatpay-signature"][:40],
        "PRIVATE KEY",
    ]
    for secret in secrets:
        leaks = [r.name for r in ours if secret in JsonFormatter().format(r)]
        assert secret not in text, (secret[:12], leaks)


def test_the_sdk_keeps_httpx_from_logging_full_urls() -> None:
    import userpkg.client  # noqa: F401 - importing the SDK is what sets the level

    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
