"""Small named values the service keeps (clock offset, default platform key, secrets, counters).

Several processes may start or write at once, so there is no read-then-write here without a
guard: `ensure_value` sets a value only if absent and returns whichever value won, and
`locked_value` holds the row until the transaction ends, for read-modify-write.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from userpkg.store.database import insert_into
from userpkg.store.schema import service_state


def get_value(conn: Connection, name: str) -> str | None:
    return conn.execute(select(service_state.c.value).where(service_state.c.name == name)).scalar()


def ensure_value(conn: Connection, name: str, value: str) -> str:
    """Store `value` unless the name has one already; return the value that is stored."""
    conn.execute(
        insert_into(conn, service_state).values(name=name, value=value).on_conflict_do_nothing()
    )
    stored = get_value(conn, name)
    assert stored is not None
    return stored


def locked_value(conn: Connection, name: str, initial: str) -> str:
    """The value, created as `initial` if absent, with its row locked for this transaction."""
    ensure_value(conn, name, initial)
    found = conn.execute(
        select(service_state.c.value).where(service_state.c.name == name).with_for_update()
    ).scalar_one()
    return str(found)


def set_value(conn: Connection, name: str, value: str) -> None:
    statement = insert_into(conn, service_state).values(name=name, value=value)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[service_state.c.name], set_={"value": statement.excluded.value}
        )
    )
