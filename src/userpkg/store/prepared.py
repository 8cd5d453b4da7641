"""Hot statements compiled once to their driver's SQL and run on a raw driver connection.

A brand request runs a few small statements (the nonce claim, the poll, the fault check);
through SQLAlchemy each costs ~150 µs of cache-key building, compiling and event dispatch
around ~20 µs of database work. Compiled here once, they cost about the database work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.expression import ClauseElement

from userpkg.store.database import Database

Row = tuple[Any, ...]


class Prepared:
    """One statement for the hot path; its parameters must need no type conversion (text,
    integers, floats), since the driver gets them as given."""

    def __init__(self, db: Database, statement: ClauseElement) -> None:
        dialect = sqlite.dialect(paramstyle="named") if db.is_sqlite else db.engine.dialect
        compiled = statement.compile(dialect=dialect)
        self._sql = str(compiled)
        self._defaults = dict(compiled.params)
        self._db = db

    def write(self, **params: Any) -> Row | None:
        """Run a statement that commits alone (unflushed); its first row, if any."""
        with self._db.driver(write=True) as conn:
            return self._first(conn, params)

    def read(self, **params: Any) -> Row | None:
        with self._db.driver(write=False) as conn:
            return self._first(conn, params)

    def _first(self, conn: Any, params: dict[str, Any]) -> Row | None:
        cursor = conn.execute(self._sql, {**self._defaults, **params})
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else tuple(row)
