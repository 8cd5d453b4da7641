"""Fault rules (SPEC §10): what an operator asked the service to do wrong, and when.

Rules live in the database so that every API process of one service applies them. Taking a
rule is one guarded UPDATE … RETURNING: two processes racing for the last use of a rule
cannot both get it, and neither reads a count and writes it back.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update

from userpkg.core.brands import Brands, not_found
from userpkg.core.clock import ServiceClock, rfc3339
from userpkg.protocol.faults import FaultEndpoint, FaultKind, FaultRuleBody
from userpkg.store.database import Database
from userpkg.store.prepared import Prepared
from userpkg.store.schema import fault_rules

TAKE_ATTEMPTS = 3


@dataclass(frozen=True)
class Fault:
    """One use of a rule, taken for one request."""

    fault_id: str
    kind: FaultKind
    fields: dict[str, Any]


def _view(row: Any) -> dict[str, Any]:
    return {
        "fault_id": row.fault_id,
        "brand_id": row.brand_id,
        "endpoint": row.endpoint,
        "kind": row.kind,
        "times": row.times,
        "remaining": row.remaining,
        **json.loads(row.fields),
        "create_time": rfc3339(row.created_at),
    }


class FaultRules:
    def __init__(self, db: Database, brands: Brands, clock: ServiceClock) -> None:
        self._db = db
        self._brands = brands
        self._clock = clock
        self._candidates = {
            new_task: Prepared(
                db,
                select(fault_rules.c.fault_id)
                .where(and_(*self._where(bindparam("brand_id"), bindparam("endpoint"), new_task)))
                .order_by(fault_rules.c.id)
                .limit(1),
            )
            for new_task in (True, False)
        }

    def add(self, brand_id: str, rule: FaultRuleBody) -> dict[str, Any]:
        self._brands.require(brand_id)
        fault_id = f"fault_{secrets.token_hex(12)}"
        with self._db.transaction() as conn:
            conn.execute(
                insert(fault_rules).values(
                    fault_id=fault_id,
                    brand_id=brand_id,
                    endpoint=rule.endpoint.value,
                    kind=rule.kind.value,
                    times=rule.times,
                    remaining=rule.times,
                    fields=json.dumps(rule.fields()),
                    created_at=self._clock.now(),
                )
            )
            row = conn.execute(select(fault_rules).where(fault_rules.c.fault_id == fault_id)).one()
        return _view(row)

    def active(self, brand_id: str) -> list[dict[str, Any]]:
        """Rules with uses left, oldest (first to apply) first."""
        self._brands.require(brand_id)
        with self._db.read() as conn:
            rows = conn.execute(
                select(fault_rules)
                .where(fault_rules.c.brand_id == brand_id, fault_rules.c.remaining > 0)
                .order_by(fault_rules.c.id)
            ).all()
        return [_view(row) for row in rows]

    def delete(self, brand_id: str, fault_id: str) -> None:
        with self._db.transaction() as conn:
            gone = conn.execute(
                delete(fault_rules).where(
                    fault_rules.c.brand_id == brand_id, fault_rules.c.fault_id == fault_id
                )
            ).rowcount
        if not gone:
            raise not_found(f"fault rule {fault_id[:64]} of brand {brand_id[:32]}")

    def _where(self, brand_id: Any, endpoint: Any, new_task: bool) -> list[Any]:
        where = [
            fault_rules.c.brand_id == brand_id,
            fault_rules.c.remaining > 0,
            fault_rules.c.endpoint.in_([endpoint, bindparam("any_endpoint")]),
        ]
        if not new_task:
            where.append(fault_rules.c.kind != FaultKind.TASK_FAILED.value)
        return where

    def candidate(self, brand_id: str, endpoint: str, *, new_task: bool = True) -> str | None:
        """The fault_id of the oldest rule matching this request: one indexed read, no lock,
        cheap enough for the event loop (most requests find none)."""
        found = self._candidates[new_task].read(
            brand_id=brand_id, endpoint=endpoint, any_endpoint=FaultEndpoint.ANY.value
        )
        return None if found is None else str(found[0])

    def take(self, brand_id: str, endpoint: str, *, new_task: bool = True) -> Fault | None:
        """Use up one use of the oldest rule matching this request, or None.

        The guarded UPDATE decides; losing the race to another process means looking again.
        """
        for _ in range(TAKE_ATTEMPTS):
            candidate = self.candidate(brand_id, endpoint, new_task=new_task)
            if candidate is None:
                return None
            with self._db.statement() as conn:
                taken = conn.execute(
                    update(fault_rules)
                    .where(fault_rules.c.fault_id == candidate, fault_rules.c.remaining > 0)
                    .values(remaining=fault_rules.c.remaining - 1)
                    .returning(fault_rules.c.fault_id, fault_rules.c.kind, fault_rules.c.fields)
                ).first()
            if taken is not None:
                return Fault(taken.fault_id, FaultKind(taken.kind), json.loads(taken.fields))
        return None
