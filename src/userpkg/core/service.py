"""The service's parts wired together once, for the HTTP edge and the worker alike."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from pyroaring import BitMap

from userpkg.core.brands import Brands
from userpkg.core.clock import ServiceClock
from userpkg.core.directory import Directory
from userpkg.core.faults import FaultRules
from userpkg.core.leases import owner_name
from userpkg.core.matching import Matcher
from userpkg.core.packages import Packages
from userpkg.core.phone_index import PhoneIndex
from userpkg.core.platform_keys import PlatformKeys
from userpkg.core.processing import ExpandProcessor
from userpkg.core.ratelimit import Limiter, RateLimiter, SharedRateLimiter
from userpkg.core.replay import ReplayGuard
from userpkg.core.requestlog import RequestLog
from userpkg.core.settings import Settings
from userpkg.core.uploads import Uploads
from userpkg.core.user_import import UserImport
from userpkg.store.audience import AudienceStore, DatabaseAudience, FileAudience
from userpkg.store.blobs import BlobStore, FileBlobStore
from userpkg.store.database import Database, sqlite_url
from userpkg.store.pg_blobs import DatabaseBlobStore

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_url or sqlite_url(settings.data_dir))
        self.db.migrate()
        self.blobs, self.audience = self._stores(settings)
        self.clock = ServiceClock(self.db)
        self.keys = PlatformKeys(self.db)
        self.brands = Brands(self.db, self.keys)
        self.directory = Directory(self.db)
        self.uploads = Uploads(self.db, self.blobs, self.clock, settings)
        self.packages = Packages(self.db, self.brands, self.uploads, self.clock, settings)
        self.phones = PhoneIndex(self.directory)
        self.user_import = UserImport(self.db, self.directory, settings.data_dir / "spool")
        self.processor = ExpandProcessor(
            self.db,
            self.blobs,
            self.audience,
            self.directory,
            Matcher(self.directory.codec, self.phones),
            self.brands,
            self.clock,
            settings,
            owner=owner_name(secrets.token_hex(4)),
        )
        self.replay = ReplayGuard(self.db, settings.nonce_ttl_seconds)
        self.rate_limiter: Limiter = (
            SharedRateLimiter(self.db, settings.rate_per_second, settings.rate_burst)
            if settings.shared_limits or not self.db.is_sqlite
            else RateLimiter(settings.rate_per_second, settings.rate_burst)
        )
        self.request_log = RequestLog(self.db, settings.request_log_keep)
        self.faults = FaultRules(self.db, self.brands, self.clock)
        self.admin_token = settings.admin_token or self._stored_admin_token()
        self.default_key_id = self.keys.default_key_id()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._on_close: list[Callable[[], None]] = []

    def _stored_admin_token(self) -> str:
        """The operator token kept in the data directory, made on first start (mode 0600)."""
        path: Path = self.settings.data_dir / "admin-token"
        if not path.exists():
            token = secrets.token_urlsafe(32)
            path.touch(mode=0o600)
            path.write_text(token + "\n", encoding="ascii")
        return path.read_text(encoding="ascii").strip()

    def start_background(self) -> None:
        """Request-log flushing and the expiry sweep; the worker is started separately."""
        self.blobs.clear_staging()
        self.request_log.start()
        thread = threading.Thread(target=self._sweep_loop, name="sweeper", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _stores(self, settings: Settings) -> tuple[BlobStore, AudienceStore]:
        """SQLite: files in the data directory. PostgreSQL: everything in the database (or
        blobs in a shared --blob-dir), so more machines need nothing but the database."""
        if self.db.is_sqlite:
            blobs = FileBlobStore(settings.blob_dir or settings.data_dir / "blobs")
            return blobs, FileAudience(settings.data_dir / "bitmaps")
        shared: BlobStore = (
            FileBlobStore(settings.blob_dir)
            if settings.blob_dir is not None
            else DatabaseBlobStore(self.db, settings.data_dir / "staging")
        )
        return shared, DatabaseAudience(self.db, shared)

    def members(self, package_id: str) -> BitMap:
        """The package's current members."""
        package = self.packages.require(package_id)
        return self.audience.members(package_id, package.members)

    def is_member(self, package_id: str, user_id: int) -> bool:
        package = self.packages.require(package_id)
        return self.audience.contains(package_id, package.members, user_id)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            self.sweep()

    def sweep(self) -> None:
        try:
            expired = self.uploads.sweep_expired()
            self.uploads.sweep_orphans()
            self.replay.purge()
            if expired:
                log.info("expired uploads discarded", extra={"count": expired})
        except Exception:
            log.exception("sweep failed; will retry")

    def on_close(self, stop: Callable[[], None]) -> None:
        """Run `stop` first when the service closes (the worker loop registers here)."""
        self._on_close.append(stop)

    def close(self) -> None:
        self._stop.set()
        for stop in self._on_close:
            stop()
        self.request_log.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self.db.dispose()
