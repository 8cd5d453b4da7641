"""Replay protection in the store: once per brand within the time-to-live, then free again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from userpkg.core.replay import ReplayGuard
from userpkg.store.database import Database, sqlite_url
from userpkg.store.schema import nonces

from .databases import PG_URL, SKIP_PG, database_url


def test_nonce_is_claimed_once_until_it_expires(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path))
    db.migrate()
    now = [1_000_000.0]
    guard = ReplayGuard(db, ttl_seconds=600, clock=lambda: now[0])
    assert guard.remember("brand", "n1")
    assert guard.seen("brand", "n1")
    assert not guard.remember("brand", "n1")
    assert guard.remember("other", "n1"), "nonces are per brand"

    other_process = ReplayGuard(db, ttl_seconds=600, clock=lambda: now[0])
    assert not other_process.seen("brand", "n1"), "memory is per process"
    assert not other_process.remember("brand", "n1"), "the database is shared"

    now[0] += 599
    assert not guard.remember("brand", "n1")
    now[0] += 1
    assert not guard.seen("brand", "n1")
    assert guard.remember("brand", "n1"), "free again after its time-to-live"
    assert guard.purge() == 1, "the other brand's nonce, claimed 600 s ago"
    assert guard.purge() == 0
    now[0] += 601
    assert guard.purge() == 1
    db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_unflushed_transactions_are_still_transactions(tmp_path: Path, backend: str) -> None:
    """transaction(durable=False) commits or rolls back as a whole, on every database."""
    if backend == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(backend) as url:
        db = Database(url or sqlite_url(tmp_path))
        db.migrate()

        def half_done() -> None:
            with db.transaction(durable=False) as conn:
                conn.execute(insert(nonces).values(brand_id="b", nonce="n", expires_at=1))
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            half_done()
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 0
        db.dispose()
