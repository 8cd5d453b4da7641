"""Test databases: SQLite in a temporary directory, or a fresh PostgreSQL database per use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("USERPKG_TEST_PG_URL")
SKIP_PG = "PostgreSQL tests need USERPKG_TEST_PG_URL (.ci/run sets it when a server answers)"


def _admin_dsn() -> str:
    assert PG_URL is not None
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    if PG_URL is None:
        pytest.skip(SKIP_PG)
    name = f"userpkg_test_{secrets.token_hex(6)}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_url(backend: str) -> Iterator[str | None]:
    """None means SQLite inside the data directory (the default)."""
    if backend == "sqlite":
        yield None
        return
    with fresh_postgres() as url:
        yield url
