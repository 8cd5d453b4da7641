"""One database, SQLite or PostgreSQL, with two kinds of write transaction.

Durable transactions hold accepted data (parts, merges, tasks) and are flushed to disk before
they return; cheap ones hold what may be lost in a power cut without harm (replay nonces, the
request log) and skip the flush. Reads never take SQLite's write lock, and writers of one
process queue on a lock of their own rather than in SQLite's busy handler, which sleeps.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7_263_514_201


def insert_into(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT, which knows ON CONFLICT: the way to write without a race."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'userpkg.sqlite'}"


class Database:
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._writer = threading.RLock()
        self._local = threading.local()
        self._drivers: list[sqlite3.Connection] = []
        if self.is_sqlite:
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            self.engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
            )
            self._cheap = create_engine(
                parsed,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=1800,
                isolation_level="AUTOCOMMIT",
            )
            event.listen(self._cheap, "connect", _unflushed_commits)
            self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction; `durable=False` for data whose loss in a power cut is harmless."""
        if not self.is_sqlite:
            engine = self.engine if durable else self._cheap
            with engine.connect() as conn:
                if not durable:
                    conn = conn.execution_options(isolation_level="READ COMMITTED")
                with conn.begin():
                    yield conn
            return
        with self._writer, self.engine.connect() as conn:
            _sqlite_synchronous(conn, "FULL" if durable else "NORMAL")
            with conn.begin():
                yield conn

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """For one write statement that commits alone and may be lost in a power cut
        (nonces, rate buckets): on PostgreSQL one round trip, no BEGIN, no flush."""
        if self.is_sqlite:
            with self.transaction(durable=False) as conn:
                yield conn
            return
        with self._cheap.connect() as conn:
            yield conn

    @contextmanager
    def driver(self, *, write: bool) -> Iterator[Any]:
        """A DB-API connection in autocommit for one statement (`store.prepared`), with no
        SQLAlchemy per call: on SQLite one per thread, writes under this process's writer lock
        and unflushed like `statement`; on PostgreSQL one from the cheap pool."""
        if not self.is_sqlite:
            pooled = self._cheap.raw_connection()
            try:
                yield pooled.driver_connection
            finally:
                pooled.close()
            return
        conn = getattr(self._local, "conn", None) or self._open_driver()
        if write:
            with self._writer:
                yield conn
        else:
            yield conn

    def _open_driver(self) -> sqlite3.Connection:
        path = make_url(self.url).database or ""
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        self._local.conn = conn
        with self._writer:
            self._drivers.append(conn)
        return conn

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """Reads; on SQLite a deferred transaction, so writers are not blocked. A single query
        can pass snapshot=False, which on PostgreSQL spares the BEGIN and COMMIT round trips."""
        if not snapshot and not self.is_sqlite:
            with self._single.connect() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(userpkg_deferred=True)
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest migration; safe when many processes start at once."""
        with self._migration_lock(), self.engine.connect() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """PostgreSQL: an advisory lock. SQLite: an exclusive lock on a file beside the database."""
        if not self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                    conn.commit()
            return
        database = make_url(self.url).database
        if not database or database == ":memory:" or fcntl is None:
            yield
            return
        with open(database + ".migrate-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def dispose(self) -> None:
        with self._writer:
            drivers, self._drivers = self._drivers, []
            self._local = threading.local()
        for conn in drivers:
            conn.close()
        self.engine.dispose()
        if not self.is_sqlite:
            self._cheap.dispose()


def _unflushed_commits(dbapi_conn: Any, _record: Any) -> None:
    """Commits on this pool return before the WAL reaches disk (PostgreSQL)."""
    dbapi_conn.execute("SET synchronous_commit TO OFF")


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    deferred = conn.get_execution_options().get("userpkg_deferred", False)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _sqlite_synchronous(conn: Connection, level: str) -> None:
    info = conn.connection.info
    if info.get("synchronous") != level:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA synchronous={level}")
        info["synchronous"] = level
