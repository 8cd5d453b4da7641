"""Replay protection: a nonce is accepted once per brand within its time-to-live."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from userpkg.store.database import Database
from userpkg.store.schema import nonces


class ReplayGuard:
    def __init__(
        self, db: Database, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._clock = clock

    def seen(self, brand_id: str, nonce: str) -> bool:
        with self._db.read() as conn:
            row = conn.execute(
                select(nonces.c.expires_at).where(
                    nonces.c.brand_id == brand_id,
                    nonces.c.nonce == nonce,
                    nonces.c.expires_at > int(self._clock()),
                )
            ).first()
        return row is not None

    def remember(self, brand_id: str, nonce: str) -> bool:
        """Record the nonce; False if another request already used it (a race or a replay)."""
        now = int(self._clock())
        try:
            with self._db.transaction(durable=False) as conn:
                conn.execute(
                    delete(nonces).where(
                        nonces.c.brand_id == brand_id,
                        nonces.c.nonce == nonce,
                        nonces.c.expires_at <= now,
                    )
                )
                conn.execute(
                    insert(nonces).values(
                        brand_id=brand_id, nonce=nonce, expires_at=now + self._ttl
                    )
                )
        except IntegrityError:
            return False
        return True

    def purge(self) -> int:
        with self._db.transaction(durable=False) as conn:
            return conn.execute(
                delete(nonces).where(nonces.c.expires_at <= int(self._clock()))
            ).rowcount
