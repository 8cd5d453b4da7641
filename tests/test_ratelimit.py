"""The per-brand, per-endpoint token bucket, seen from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.core.ratelimit import RateLimiter, SharedRateLimiter
from userpkg.core.settings import Settings
from userpkg.store.database import Database, sqlite_url

from .databases import PG_URL, SKIP_PG, database_url
from .support import PREFIX, LiveServer


@pytest.fixture(params=["memory", "sqlite-shared", "postgres"])
def strict_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Buckets in memory (one process), or shared in the database (several processes)."""
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url("postgres" if request.param == "postgres" else "sqlite") as url:
        live = LiveServer(
            Settings(
                data_dir=tmp_path,
                db_url=url,
                rate_per_second=0.5,
                rate_burst=3,
                shared_limits=request.param != "memory",
            )
        )
        yield live
        live.stop()


def test_burst_then_429_with_retry_after_per_brand_and_endpoint(strict_server: LiveServer) -> None:
    brand, other = strict_server.new_brand(), strict_server.new_brand()
    codes = [brand.init_upload(b"x\n").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = brand.init_upload(b"x\n")
    body = brand.verified(limited)
    assert body["code"] == "RATELIMIT_EXCEEDED"
    assert int(limited.headers["Retry-After"]) >= 1
    assert other.init_upload(b"x\n").status_code == 200, "buckets are per brand"
    expand = brand.send("POST", f"{PREFIX}/user-packages/{'0' * 20}/expand", b'{"upload_id":"u"}')
    assert expand.status_code == 404, "and per endpoint"


def test_shared_bucket_refills_at_the_configured_rate(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path))
    db.migrate()
    now = [100.0]
    limiter = SharedRateLimiter(db, rate=2, burst=2, clock=lambda: now[0])
    assert [limiter.take("b", "e") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] = 100.5
    assert limiter.take("b", "e") == 0.0
    assert limiter.take("b", "e") > 0
    db.dispose()


def test_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    assert [limiter.take("b", "e") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] = 0.5
    assert limiter.take("b", "e") == 0.0
    assert limiter.take("b", "e") > 0
