"""Shared named values under concurrency: processes that start or write at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from userpkg.core.service import Service
from userpkg.core.settings import Settings
from userpkg.store.database import Database, sqlite_url
from userpkg.store.state import ensure_value, get_value, locked_value, set_value

from .databases import PG_URL, SKIP_PG, database_url, fresh_postgres

T = TypeVar("T")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(request.param) as url:
        database = Database(url or sqlite_url(tmp_path))
        database.migrate()
        yield database
        database.dispose()


def together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` in `count` threads released at the same moment; re-raise any failure."""
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("not run")] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def test_ensure_keeps_the_first_value_and_set_overwrites(db: Database) -> None:
    with db.transaction() as conn:
        assert ensure_value(conn, "x", "first") == "first"
        assert ensure_value(conn, "x", "second") == "first"
        assert locked_value(conn, "y", "7") == "7"
        set_value(conn, "x", "third")
        set_value(conn, "z", "new")
    with db.read() as conn:
        assert (get_value(conn, "x"), get_value(conn, "z")) == ("third", "new")


def test_concurrent_ensures_agree(db: Database) -> None:
    def ensure(index: int) -> str:
        with db.transaction() as conn:
            return ensure_value(conn, "secret", f"value-{index}")

    values = together(6, ensure)
    assert len(set(values)) == 1


def test_services_starting_together_agree_on_key_and_secret(tmp_path: Path) -> None:
    with fresh_postgres() as url:

        def start(index: int) -> tuple[str, str]:
            service = Service(
                Settings(data_dir=tmp_path / str(index), db_url=url, processing=False)
            )
            try:
                return service.default_key_id, service.directory.codec.encode("wx1", 1)
            finally:
                service.close()

        answers = together(4, start)
    assert len(set(answers)) == 1, answers


def test_concurrent_user_creation_never_shares_an_id(tmp_path: Path) -> None:
    if PG_URL is None:
        pytest.skip(SKIP_PG)
    with fresh_postgres() as url:
        service = Service(Settings(data_dir=tmp_path, db_url=url, processing=False))
        try:
            ranges = together(6, lambda _i: service.directory.generate(1000))
            created = together(
                6, lambda _i: [u.user_id for u in service.directory.create([None] * 50)]
            )
            ids = [i for first, count in ranges for i in range(first, first + count)]
            ids += [i for batch in created for i in batch]
            assert len(ids) == len(set(ids)) == 6 * 1000 + 6 * 50
            assert service.directory.next_id() == len(ids) + 1
        finally:
            service.close()
