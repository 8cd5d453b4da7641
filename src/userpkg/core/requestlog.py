"""What each brand's recent requests were and how their signature checks went.

The thing a developer needs when they get SIGN_ERROR. Entries are queued in memory and
written in batches by a background thread, so no request waits on this write.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from userpkg.store.database import Database
from userpkg.store.schema import request_log

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestEntry:
    brand_id: str
    time: float
    method: str
    path: str
    status: int
    code: str | None
    request_id: str
    auth: str
    latency_ms: float


class RequestLog:
    def __init__(self, db: Database, keep_per_brand: int, flush_seconds: float = 0.25) -> None:
        self._db = db
        self._keep = keep_per_brand
        self._flush_seconds = flush_seconds
        self._pending: list[RequestEntry] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, entry: RequestEntry) -> None:
        with self._lock:
            self._pending.append(entry)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except Exception:
                log.exception("request log flush failed; will retry")

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            brands = {entry.brand_id for entry in batch}
            with self._db.transaction(durable=False) as conn:
                conn.execute(insert(request_log), [asdict(entry) for entry in batch])
                for brand_id in brands:
                    cutoff = conn.execute(
                        select(request_log.c.id)
                        .where(request_log.c.brand_id == brand_id)
                        .order_by(request_log.c.id.desc())
                        .offset(self._keep)
                        .limit(1)
                    ).scalar()
                    if cutoff is not None:
                        conn.execute(
                            delete(request_log).where(
                                request_log.c.brand_id == brand_id, request_log.c.id <= cutoff
                            )
                        )

    def recent(self, brand_id: str, limit: int) -> list[dict[str, Any]]:
        self.flush()
        with self._db.read() as conn:
            rows = conn.execute(
                select(request_log)
                .where(request_log.c.brand_id == brand_id)
                .order_by(request_log.c.id.desc())
                .limit(limit)
            ).all()
        return [
            {key: value for key, value in row._asdict().items() if key not in ("id", "brand_id")}
            for row in rows
        ]
