"""Replay protection: a nonce is accepted once per brand within its time-to-live.

The database's unique key is the authority, shared by every API process: one upsert either
claims the nonce (new, or expired) or finds it live. The `seen` check made before signature
verification only chooses the clearer message for a replay, so it asks this process's memory
of recent nonces instead of the database.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from userpkg.store.database import Database
from userpkg.store.prepared import Prepared
from userpkg.store.schema import nonces


class ReplayGuard:
    def __init__(
        self, db: Database, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._clock = clock
        self._recent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        table = nonces
        upsert = (sqlite.insert if db.is_sqlite else postgresql.insert)(table).values(
            brand_id=bindparam("brand_id"),
            nonce=bindparam("nonce"),
            expires_at=bindparam("expires_at"),
        )
        self._claim = Prepared(
            db,
            upsert.on_conflict_do_update(
                index_elements=[table.c.brand_id, table.c.nonce],
                set_={"expires_at": upsert.excluded.expires_at},
                where=table.c.expires_at <= upsert.excluded.expires_at - ttl_seconds,
            ).returning(table.c.nonce),
        )

    def seen(self, brand_id: str, nonce: str) -> bool:
        """Whether this process accepted the nonce within its time-to-live."""
        expires = self._recent.get((brand_id, nonce))
        return expires is not None and expires > self._clock()

    def remember(self, brand_id: str, nonce: str) -> bool:
        """Claim the nonce; False if any request, in any process, holds it already."""
        now = int(self._clock())
        expires = now + self._ttl
        claimed = self._claim.write(brand_id=brand_id, nonce=nonce, expires_at=expires)
        if claimed is None:
            return False
        with self._lock:
            self._recent[(brand_id, nonce)] = expires
            while self._recent and next(iter(self._recent.values())) <= now:
                self._recent.popitem(last=False)
        return True

    def purge(self) -> int:
        with self._db.transaction(durable=False) as conn:
            expired = delete(nonces).where(nonces.c.expires_at <= int(self._clock()))
            return conn.execute(expired).rowcount
