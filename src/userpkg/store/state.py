"""Small named values the service keeps (clock offset, default platform key, secrets)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from userpkg.store.schema import service_state


def get_value(conn: Connection, name: str) -> str | None:
    return conn.execute(select(service_state.c.value).where(service_state.c.name == name)).scalar()


def set_value(conn: Connection, name: str, value: str) -> None:
    updated = conn.execute(
        service_state.update().where(service_state.c.name == name).values(value=value)
    )
    if updated.rowcount == 0:
        conn.execute(service_state.insert().values(name=name, value=value))
