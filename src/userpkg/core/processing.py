"""Expand tasks, from PROCESSING to FINISHED or FAILED (SPEC §7).

Two steps, each idempotent. *Match*: a worker claims a queued task under a lease, streams the
merged file part by part through the parser and matcher, and keeps the set of recognised users
as a delta bitmap named after the task. *Finalize*: once the task's effective time has come,
the package's members become old ∪ delta, written as a new version under the task's name; one
transaction then points the package at it and marks the task FINISHED. A crash anywhere
repeats a step with the same inputs and the same names, so nothing is lost or counted twice.
"""

from __future__ import annotations

import array
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyroaring import BitMap
from sqlalchemy import Connection, Row, func, select, update

from userpkg.core.brands import Brands
from userpkg.core.clock import ServiceClock, rfc3339
from userpkg.core.crashpoints import crash_point
from userpkg.core.directory import Directory
from userpkg.core.leases import TaskLeases
from userpkg.core.matching import Matcher
from userpkg.core.settings import Settings
from userpkg.protocol import DataType, ProcessState
from userpkg.protocol.audience import AudienceParser
from userpkg.store.audience import AudienceStore
from userpkg.store.blobs import BlobStore
from userpkg.store.database import Database
from userpkg.store.schema import expand_tasks, uploads, user_packages

log = logging.getLogger(__name__)

QUEUED, MATCHED, DONE = "queued", "matched", "done"


@dataclass(frozen=True)
class MatchResult:
    lines: int
    blank: int
    malformed: int
    unrecognised: int
    matched: int
    duplicates: int
    delta: BitMap


def delta_name(task_id: int) -> str:
    return f"delta/{task_id:012d}"


