"""Upload sessions: open one, receive its parts in any order, merge them into one file."""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from userpkg.core.clock import ServiceClock, rfc3339
from userpkg.core.crashpoints import crash_point
from userpkg.core.settings import Settings
from userpkg.protocol import ApiProblem, ErrorCode, ProcessState
from userpkg.protocol.errors import invalid_request, param_error
from userpkg.protocol.models import FileMeta, UserPackageFileInfo
from userpkg.store.blobs import BlobStore, StagedFile
from userpkg.store.database import Database
from userpkg.store.schema import expand_tasks, upload_parts, uploads

log = logging.getLogger(__name__)

OPEN, MERGED, EXPIRED = "open", "merged", "expired"
ORPHAN_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class Upload:
    upload_id: str
    brand_id: str
    filename: str
    digest: str
    file_size: int
    package_type: str
    data_type: str
    description: str
    part_size: int
    part_count: int
    state: str
    created_at: int
    expire_time: int
    resource_id: str | None
    merged_at: int | None
    user_package_id: str | None

    def part_length(self, number: int) -> int:
        if number < self.part_count:
            return self.part_size
        return self.file_size - self.part_size * (self.part_count - 1)

    def merge_answer(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "resource_id": self.resource_id,
            "file_size": self.file_size,
            "digest": self.digest,
        }


def short(upload_id: str) -> str:
    """Upload ids are bearer-like secrets of a kind: logs and messages show only their head."""
    return upload_id[:16] + "…" if len(upload_id) > 16 else upload_id


