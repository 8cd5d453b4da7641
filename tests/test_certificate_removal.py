"""Removing a certificate: refused at once by the API process that removed it, and by every
other within the brand cache's bound (`CACHE_SECONDS`, documented in docs/deployment.md)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.core.brands import CACHE_SECONDS

from .databases import PG_URL, SKIP_PG, fresh_postgres
from .processes import ServiceProcess
from .support import Operator, SigningBrand


@pytest.fixture
def two_apis(tmp_path: Path) -> Iterator[tuple[ServiceProcess, ServiceProcess, str]]:
    if PG_URL is None:
        pytest.skip(SKIP_PG)
    with fresh_postgres() as url:
        token = secrets.token_urlsafe(16)
        apis = [
            ServiceProcess(
                ["serve", "--db", url, "--data", str(tmp_path / f"api{i}"), "--no-processing"],
                tmp_path / f"api{i}.log",
                env={"USERPKG_ADMIN_TOKEN": token},
            )
            for i in range(2)
        ]
        try:
            for api in apis:
                api.wait_healthy()
            yield apis[0], apis[1], token
        finally:
            for api in apis:
                api.stop()


def on(brand: SigningBrand, api: ServiceProcess) -> SigningBrand:
    return SigningBrand(
        api.base_url,
        brand.brand_id,
        brand.serial_no,
        brand.private_key,
        brand.platform_key_id,
        brand.platform_public_pem,
    )


def status(brand: SigningBrand) -> int:
    return brand.init_upload(b"hello\n").status_code


def test_a_removed_certificate_is_refused_everywhere_within_the_cache_bound(
    two_apis: tuple[ServiceProcess, ServiceProcess, str],
) -> None:
    first, second, token = two_apis
    operator = Operator(first.base_url, token)
    brand = operator.new_brand()
    here, there = on(brand, first), on(brand, second)
    assert status(here) == 200
    assert status(there) == 200, "the other process has the certificate in its cache now"

    operator.admin_ok("DELETE", f"/admin/v1/brands/{brand.brand_id}/certificates/{brand.serial_no}")
    removed_at = time.monotonic()
    assert status(here) == 401, "the removing process forgets the certificate at once"

    time.sleep(max(0.0, CACHE_SECONDS - (time.monotonic() - removed_at)) + 0.05)
    assert status(there) == 401, f"another process must refuse it after {CACHE_SECONDS} s"
