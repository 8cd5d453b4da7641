"""Member storage: the same answers from files and chunk rows; chunks touched only as needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyroaring import BitMap
from sqlalchemy import insert, text

from userpkg.store.audience import DatabaseAudience, FileAudience
from userpkg.store.database import Database
from userpkg.store.pg_blobs import DatabaseBlobStore
from userpkg.store.schema import brands, user_packages

from .databases import fresh_postgres

PACKAGE = "0" * 20


def seed(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute(
            insert(brands).values(
                brand_id="b",
                name="b",
                user_package_enabled=True,
                signtest_pending=False,
                created_at=0,
            )
        )
        conn.execute(
            insert(user_packages).values(
                user_package_id=PACKAGE,
                brand_id="b",
                name="p",
                package_type="t",
                member_count=0,
                created_at=0,
            )
        )


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Database]:
    with fresh_postgres() as url:
        db = Database(url)
        db.migrate()
        seed(db)
        yield db
        db.dispose()


def test_file_and_database_stores_agree(postgres: Database, tmp_path: Path) -> None:
    stores = [
        FileAudience(tmp_path / "bitmaps"),
        DatabaseAudience(postgres, DatabaseBlobStore(postgres, tmp_path / "s")),
    ]
    first = BitMap([1, 2, 70_000, 5 << 16])
    second = BitMap([2, 3, 70_000, 9 << 16, 2**32 - 1])
    for store in stores:
        ref = None
        answers = []
        for version, delta in enumerate((first, second)):
            with postgres.transaction() as conn:
                already, ref = store.apply(conn, PACKAGE, ref, delta, str(version))
            answers.append(already)
        assert answers == [0, 2]
        assert store.members(PACKAGE, ref) == first | second
        assert store.contains(PACKAGE, ref, 2**32 - 1)
        assert not store.contains(PACKAGE, ref, 4)


def test_an_expand_rewrites_only_the_chunks_it_touches(postgres: Database, tmp_path: Path) -> None:
    store = DatabaseAudience(postgres, DatabaseBlobStore(postgres, tmp_path / "s"))
    with postgres.transaction() as conn:
        store.apply(conn, PACKAGE, None, BitMap([1, 1 << 16, 2 << 16, 3 << 16]), "1")

    def versions() -> dict[int, str]:
        with postgres.read() as conn:
            rows = conn.execute(
                text("SELECT chunk_key, xmin::text FROM member_chunks ORDER BY chunk_key")
            )
            return {int(key): str(xmin) for key, xmin in rows}

    before = versions()
    assert sorted(before) == [0, 1, 2, 3]
    with postgres.transaction() as conn:
        store.apply(conn, PACKAGE, "1", BitMap([(2 << 16) + 5]), "2")
    after = versions()
    assert after[2] != before[2]
    assert {k: after[k] for k in (0, 1, 3)} == {k: before[k] for k in (0, 1, 3)}