class ExpandProcessor:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        audience: AudienceStore,
        directory: Directory,
        matcher: Matcher,
        brands: Brands,
        clock: ServiceClock,
        settings: Settings,
        owner: str,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._audience = audience
        self._directory = directory
        self._matcher = matcher
        self._brands = brands
        self._clock = clock
        self._settings = settings
        self._owner = owner
        self._leases = TaskLeases(db, owner, settings.lease_seconds, self._fail)

    def step(self) -> bool:
        """Match one queued task and finalize what is due; True if there was work."""
        matched = self.match_next()
        finalized = self.finalize_due()
        return matched or finalized

    def reclaim_abandoned(self) -> int:
        """At start: take back at once what this host's dead workers held (see leases)."""
        return self._leases.reclaim_abandoned()

    def match_next(self) -> bool:
        task = self._leases.claim()
        if task is None:
            return False
        try:
            with self._leases.held(task.task_id):
                self._match(task)
        except Exception as exc:
            log.exception("matching failed", extra={"task_id": task.task_id})
            self._leases.retry_or_fail(
                task, f"internal error while matching ({type(exc).__name__})"
            )
        return True

    def _match(self, task: Row[Any]) -> None:
        with self._db.read() as conn:
            upload = conn.execute(
                select(uploads.c.resource_id, uploads.c.data_type).where(
                    uploads.c.upload_id == task.upload_id
                )
            ).one()
        if upload.resource_id is None or not self._blobs.has_file(upload.resource_id):
            with self._db.transaction() as conn:
                self._fail(conn, task.task_id, "the uploaded file is missing; upload it again")
            return
        result = self.match_file(upload.resource_id, DataType(upload.data_type), task.brand_id)
        name = delta_name(task.task_id)
        self._audience.save_delta(name, result.delta)
        crash_point("delta-written")
        with self._db.transaction() as conn:
            conn.execute(
                update(expand_tasks)
                .where(
                    expand_tasks.c.task_id == task.task_id,
                    expand_tasks.c.phase == QUEUED,
                    expand_tasks.c.lease_owner == self._owner,
                )
                .values(
                    phase=MATCHED,
                    delta=name,
                    lines=result.lines,
                    blank=result.blank,
                    malformed=result.malformed,
                    unrecognised=result.unrecognised,
                    matched=result.matched,
                    duplicates=result.duplicates,
                    lease_owner=None,
                    lease_expires=None,
                    return_message=(
                        f"{result.matched} of {result.lines} lines recognised "
                        f"({len(result.delta)} distinct users); they take effect at "
                        f"{rfc3339(task.effective_time)}"
                    ),
                )
            )
        crash_point("matched")

    def match_file(self, resource_id: str, data_type: DataType, brand_id: str) -> MatchResult:
        """Stream one merged file through the parser and matcher, one part at a time."""
        appids = self._brands.appids(brand_id)
        next_id = self._directory.next_id()
        parser = AudienceParser(data_type)
        found: list[np.ndarray[Any, np.dtype[np.uint32]]] = []

        def recognise(values: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
            if not len(values):
                return
            if data_type is DataType.OPENID:
                ids = self._matcher.openids(values, appids, next_id)
            else:
                ids = self._matcher.md5_phones(values)
            found.append(ids[ids != 0])

        with self._blobs.open_file(resource_id) as handle:
            for chunk in iter(lambda: handle.read(self._settings.part_size), b""):
                recognise(parser.feed(chunk))
        recognise(parser.finish())
        ids = np.concatenate(found) if found else np.empty(0, dtype=np.uint32)
        # sorted, from a uint32 buffer: pyroaring adds it in bulk, 10x faster than from numpy
        delta = BitMap(array.array("I", np.sort(ids).tobytes()))
        counts = parser.counts
        return MatchResult(
            lines=counts.lines,
            blank=counts.blank,
            malformed=counts.malformed,
            unrecognised=counts.well_formed - len(ids),
            matched=len(ids),
            duplicates=len(ids) - len(delta),
            delta=delta,
        )

    def finalize_due(self) -> bool:
        now = self._clock.now()
        with self._db.read() as conn:
            due = list(
                conn.execute(
                    select(expand_tasks.c.task_id)
                    .where(expand_tasks.c.phase == MATCHED, expand_tasks.c.effective_time <= now)
                    .order_by(expand_tasks.c.task_id)
                ).scalars()
            )
        done = False
        for task_id in due:
            done = self._finalize(task_id, now) or done
        return done

    def _finalize(self, task_id: int, now: int) -> bool:
        with self._db.transaction() as conn:
            task = conn.execute(
                select(expand_tasks)
                .where(expand_tasks.c.task_id == task_id, expand_tasks.c.phase == MATCHED)
                .with_for_update()
            ).first()
            if task is None or self._earlier_pending(conn, task):
                return False
            package = conn.execute(
                select(user_packages)
                .where(user_packages.c.user_package_id == task.user_package_id)
                .with_for_update()
            ).one()
            delta = self._audience.load_delta(task.delta)
            already, ref = self._audience.apply(
                conn, package.user_package_id, package.members, delta, f"{task_id:012d}"
            )
            added = len(delta) - already
            crash_point("members-written")
            conn.execute(
                update(user_packages)
                .where(user_packages.c.user_package_id == package.user_package_id)
                .values(members=ref, member_count=package.member_count + added)
            )
            conn.execute(
                update(expand_tasks)
                .where(expand_tasks.c.task_id == task_id)
                .values(
                    phase=DONE,
                    state=ProcessState.FINISHED.value,
                    already_members=already,
                    added=added,
                    finish_time=now,
                    return_message=(
                        f"added {added} users to the package ({already} were already members; "
                        f"{task.unrecognised} lines not recognised, {task.malformed} malformed); "
                        f"in effect since {rfc3339(task.effective_time)}"
                    ),
                )
            )
        crash_point("finalized")
        self._audience.forget(package.user_package_id, ref, task.delta)
        log.info(
            "expand finished",
            extra={"task_id": task_id, "package": package.user_package_id, "added": added},
        )
        return True

    @staticmethod
    def _earlier_pending(conn: Connection, task: Row[Any]) -> bool:
        """Tasks of one package apply in the order they were submitted."""
        earlier = conn.execute(
            select(func.count())
            .select_from(expand_tasks)
            .where(
                expand_tasks.c.user_package_id == task.user_package_id,
                expand_tasks.c.task_id < task.task_id,
                expand_tasks.c.phase.in_((QUEUED, MATCHED)),
            )
        ).scalar_one()
        return bool(earlier)

    def _fail(self, conn: Connection, task_id: int, reason: str) -> None:
        conn.execute(
            update(expand_tasks)
            .where(expand_tasks.c.task_id == task_id)
            .values(
                phase=DONE,
                state=ProcessState.FAILED.value,
                return_message=reason,
                finish_time=self._clock.now(),
                lease_owner=None,
                lease_expires=None,
            )
        )
        log.warning("expand failed", extra={"task_id": task_id, "reason": reason})
