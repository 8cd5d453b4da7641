"""Token buckets per (brand, endpoint): `rate` tokens a second, up to `burst` saved up.

One API process keeps its buckets in memory; several (PostgreSQL, or `--workers N`) share
them in the database, where one upsert refills a bucket and takes a token atomically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Float, bindparam, case, func
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
        table = rate_buckets
        now = bindparam("now", type_=Float)
        smaller = func.min if db.is_sqlite else func.least
        refilled = smaller(float(burst), table.c.tokens + (now - table.c.updated) * rate)
        insert = (sqlite.insert if db.is_sqlite else postgresql.insert)(table).values(
            brand_id=bindparam("brand_id"),
            endpoint=bindparam("endpoint"),
            tokens=burst - 1.0,
            updated=now,
            allowed=True,
        )
        self._take = insert.on_conflict_do_update(
            index_elements=[table.c.brand_id, table.c.endpoint],
            set_={
                "tokens": case((refilled >= 1, refilled - 1), else_=refilled),
                "updated": now,
                "allowed": refilled >= 1,
            },
        ).returning(table.c.allowed, table.c.tokens)

    def take(self, brand_id: str, endpoint: str) -> float:
        params = {"brand_id": brand_id, "endpoint": endpoint, "now": self._clock()}
        with self._db.statement() as conn:
            allowed, tokens = conn.execute(self._take, params).one()
        return 0.0 if allowed else (1.0 - tokens) / self.rate
