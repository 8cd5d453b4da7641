"""Business time: real time plus an offset the sandbox can move forward.

Effective times and upload expiry follow this clock; signatures and replay windows always use
real time, since clients sign with their own real clocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete

from userpkg.store.database import Database
from userpkg.store.schema import service_state
from userpkg.store.state import get_value, locked_value, set_value

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_OFFSET = "clock_offset_seconds"


def rfc3339(ts: float) -> str:
    """`2026-11-28T12:00:00+08:00`: the public API shows times in Asia/Shanghai."""
    return datetime.fromtimestamp(int(ts), SHANGHAI).isoformat()


class ServiceClock:
    def __init__(self, db: Database, real: Callable[[], float] = time.time) -> None:
        self._db = db
        self._real = real

    def offset(self) -> int:
        with self._db.read() as conn:
            value = get_value(conn, _OFFSET)
        return int(value) if value is not None else 0

    def now(self) -> int:
        return int(self._real()) + self.offset()

    def advance(self, seconds: int) -> int:
        """Move business time forward (sandbox only); returns the new now."""
        with self._db.transaction() as conn:
            new = int(locked_value(conn, _OFFSET, "0")) + seconds
            set_value(conn, _OFFSET, str(new))
        return int(self._real()) + new

    def rewind(self, conn: Connection) -> None:
        """Back to real time, inside the caller's transaction (a sandbox reset)."""
        conn.execute(delete(service_state).where(service_state.c.name == _OFFSET))
