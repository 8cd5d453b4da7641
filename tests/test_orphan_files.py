"""A merge killed between writing the merged file and committing leaves no file for good: on
disk the sweeper deletes files no upload names; in PostgreSQL the bytes commit with the row."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from userpkg.core.service import Service
from userpkg.core.settings import Settings
from userpkg.core.uploads import ORPHAN_GRACE_SECONDS
from userpkg.store.schema import blob_chunks

from .databases import PG_URL, SKIP_PG, database_url
from .processes import ServiceProcess
from .support import Operator, SigningBrand


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(request.param) as url:
        yield url


def serve(data: Path, db_url: str | None, token: str, crash_at: str = "") -> ServiceProcess:
    database = ["--db", db_url] if db_url else []
    process = ServiceProcess(
        ["serve", "--data", str(data), *database, "--no-processing", "--log-level", "WARNING"],
        data.with_suffix(".log"),
        env={"USERPKG_ADMIN_TOKEN": token, "USERPKG_CRASH_AT": crash_at},
    )
    process.wait_healthy()
    return process


def uploaded(brand: SigningBrand, data: bytes) -> str:
    opened = brand.verified(brand.init_upload(data))
    assert brand.put_part(opened["upload_id"], 1, data).status_code == 200
    return str(opened["upload_id"])


def merged_files(settings: Settings, service: Service) -> list[str]:
    if service.db.is_sqlite:
        return sorted(path.name for path in (settings.data_dir / "blobs" / "files").iterdir())
    with service.db.read() as conn:
        return list(
            conn.execute(
                select(blob_chunks.c.name).where(
                    blob_chunks.c.name.startswith("files/"), blob_chunks.c.seq == 0
                )
            ).scalars()
        )


def test_a_merge_killed_before_its_commit_leaves_no_file_behind(
    tmp_path: Path, db_url: str | None
) -> None:
    data_dir = tmp_path / "data"
    token = secrets.token_urlsafe(16)
    dying = serve(data_dir, db_url, token, crash_at="merge-written")
    try:
        brand = Operator(dying.base_url, token).new_brand()
        data = b"\n".join(secrets.token_hex(14).encode() for _ in range(50)) + b"\n"
        upload_id = uploaded(brand, data)
        with pytest.raises(httpx.TransportError):
            brand.merge(upload_id)
        assert dying.proc.wait(timeout=30) != 0, "the service should have died in the merge"
    finally:
        dying.stop()

    settings = Settings(data_dir=data_dir, db_url=db_url, processing=False)
    service = Service(settings)
    try:
        left = merged_files(settings, service)
        if not service.db.is_sqlite:
            assert left == [], "PostgreSQL commits the merged bytes with the upload row"

        again = serve(data_dir, db_url, token)
        try:
            brand = SigningBrand(
                again.base_url,
                brand.brand_id,
                brand.serial_no,
                brand.private_key,
                brand.platform_key_id,
                brand.platform_public_pem,
            )
            resource_id = brand.verified(brand.merge(upload_id))["resource_id"]
        finally:
            again.stop()

        if service.db.is_sqlite:
            assert len(left) == 1, "the killed merge wrote its file before the commit"
            assert resource_id not in left
            old = time.time() - ORPHAN_GRACE_SECONDS - 60
            for name in (*left, resource_id):
                os.utime(data_dir / "blobs" / "files" / name, (old, old))
        assert service.uploads.sweep_orphans() == len(left)
        remaining = merged_files(settings, service)
        assert [name.removeprefix("files/") for name in remaining] == [resource_id]
        assert service.blobs.has_file(resource_id), "the merged file an upload names stays"
    finally:
        service.close()
