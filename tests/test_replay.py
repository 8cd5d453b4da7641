"""Replay protection in the store: once per brand within the time-to-live, then free again."""

from __future__ import annotations

from pathlib import Path

from userpkg.core.replay import ReplayGuard
from userpkg.store.database import Database, sqlite_url


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
