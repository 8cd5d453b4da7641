"""Sandbox uploads from the browser, carried out as the playground brand through the SDK.

The file goes through the real brand API over HTTP to this very service, signed with the
sandbox brand's key from `sandbox/` (read here, never shown). Progress lives in a small JSON
file per job in the data directory, so any API process can show it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from userpkg.client.client import BrandClient, RetryPolicy
from userpkg.client.credentials import Credentials
from userpkg.client.journal import Journal, Piece, Push
from userpkg.client.lint import lint_file
from userpkg.client.uploads import Uploader
from userpkg.protocol import DataType, PackageType

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
WAIT_SECONDS = 600.0
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


class Playground:
    """The sandbox's brand as the console uses it; None-like when not a sandbox."""

    def __init__(self, data_dir: Path) -> None:
        self._manifest_path = data_dir / "sandbox" / "sandbox.json"
        self._jobs = data_dir / "console" / "jobs"
        self._states = data_dir / "console" / "upload-states"

    def manifest(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data

    def brand_id(self) -> str | None:
        manifest = self.manifest()
        return None if manifest is None else str(manifest["brand_id"])

    def _credentials(self, manifest: dict[str, Any]) -> Credentials:
        return Credentials(
            brand_id=manifest["brand_id"],
            cert_serial_no=manifest["cert_serial_no"],
            private_key_path=Path(manifest["brand_private_key_path"]),
            platform_public_key_id=manifest["platform_public_key_id"],
            platform_public_key_path=Path(manifest["platform_public_key_path"]),
            base_url=str(manifest["base_url"]).rstrip("/"),
        )

    def incoming(self) -> tuple[str, Path]:
        """A new job id and the file its CSV is written to."""
        self._jobs.mkdir(parents=True, exist_ok=True)
        job_id = secrets.token_urlsafe(18)
        return job_id, self._jobs / f"{job_id}.csv"

    def job(self, job_id: str) -> dict[str, Any] | None:
        if not JOB_ID.match(job_id):
            return None
        try:
            data: dict[str, Any] = json.loads(
                (self._jobs / f"{job_id}.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None
        return data

    def _save(self, job_id: str, job: dict[str, Any]) -> None:
        path = self._jobs / f"{job_id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job), encoding="utf-8")
        os.replace(tmp, path)

    def start(
        self,
        job_id: str,
        csv: Path,
        package_id: str,
        package_type: PackageType,
        data_type: DataType,
        filename: str,
    ) -> None:
        manifest = self.manifest()
        if manifest is None:
            raise RuntimeError("no sandbox manifest: start the service with --sandbox")
        job: dict[str, Any] = {
            "job_id": job_id,
            "package_id": package_id,
            "data_type": data_type.value,
            "filename": filename,
            "size": csv.stat().st_size,
            "sent": 0,
            "phase": "uploading",
            "uploads": [],
            "message": "",
        }
        self._save(job_id, job)
        worker = threading.Thread(
            target=self._run,
            args=(job_id, job, csv, self._credentials(manifest), package_type, data_type),
            name=f"console-upload-{job_id[:6]}",
            daemon=True,
        )
        worker.start()

    def _run(
        self,
        job_id: str,
        job: dict[str, Any],
        csv: Path,
        credentials: Credentials,
        package_type: PackageType,
        data_type: DataType,
    ) -> None:
        lock = threading.Lock()

        def progress(sent: int) -> None:
            with lock:
                job["sent"] = min(job["size"], job["sent"] + sent)
                self._save(job_id, job)

        def on_piece(_push: Push, piece: Piece, _how: str) -> None:
            job["uploads"].append(
                {
                    "upload_id": piece.upload_id,
                    "size": piece.length,
                    "state": piece.state,
                    "return_message": piece.return_message,
                }
            )
            job["phase"] = "processing"
            self._save(job_id, job)

        try:
            with BrandClient(credentials, retries=RetryPolicy()) as client:
                uploader = Uploader(client, states=self._states)
                uploader.push(
                    job["package_id"],
                    csv,
                    data_type,
                    package_type,
                    f"console upload of {job['filename']}"[:100],
                    again=True,
                    journal=Journal(self._states),
                    progress=progress,
                    on_piece=on_piece,
                )
                job["counts"] = lint_file(csv, data_type)
                for piece in job["uploads"]:
                    final = uploader.wait(
                        job["package_id"], str(piece["upload_id"]), timeout=WAIT_SECONDS
                    )
                    piece.update(state=final.state, return_message=final.return_message)
                    self._save(job_id, job)
            job["phase"] = "done"
        except Exception as exc:
            log.warning("console upload failed", extra={"job": job_id[:6], "error": str(exc)})
            job["phase"] = "failed"
            job["message"] = str(exc)[:500]
        finally:
            self._save(job_id, job)
            csv.unlink(missing_ok=True)
