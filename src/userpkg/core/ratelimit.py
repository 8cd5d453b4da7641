"""Token buckets per (brand, endpoint): `rate` tokens a second, up to `burst` saved up.

One API process keeps its buckets in memory; several (PostgreSQL, or `--workers N`) share
them in the database, where one upsert refills a bucket and takes a token atomically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite

from userpkg.store.database import Database
from userpkg.store.schema import rate_buckets


class Limiter(Protocol):
    rate: float

    def take(self, brand_id: str, endpoint: str) -> float:
        """0 when the request may go ahead; else the seconds until a token is free."""
        ...


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, brand_id: str, endpoint: str) -> float:
        """0 when the request may go ahead; else the seconds until a token is free (Retry-After)."""
        now = self._clock()
        key = (brand_id, endpoint)
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class SharedRateLimiter:
    """The same buckets, kept in the database so every API process draws from them."""

    def __init__(
        self, db: Database, rate: float, burst: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._db = db
        self._clock = clock

    def take(self, brand_id: str, endpoint: str) -> float:
        now = self._clock()
        table = rate_buckets
        smaller = func.min if self._db.is_sqlite else func.least
        refilled = smaller(float(self.burst), table.c.tokens + (now - table.c.updated) * self.rate)
        insert = (sqlite.insert if self._db.is_sqlite else postgresql.insert)(table).values(
            brand_id=brand_id, endpoint=endpoint, tokens=self.burst - 1.0, updated=now, allowed=True
        )
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.brand_id, table.c.endpoint],
            set_={
                "tokens": case((refilled >= 1, refilled - 1), else_=refilled),
                "updated": now,
                "allowed": refilled >= 1,
            },
        ).returning(table.c.allowed, table.c.tokens)
        with self._db.transaction(durable=False) as conn:
            allowed, tokens = conn.execute(statement).one()
        return 0.0 if allowed else (1.0 - tokens) / self.rate
