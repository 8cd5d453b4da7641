"""What an operator sees at a glance: tasks by state per package, errors by code, serials.

Read-only aggregates over the same tables the operator API reads, so the console's numbers
and the API's agree by construction.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from userpkg.store.database import Database
from userpkg.store.schema import certificates, expand_tasks, request_log


class Overview:
    def __init__(self, db: Database) -> None:
        self._db = db

    def task_states(self) -> dict[str, Counter[str]]:
        """Per package, how many of its tasks are in each state."""
        query = select(expand_tasks.c.user_package_id, expand_tasks.c.state, func.count()).group_by(
            expand_tasks.c.user_package_id, expand_tasks.c.state
        )
        found: dict[str, Counter[str]] = defaultdict(Counter)
        with self._db.read() as conn:
            for package_id, state, count in conn.execute(query):
                found[package_id][state] += int(count)
        return dict(found)

    def errors_by_code(self, since: float) -> Counter[str]:
        """Brand API error answers logged since `since` (Unix seconds), counted by code."""
        query = (
            select(request_log.c.code, func.count())
            .where(request_log.c.time >= since, request_log.c.status >= 400)
            .group_by(request_log.c.code)
        )
        with self._db.read() as conn:
            return Counter(
                {str(code or "no code"): int(count) for code, count in conn.execute(query)}
            )

    def certificate_serials(self, brand_id: str) -> list[str]:
        """The serial numbers of the brand's API certificates (never the keys themselves)."""
        query = (
            select(certificates.c.serial_no)
            .where(certificates.c.brand_id == brand_id)
            .order_by(certificates.c.created_at, certificates.c.serial_no)
        )
        with self._db.read() as conn:
            return [str(serial) for serial in conn.execute(query).scalars()]
