"""How the service is doing, in numbers: database reachable, task queue, package sizes.

One place for `/healthz`, `/readyz`, `/metrics` and the console to read the same figures.
Each call is a few aggregate queries, made when asked, never on the brand API's path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from userpkg.core.processing import QUEUED
from userpkg.store.database import Database
from userpkg.store.schema import expand_tasks, user_packages


@dataclass(frozen=True)
class QueueState:
    tasks_by_state: dict[str, int]
    queued: int
    oldest_queued_seconds: int | None


def database_kind(db: Database) -> str:
    return "sqlite" if db.is_sqlite else "postgresql"


def queue_state(db: Database, now: int) -> QueueState:
    """Tasks by their public state, and the queue waiting to be matched (`now`: business time)."""
    with db.read() as conn:
        by_state = conn.execute(
            select(expand_tasks.c.state, func.count()).group_by(expand_tasks.c.state)
        ).all()
        queued, oldest = conn.execute(
            select(func.count(), func.min(expand_tasks.c.submit_time)).where(
                expand_tasks.c.phase == QUEUED
            )
        ).one()
    return QueueState(
        tasks_by_state={str(state): int(count) for state, count in by_state},
        queued=int(queued),
        oldest_queued_seconds=None if oldest is None else max(0, now - int(oldest)),
    )


def package_sizes(db: Database) -> list[tuple[str, str, int]]:
    """(brand_id, user_package_id, member_count) of every package."""
    with db.read() as conn:
        rows = conn.execute(
            select(
                user_packages.c.brand_id,
                user_packages.c.user_package_id,
                user_packages.c.member_count,
            ).order_by(user_packages.c.user_package_id)
        ).all()
    return [(str(b), str(p), int(n)) for b, p, n in rows]


def health_report(
    db: Database, now: Callable[[], int], version: str, processing_here: bool
) -> tuple[bool, dict[str, Any]]:
    """(database reachable, the report `/healthz` and `/readyz` show); `now`: business time."""
    worker: dict[str, Any] = {"processing_in_process": processing_here}
    try:
        queue = queue_state(db, now())
    except Exception:
        database = {"kind": database_kind(db), "state": "unavailable"}
        return False, {"version": version, "database": database, "worker": worker}
    worker |= {
        "tasks_queued": queue.queued,
        "oldest_queued_seconds": queue.oldest_queued_seconds,
    }
    database = {"kind": database_kind(db), "state": "ok"}
    return True, {"version": version, "database": database, "worker": worker}
