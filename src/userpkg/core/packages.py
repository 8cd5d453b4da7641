"""User packages and the expand tasks that grow them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, String, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from userpkg.core.brands import Brands, not_found
from userpkg.core.clock import ServiceClock, rfc3339
from userpkg.core.datasync import effective_time
from userpkg.core.settings import Settings
from userpkg.core.uploads import MERGED, Uploads, short
from userpkg.protocol import PackageType, ProcessState
from userpkg.protocol.errors import invalid_request, param_error
from userpkg.store.database import Database
from userpkg.store.prepared import Prepared
from userpkg.store.schema import STAT_COLUMNS, expand_tasks, uploads, user_packages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Package:
    user_package_id: str
    brand_id: str
    name: str
    package_type: str
    member_count: int
    members: str | None
    created_at: int

    def public(self) -> dict[str, Any]:
        return {
            "user_package_id": self.user_package_id,
            "brand_id": self.brand_id,
            "name": self.name,
            "package_type": self.package_type,
            "member_count": self.member_count,
            "create_time": rfc3339(self.created_at),
        }


def _used_elsewhere(upload_id: str) -> Exception:
    return invalid_request(
        f"upload {short(upload_id)} was already used to expand another package", "/upload_id"
    )


def task_view(row: Row[Any]) -> dict[str, Any]:
    """A task as the operator API shows it."""
    stats = {name: getattr(row, name) for name in STAT_COLUMNS}
    return {
        "upload_id": row.upload_id,
        "state": row.state,
        "return_message": row.return_message,
        "submit_time": rfc3339(row.submit_time),
        "effective_time": None if row.effective_time is None else rfc3339(row.effective_time),
        "finish_time": None if row.finish_time is None else rfc3339(row.finish_time),
        "stats": stats if row.lines is not None else None,
    }


class Packages:
    def __init__(
        self,
        db: Database,
        brands: Brands,
        uploads_: Uploads,
        clock: ServiceClock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._brands = brands
        self._uploads = uploads_
        self._clock = clock
        self._settings = settings
        self.on_created: Callable[[], None] | None = None
        self._poll = Prepared(db, _poll_query())

    def create(self, brand_id: str, name: str, package_type: str) -> Package:
        self._brands.require(brand_id)
        if not name or len(name) > 128:
            raise param_error("name must be 1 to 128 characters", "/name")
        if package_type not in {t.value for t in PackageType}:
            allowed = ", ".join(t.value for t in PackageType)
            raise param_error(f"package_type must be one of {allowed}", "/package_type")
        now = self._clock.now()
        for _ in range(5):
            package_id = f"{secrets.randbelow(10**20):020d}"
            try:
                with self._db.transaction() as conn:
                    conn.execute(
                        insert(user_packages).values(
                            user_package_id=package_id,
                            brand_id=brand_id,
                            name=name,
                            package_type=package_type,
                            member_count=0,
                            created_at=now,
                        )
                    )
            except IntegrityError:
                continue
            return Package(package_id, brand_id, name, package_type, 0, None, now)
        raise RuntimeError("could not find a free user_package_id")

    def get(self, package_id: str) -> Package | None:
        with self._db.read() as conn:
            return self._package(conn, package_id)

    @staticmethod
    def _package(conn: Connection, package_id: str) -> Package | None:
        row = conn.execute(
            select(user_packages).where(user_packages.c.user_package_id == package_id)
        ).first()
        return None if row is None else Package(**row._asdict())

    def require(self, package_id: str) -> Package:
        package = self.get(package_id)
        if package is None:
            raise not_found(f"user package {package_id}")
        return package

    def list_for(self, brand_id: str, offset: int, limit: int) -> tuple[list[Package], int]:
        with self._db.read() as conn:
            where = user_packages.c.brand_id == brand_id
            total = conn.execute(select(func.count()).select_from(user_packages).where(where))
            rows = conn.execute(
                select(user_packages)
                .where(where)
                .order_by(user_packages.c.created_at, user_packages.c.user_package_id)
                .offset(offset)
                .limit(limit)
            ).all()
            return [Package(**r._asdict()) for r in rows], int(total.scalar_one())

    def poll(self, brand_id: str, package_id: str, upload_id: str) -> tuple[str, str] | None:
        """The state of an existing expand, in one read; None if there is no task yet.

        Raises what expand would for a foreign package or upload, so a poll answers exactly
        as a repeated expand does.
        """
        row = self._poll.read(package_id=package_id, upload_id=upload_id)
        if row is None or row[0] != brand_id:
            raise not_found(f"user package {package_id}")
        _owner, upload_brand, task_package, message, state = row
        if upload_brand is None or upload_brand != brand_id or task_package is None:
            return None
        if task_package != package_id:
            raise _used_elsewhere(upload_id)
        return message, state

    def expand(
        self, brand_id: str, package_id: str, upload_id: str, *, fail_with: str | None = None
    ) -> tuple[str, str]:
        """Create the task, or report the existing one's state: (return_message, state).

        `fail_with` (a `task_failed` fault rule) accepts the expand as usual but records the
        task as already FAILED with that message, so the next poll sees it fail.
        """
        with self._db.transaction() as conn:
            package = self._package(conn, package_id)
            if package is None or package.brand_id != brand_id:
                raise not_found(f"user package {package_id}")
            upload = self._uploads.owned(conn, brand_id, upload_id, lock=True)
            known = self._existing_task(conn, brand_id, package_id, upload_id)
            if known is not None:
                return known
            if upload.state != MERGED:
                raise invalid_request(
                    f"upload {short(upload_id)} is not merged yet; merge it before expanding",
                    "/upload_id",
                )
            if upload.package_type != package.package_type:
                raise invalid_request(
                    f"the upload is for {upload.package_type} but package {package_id} is "
                    f"{package.package_type}",
                    "/upload_id",
                )
            now = self._clock.now()
            task: dict[str, Any] = {
                "user_package_id": package_id,
                "upload_id": upload_id,
                "brand_id": brand_id,
                "state": ProcessState.PROCESSING.value,
                "phase": "queued",
                "return_message": "success",
                "submit_time": now,
                "effective_time": effective_time(now, self._settings.sync_delay),
                "attempts": 0,
                "errors": 0,
            }
            if fail_with is not None:
                task |= {
                    "state": ProcessState.FAILED.value,
                    "phase": "done",
                    "return_message": fail_with,
                    "finish_time": now,
                }
            conn.execute(insert(expand_tasks).values(**task))
            conn.execute(
                update(uploads)
                .where(uploads.c.upload_id == upload_id)
                .values(user_package_id=package_id)
            )
        if self.on_created is not None:
            self.on_created()
        log.info(
            "expand task created",
            extra={"brand_id": brand_id, "package": package_id, "upload": short(upload_id)},
        )
        return "success", ProcessState.PROCESSING.value

    def _existing_task(
        self, conn: Connection, brand_id: str, package_id: str, upload_id: str
    ) -> tuple[str, str] | None:
        """The (message, state) of the upload's task, if it has one: how a brand polls."""
        self._uploads.owned(conn, brand_id, upload_id)
        task = conn.execute(
            select(
                expand_tasks.c.user_package_id, expand_tasks.c.return_message, expand_tasks.c.state
            ).where(expand_tasks.c.upload_id == upload_id)
        ).first()
        if task is None:
            return None
        if task.user_package_id != package_id:
            raise _used_elsewhere(upload_id)
        return task.return_message, task.state

    def tasks(self, package_id: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        self.require(package_id)
        where = expand_tasks.c.user_package_id == package_id
        with self._db.read() as conn:
            total = conn.execute(select(func.count()).select_from(expand_tasks).where(where))
            rows = conn.execute(
                select(expand_tasks)
                .where(where)
                .order_by(expand_tasks.c.task_id)
                .offset(offset)
                .limit(limit)
            ).all()
            return [task_view(r) for r in rows], int(total.scalar_one())


def _poll_query() -> Select[Any]:
    """Package owner, upload owner and the upload's task, in one indexed read."""
    p, u, t = user_packages, uploads, expand_tasks
    upload_id = bindparam("upload_id", type_=String)
    return (
        select(
            p.c.brand_id,
            u.c.brand_id.label("upload_brand"),
            t.c.user_package_id.label("task_package"),
            t.c.return_message,
            t.c.state,
        )
        .select_from(p)
        .outerjoin(u, u.c.upload_id == upload_id)
        .outerjoin(t, t.c.upload_id == upload_id)
        .where(p.c.user_package_id == bindparam("package_id"))
    )
