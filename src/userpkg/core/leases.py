"""Who is matching which task: claims, heartbeats, and what a lost lease means.

A worker holds a queued task under a lease it renews every fifth of `lease_seconds`; a lease
not renewed for that long belongs to a worker that died. A death is not the file's fault, so
it is counted apart from processing errors: `errors` (exceptions) fail a task after
`MAX_ERRORS`; lost leases only after `MAX_CRASHES`, retried at once the first time and then
after a doubling pause, so a file that kills every worker (a poison file) stops in minutes.
A worker restarting on the same host takes back, at once, the tasks its dead self held.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

from userpkg.core.crashpoints import crash_point
from userpkg.store.database import Database
from userpkg.store.schema import expand_tasks

log = logging.getLogger(__name__)

QUEUED = "queued"
MAX_ERRORS = 3
MAX_CRASHES = 5
RETRY_SECONDS = 5
CANDIDATES = 8


def owner_name(token: str) -> str:
    """`host:pid:token`: enough for a restarted worker to recognise what its dead self held."""
    return f"{socket.gethostname()}:{os.getpid()}:{token}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def abandoned_here(owner: str, me: str) -> bool:
    """True if `owner` was a worker on this host that is gone: its pid is dead, or is ours
    under another token (a restart that got the same pid, as in a container)."""
    theirs, mine = owner.rsplit(":", 2), me.rsplit(":", 2)
    if len(theirs) != 3 or theirs[0] != mine[0] or owner == me or not theirs[1].isdigit():
        return False
    return theirs[1] == mine[1] or not _pid_alive(int(theirs[1]))


def crash_backoff(crashes: int, lease_seconds: int) -> int:
    """Seconds before retrying a task after its `crashes`-th lost lease: 0, then 1, 2, 4 leases."""
    return 0 if crashes < 2 else lease_seconds * 2 ** (crashes - 2)


class TaskLeases:
    def __init__(
        self,
        db: Database,
        owner: str,
        lease_seconds: int,
        fail: Callable[[Connection, int, str], None],
    ) -> None:
        self._db = db
        self._owner = owner
        self._lease = lease_seconds
        self._fail = fail

    @property
    def heartbeat_seconds(self) -> float:
        return max(self._lease / 5, 0.2)

    def reclaim_abandoned(self) -> int:
        """Make the leases of this host's dead workers stale now, not when they run out."""
        with self._db.transaction() as conn:
            held = conn.execute(
                select(expand_tasks.c.task_id, expand_tasks.c.lease_owner).where(
                    expand_tasks.c.phase == QUEUED, expand_tasks.c.lease_owner.is_not(None)
                )
            ).all()
            stale = [row.task_id for row in held if abandoned_here(row.lease_owner, self._owner)]
            if stale:
                conn.execute(
                    update(expand_tasks)
                    .where(expand_tasks.c.task_id.in_(stale), expand_tasks.c.phase == QUEUED)
                    .values(lease_expires=0)
                )
        if stale:
            log.warning("took back tasks of a worker that died", extra={"tasks": stale})
        return len(stale)

    def claim(self) -> Row[Any] | None:
        """The oldest queued task nobody holds, now leased to this worker; or None."""
        now = int(time.time())
        with self._db.transaction() as conn:
            candidates = conn.execute(
                select(expand_tasks)
                .where(
                    expand_tasks.c.phase == QUEUED,
                    or_(expand_tasks.c.lease_expires.is_(None), expand_tasks.c.lease_expires < now),
                )
                .order_by(expand_tasks.c.task_id)
                .limit(CANDIDATES)
                .with_for_update(skip_locked=True)
            ).all()
            task = next((t for t in candidates if self._claimable(conn, t, now)), None)
            if task is None:
                return None
            conn.execute(
                update(expand_tasks)
                .where(expand_tasks.c.task_id == task.task_id)
                .values(
                    lease_owner=self._owner,
                    lease_expires=now + self._lease,
                    attempts=task.attempts + 1,
                )
            )
        crash_point("claimed")
        return task

    def _claimable(self, conn: Connection, task: Row[Any], now: int) -> bool:
        """A task still leased to someone lost that lease: count the crash, fail or pause it."""
        if task.lease_owner is None:
            return True
        crashes = task.attempts - task.errors
        if crashes >= MAX_CRASHES:
            self._fail(
                conn,
                task.task_id,
                f"the worker stopped {crashes} times while processing this file (killed or "
                "out of memory), so it was not retried again; check the file, or send it in "
                "smaller files, and tell the operator if it repeats",
            )
            return False
        pause = crash_backoff(crashes, self._lease)
        if pause:
            conn.execute(
                update(expand_tasks)
                .where(expand_tasks.c.task_id == task.task_id)
                .values(lease_owner=None, lease_expires=now + pause)
            )
            log.warning(
                "task retried later after a worker died",
                extra={"task_id": task.task_id, "crashes": crashes, "seconds": pause},
            )
            return False
        return True

    @contextmanager
    def held(self, task_id: int) -> Iterator[None]:
        """Renew the lease every heartbeat while the caller works on the task."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_seconds):
                try:
                    with self._db.transaction(durable=False) as conn:
                        conn.execute(
                            update(expand_tasks)
                            .where(
                                expand_tasks.c.task_id == task_id,
                                expand_tasks.c.lease_owner == self._owner,
                            )
                            .values(lease_expires=int(time.time()) + self._lease)
                        )
                except Exception:
                    log.warning("lease heartbeat failed", extra={"task_id": task_id})

        thread = threading.Thread(target=beat, name=f"lease-{task_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def retry_or_fail(self, task: Row[Any], reason: str) -> None:
        """After an exception (a genuine processing error): retry soon, up to MAX_ERRORS."""
        errors = task.errors + 1
        with self._db.transaction() as conn:
            if errors >= MAX_ERRORS:
                self._fail(conn, task.task_id, f"{reason}; gave up after {MAX_ERRORS} attempts")
                return
            conn.execute(
                update(expand_tasks)
                .where(expand_tasks.c.task_id == task.task_id)
                .values(
                    errors=errors,
                    lease_owner=None,
                    lease_expires=int(time.time()) + RETRY_SECONDS,
                )
            )