class Uploads:
    def __init__(
        self, db: Database, blobs: BlobStore, clock: ServiceClock, settings: Settings
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._clock = clock
        self._settings = settings

    def open(self, brand_id: str, info: UserPackageFileInfo) -> dict[str, Any]:
        """A new upload session. A filename is taken once an upload of it reached a package,
        unless that task FAILED: nothing of it was added, so the brand may send it again."""
        limit = self._settings.max_file_size
        if info.file_size > limit:
            raise param_error(
                f"file_size must be at most {limit} bytes; split larger files into several uploads",
                "/user_package_file_info/file_size",
            )
        now = self._clock.now()
        part_size = self._settings.part_size
        part_count = math.ceil(info.file_size / part_size)
        upload_id = f"{now}{secrets.token_hex(32)}"
        expire_time = now + self._settings.upload_ttl_seconds
        with self._db.transaction() as conn:
            used = conn.execute(
                select(uploads.c.upload_id)
                .join(expand_tasks, expand_tasks.c.upload_id == uploads.c.upload_id)
                .where(
                    uploads.c.brand_id == brand_id,
                    uploads.c.filename == info.filename,
                    expand_tasks.c.state != ProcessState.FAILED.value,
                )
            ).first()
            if used is not None:
                raise invalid_request(
                    f"filename {info.filename} was already used by an upload that reached a "
                    "package; give each file a new name",
                    "/user_package_file_info/filename",
                )
            conn.execute(
                insert(uploads).values(
                    upload_id=upload_id,
                    brand_id=brand_id,
                    filename=info.filename,
                    digest=info.digest,
                    file_size=info.file_size,
                    package_type=info.package_type.value,
                    data_type=info.data_type.value,
                    description=info.description,
                    part_size=part_size,
                    part_count=part_count,
                    state=OPEN,
                    created_at=now,
                    expire_time=expire_time,
                )
            )
        log.info("upload opened", extra={"brand_id": brand_id, "upload": short(upload_id)})
        return {
            "upload_id": upload_id,
            "part_size": part_size,
            "part_count": part_count,
            "expire_time": rfc3339(expire_time),
        }

    def get(self, conn: Connection, upload_id: str, *, lock: bool = False) -> Upload | None:
        query = select(uploads).where(uploads.c.upload_id == upload_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        return None if row is None else Upload(**row._asdict())

    def owned(
        self, conn: Connection, brand_id: str, upload_id: str, *, lock: bool = False
    ) -> Upload:
        """The upload if it exists and the brand opened it: 404 and 403 otherwise [pub].

        `lock` holds its row until the transaction ends, so requests that change one upload
        (a part, the merge, the expand) take turns on every database."""
        upload = self.get(conn, upload_id, lock=lock)
        if upload is None:
            raise ApiProblem(ErrorCode.NOT_FOUND, f"upload {short(upload_id)} not found")
        if upload.brand_id != brand_id:
            raise ApiProblem(
                ErrorCode.NO_AUTH, "this upload was opened by another brand and cannot be used"
            )
        return upload

    def _require_open(self, upload: Upload) -> None:
        if upload.state == EXPIRED or (
            upload.state == OPEN and upload.expire_time <= self._clock.now()
        ):
            raise invalid_request(
                f"upload {short(upload.upload_id)} expired at {rfc3339(upload.expire_time)}; "
                "open a new one"
            )

    def stage(self) -> StagedFile:
        return self._blobs.stage()

    def put_part(
        self, brand_id: str, upload_id: str, part: str, meta: FileMeta, staged: StagedFile
    ) -> dict[str, Any]:
        """Keep one received part; the staged file is copied into place or discarded.

        Bytes kept beside the database are written and flushed before the write transaction,
        under the upload's own lock (`BlobStore.hold`), so the database's write lock, which
        every request's nonce needs, is not held while the disk flushes. If a reset or the
        expiry sweep removed the upload meanwhile, the answer says so (404, or expired)."""
        try:
            with self._db.read() as conn:
                number, answer = _checked_part(
                    self.owned(conn, brand_id, upload_id), part, meta, staged
                )
            with self._blobs.hold(upload_id):
                with self._db.read() as conn:
                    upload = self.owned(conn, brand_id, upload_id)
                    if self._settled(conn, upload, number, staged) is not None:
                        return answer
                offset = (number - 1) * upload.part_size
                try:
                    self._blobs.write_part(staged, upload_id, offset)
                except FileNotFoundError:
                    with self._db.read() as conn:
                        gone = self.owned(conn, brand_id, upload_id)
                        self._settled(conn, gone, number, staged)
                    raise
                with self._db.transaction() as conn:
                    upload = self.owned(conn, brand_id, upload_id, lock=True)
                    if self._settled(conn, upload, number, staged) is not None:
                        return answer
                    self._blobs.keep_part(staged, upload_id, number, offset, conn)
                    conn.execute(
                        delete(upload_parts).where(
                            upload_parts.c.upload_id == upload_id,
                            upload_parts.c.part_number == number,
                        )
                    )
                    conn.execute(
                        insert(upload_parts).values(
                            upload_id=upload_id,
                            part_number=number,
                            digest=staged.sha256,
                            size=staged.size,
                            created_at=self._clock.now(),
                        )
                    )
                    return answer
        finally:
            staged.discard()

    def _settled(
        self, conn: Connection, upload: Upload, number: int, staged: StagedFile
    ) -> bool | None:
        """None while the upload takes parts; True if it is merged with this very part (a
        harmless re-send); raises if it is merged with another one, or expired."""
        if upload.state == MERGED:
            kept = conn.execute(
                select(upload_parts.c.digest).where(
                    upload_parts.c.upload_id == upload.upload_id,
                    upload_parts.c.part_number == number,
                )
            ).scalar()
            if kept == staged.sha256:
                return True
            raise invalid_request("the upload is already merged; its parts can no longer change")
        self._require_open(upload)
        return None

    def merge(self, brand_id: str, upload_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            self.owned(conn, brand_id, upload_id)
        with self._blobs.hold(upload_id), self._db.transaction() as conn:
            upload = self.owned(conn, brand_id, upload_id, lock=True)
            if upload.state == MERGED:
                return upload.merge_answer()
            self._require_open(upload)
            rows = conn.execute(
                select(upload_parts.c.part_number, upload_parts.c.digest).where(
                    upload_parts.c.upload_id == upload_id
                )
            )
            present: dict[int, str] = {number: digest for number, digest in rows}
            missing = [n for n in range(1, upload.part_count + 1) if n not in present]
            if missing:
                shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
                raise invalid_request(
                    f"cannot merge: {len(missing)} of {upload.part_count} parts missing ({shown})"
                )
            resource_id = f"res_{secrets.token_hex(24)}"
            parts = {
                (n - 1) * upload.part_size: present[n] for n in range(1, upload.part_count + 1)
            }
            size, digest = self._blobs.merge(upload_id, parts, resource_id, conn)
            crash_point("merge-written")
            if size != upload.file_size or digest != upload.digest:
                self._blobs.delete_file(resource_id)
                raise invalid_request(
                    f"the merged file ({size} bytes, SHA-256 {digest}) does not match the declared "
                    f"file_size {upload.file_size} and digest {upload.digest}; re-send the parts"
                )
            conn.execute(
                update(uploads)
                .where(uploads.c.upload_id == upload_id)
                .values(state=MERGED, resource_id=resource_id, merged_at=self._clock.now())
            )
        self._blobs.delete_parts(upload_id)
        log.info("upload merged", extra={"brand_id": brand_id, "upload": short(upload_id)})
        return {**upload.merge_answer(), "resource_id": resource_id}

    def sweep_orphans(self) -> int:
        """Delete merged files no upload names: a merge killed between writing its file and
        committing leaves one (only with files on disk; database blobs commit together)."""
        candidates = self._blobs.merged_files(time.time() - ORPHAN_GRACE_SECONDS)
        if not candidates:
            return 0
        named: set[str] = set()
        with self._db.read() as conn:
            for start in range(0, len(candidates), 500):
                batch = candidates[start : start + 500]
                named.update(
                    conn.execute(
                        select(uploads.c.resource_id).where(uploads.c.resource_id.in_(batch))
                    ).scalars()
                )
        orphans = [resource_id for resource_id in candidates if resource_id not in named]
        for resource_id in orphans:
            self._blobs.delete_file(resource_id)
        if orphans:
            log.warning("merged files no upload names were deleted", extra={"count": len(orphans)})
        return len(orphans)

    def sweep_expired(self) -> int:
        """Discard open uploads past their expiry, with their parts; returns how many."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            expired = list(
                conn.execute(
                    select(uploads.c.upload_id).where(
                        and_(uploads.c.state == OPEN, uploads.c.expire_time <= now)
                    )
                ).scalars()
            )
            if expired:
                conn.execute(delete(upload_parts).where(upload_parts.c.upload_id.in_(expired)))
                conn.execute(
                    update(uploads).where(uploads.c.upload_id.in_(expired)).values(state=EXPIRED)
                )
        for upload_id in expired:
            self._blobs.delete_parts(upload_id)
        return len(expired)


def _checked_part(
    upload: Upload, part: str, meta: FileMeta, staged: StagedFile
) -> tuple[int, dict[str, Any]]:
    """The part's number and the answer for it, once its size and SHA-256 are right."""
    number = _part_number(part, upload.part_count)
    expected = upload.part_length(number)
    if staged.size != expected:
        raise param_error(
            f"part {number} must be {expected} bytes, but {staged.size} were sent", "/file"
        )
    if staged.sha256 != meta.digest:
        raise param_error(
            f"part {number}'s SHA-256 is {staged.sha256}, not file_meta.digest",
            "/file_meta/digest",
        )
    answer = {
        "upload_id": upload.upload_id,
        "part_number": number,
        "digest": staged.sha256,
        "size": staged.size,
    }
    return number, answer


def _part_number(raw: str, part_count: int) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= part_count:
        raise ApiProblem(
            ErrorCode.PARAM_ERROR,
            f"part_number must be a whole number from 1 to {part_count}",
            detail={"location": "path", "field": "part_number"},
        )
    return int(raw)
