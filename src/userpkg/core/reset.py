"""Sandbox reset (SPEC §10): back to the freshly provisioned state in one transaction.

Configuration stays (brands, certificates, platform keys, appids, users, package ids); what
brands did goes (members, uploads and their parts and files, tasks, fault rules, the request
log, rate buckets, the moved clock). Nonces stay on purpose: a request signed before the
reset must still not be replayable after it. Files are removed only after the commit, so a
request in flight sees either the old state or the new one, never rows without their files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError

from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.store.schema import (
    blob_chunks,
    brands,
    expand_tasks,
    fault_rules,
    member_chunks,
    rate_buckets,
    upload_parts,
    uploads,
    user_packages,
)

log = logging.getLogger(__name__)

LOCKED = (
    "expand_tasks",
    "upload_parts",
    "uploads",
    "member_chunks",
    "user_packages",
    "fault_rules",
    "request_log",
    "rate_buckets",
    "blob_chunks",
    "brands",
    "service_state",
)
LOCK_NOT_AVAILABLE = "55P03"
LOCK_ATTEMPTS = 200
LOCK_PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class ResetReport:
    packages: int
    uploads: int
    tasks: int

    def public(self) -> dict[str, int]:
        return {"packages": self.packages, "uploads": self.uploads, "tasks": self.tasks}


def reset_sandbox(service: Service) -> ResetReport:
    """Empty every package and forget every upload, task, rule and logged request."""
    for _ in range(LOCK_ATTEMPTS):
        try:
            return _reset(service)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
        time.sleep(LOCK_PAUSE_SECONDS)
    raise ApiProblem(
        ErrorCode.SYSTEM_ERROR,
        "the sandbox stayed too busy to reset for 10 s; stop sending requests and retry",
        status=503,
    )


def _reset(service: Service) -> ResetReport:
    db = service.db
    with db.transaction() as conn:
        if not db.is_sqlite:
            # Every table the reset changes, at once or not at all (EXCLUSIVE: no row locks of
            # others either, plain reads go on). Waiting while holding some could deadlock with
            # a request that holds the others, and that request would fail.
            conn.execute(text(f"LOCK TABLE {', '.join(LOCKED)} IN EXCLUSIVE MODE NOWAIT"))
        upload_rows = conn.execute(select(uploads.c.upload_id, uploads.c.resource_id)).all()
        deltas = conn.execute(
            select(expand_tasks.c.user_package_id, expand_tasks.c.delta).where(
                expand_tasks.c.delta.is_not(None)
            )
        ).all()
        package_ids = list(conn.execute(select(user_packages.c.user_package_id)).scalars())
        tasks = conn.execute(delete(expand_tasks)).rowcount
        conn.execute(delete(upload_parts))
        conn.execute(update(user_packages).values(member_count=0, members=None))
        conn.execute(delete(uploads))
        conn.execute(delete(member_chunks))
        conn.execute(delete(fault_rules))
        service.request_log.clear(conn, time.time())
        conn.execute(delete(rate_buckets))
        conn.execute(update(brands).values(signtest_pending=False))
        service.clock.rewind(conn)
        if not db.is_sqlite:
            conn.execute(delete(blob_chunks))
    for upload_id, resource_id in upload_rows:
        service.blobs.delete_parts(upload_id)
        if resource_id is not None:
            service.blobs.delete_file(resource_id)
    for package_id in package_ids:
        service.audience.forget(package_id, "", None)
    for package_id, delta in deltas:
        service.audience.forget(package_id, "", delta)
    report = ResetReport(len(package_ids), len(upload_rows), tasks)
    log.info("sandbox reset", extra=report.public())
    return report
