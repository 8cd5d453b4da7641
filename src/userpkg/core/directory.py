"""The user directory: users with an optional mobile number, and their openids per appid.

Users created one by one are rows. Synthetic users (`generate`, the sandbox) are a range of
ids whose numbers come from a bijection of the id, so ten million of them cost one row and
no per-user storage; a row for an id in a range overrides it (a clash leaves it phoneless).
Ids are handed out consecutively from 1, so an id exists exactly when it is below the next.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from userpkg.core.openids import OpenidCodec
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.protocol.errors import param_error
from userpkg.store.database import Database
from userpkg.store.schema import appids, synthetic_ranges, users
from userpkg.store.state import ensure_value, get_value, locked_value, set_value

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
SECRET = "openid_secret"  # noqa: S105 - the name of a stored value, not a secret
NEXT_USER_ID = "next_user_id"
SYNTHETIC_BASE = 19_900_000_000
SYNTHETIC_SPACE = 100_000_000
SYNTHETIC_STEP = 73_939_133
SYNTHETIC_SHIFT = 12_345
_STEP_INVERSE = pow(SYNTHETIC_STEP, -1, SYNTHETIC_SPACE)
MAX_CREATE = 10_000_000
IN_CHUNK = 500


def synthetic_phones(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """199-numbers of synthetic users: an affine bijection of the 10^8 range."""
    return SYNTHETIC_BASE + (ids * SYNTHETIC_STEP + SYNTHETIC_SHIFT) % SYNTHETIC_SPACE


def synthetic_owner(phone: int) -> int | None:
    """The id whose synthetic number is `phone`, if it is in the synthetic range at all."""
    offset = phone - SYNTHETIC_BASE
    if not 0 <= offset < SYNTHETIC_SPACE:
        return None
    return ((offset - SYNTHETIC_SHIFT) * _STEP_INVERSE) % SYNTHETIC_SPACE


@dataclass(frozen=True)
class User:
    user_id: int
    phone: str | None


class Directory:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._codec: OpenidCodec | None = None

    @property
    def codec(self) -> OpenidCodec:
        if self._codec is None:
            with self._db.transaction() as conn:
                secret = get_value(conn, SECRET) or ensure_value(
                    conn, SECRET, secrets.token_hex(32)
                )
            self._codec = OpenidCodec(bytes.fromhex(secret))
        return self._codec

    def next_id(self, conn: Connection | None = None) -> int:
        """One past the highest user id: every id from 1 below it exists."""
        if conn is None:
            with self._db.read() as own:
                return int(get_value(own, NEXT_USER_ID) or 1)
        return int(get_value(conn, NEXT_USER_ID) or 1)

    def _reserve(self, conn: Connection, count: int) -> int:
        """Take `count` consecutive ids, holding the counter's row until the transaction ends."""
        first = int(locked_value(conn, NEXT_USER_ID, "1"))
        if first + count - 1 > 2**32 - 1:
            raise ApiProblem(ErrorCode.INVALID_REQUEST, "the directory is full (ids are 32-bit)")
        set_value(conn, NEXT_USER_ID, str(first + count))
        return first

    def lock_next_id(self, conn: Connection) -> int:
        """The next id, its row held until the transaction ends: no other writer adds users."""
        return int(locked_value(conn, NEXT_USER_ID, "1"))

    def set_next_id(self, conn: Connection, value: int) -> None:
        if value - 1 > 2**32 - 1:
            raise ApiProblem(ErrorCode.INVALID_REQUEST, "the directory is full (ids are 32-bit)")
        set_value(conn, NEXT_USER_ID, str(value))

    def create(self, phones: list[str | None]) -> list[User]:
        """Add users with the given phones (None: no phone); ids are assigned in order."""
        if len(phones) > MAX_CREATE:
            raise param_error(f"at most {MAX_CREATE} users per call", "/users")
        for index, phone in enumerate(phones):
            if phone is not None and not PHONE.match(phone):
                raise param_error(
                    "phone must be an 11-digit mainland mobile number", f"/users/{index}/phone"
                )
        given = [int(p) for p in phones if p is not None]
        if len(set(given)) != len(given):
            raise param_error("the same phone appears twice", "/users")
        try:
            with self._db.transaction() as conn:
                if self._synthetic_clashes(conn, given):
                    raise IntegrityError("synthetic number", None, ValueError())
                first = self._reserve(conn, len(phones))
                created = [User(first + i, phone) for i, phone in enumerate(phones)]
                rows = [(u.user_id, None if u.phone is None else int(u.phone)) for u in created]
                if rows:
                    marks = "?, ?" if self._db.is_sqlite else "%s, %s"
                    conn.exec_driver_sql(
                        f"INSERT INTO users (user_id, phone) VALUES ({marks})",  # noqa: S608
                        rows,
                    )
        except IntegrityError:
            with self._db.read() as conn:
                taken = self._taken(conn, given)
            raise ApiProblem(
                ErrorCode.INVALID_REQUEST,
                f"{taken} phone number(s) already belong to users",
                status=409,
            ) from None
        return created

    def _synthetic_clashes(self, conn: Connection, phones: list[int]) -> bool:
        """Whether a number is a synthetic user's (numbers in rows are the unique index's job)."""
        numbers = np.array(phones, dtype=np.int64)
        offsets = numbers - SYNTHETIC_BASE
        inside = numbers[(offsets >= 0) & (offsets < SYNTHETIC_SPACE)]
        if not len(inside):
            return False
        wanted = set(inside.tolist())
        owners = [uid for uid in (synthetic_owner(p) for p in wanted) if uid is not None]
        return any(
            user.phone is not None and int(user.phone) in wanted
            for user in self._many(conn, sorted(owners))
        )

    def _taken(self, conn: Connection, phones: list[int]) -> int:
        """How many of the numbers belong to users already (for the error message)."""
        taken = 0
        for start in range(0, len(phones), IN_CHUNK):
            chunk = phones[start : start + IN_CHUNK]
            taken += len(conn.execute(select(users.c.phone).where(users.c.phone.in_(chunk))).all())
        owners = {p: synthetic_owner(p) for p in phones}
        candidates = {uid: p for p, uid in owners.items() if uid is not None}
        if candidates:
            for user in self._many(conn, sorted(candidates)):
                if user.phone is not None and int(user.phone) == candidates[user.user_id]:
                    taken += 1
        return taken

    def generate(self, count: int) -> tuple[int, int]:
        """Make `count` synthetic users with distinct 199-numbers; returns (first id, count)."""
        if not 1 <= count <= MAX_CREATE:
            raise param_error(f"generate must be 1 to {MAX_CREATE}", "/generate")
        with self._db.transaction() as conn:
            first = self._reserve(conn, count)
            if first - 1 + count > SYNTHETIC_SPACE:
                raise ApiProblem(ErrorCode.INVALID_REQUEST, "too many synthetic users")
            conn.execute(insert(synthetic_ranges).values(first_id=first, count=count))
            clashes = conn.execute(
                select(users.c.phone).where(
                    users.c.phone.between(SYNTHETIC_BASE, SYNTHETIC_BASE + SYNTHETIC_SPACE - 1)
                )
            ).scalars()
            overrides = [
                {"user_id": uid, "phone": None}
                for uid in (synthetic_owner(int(p)) for p in clashes)
                if uid is not None and first <= uid < first + count
            ]
            if overrides:
                conn.execute(insert(users), overrides)
        return first, count

    def _many(self, conn: Connection, ids: list[int]) -> list[User]:
        """Users by id, in id order; ids that do not exist are left out."""
        found: dict[int, User] = {}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            for row in conn.execute(select(users).where(users.c.user_id.in_(chunk))):
                found[row.user_id] = User(
                    row.user_id, None if row.phone is None else str(row.phone)
                )
        ranges = conn.execute(select(synthetic_ranges)).all()
        for uid in ids:
            if uid in found:
                continue
            for rng in ranges:
                if rng.first_id <= uid < rng.first_id + rng.count:
                    phone = int(synthetic_phones(np.array([uid], dtype=np.int64))[0])
                    found[uid] = User(uid, str(phone))
        return [found[uid] for uid in sorted(found)]

    def get(self, user_id: int) -> User | None:
        with self._db.read() as conn:
            if not 1 <= user_id < self.next_id(conn):
                return None
            found = self._many(conn, [user_id])
        return found[0] if found else None

    def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        with self._db.read() as conn:
            total = self.next_id(conn) - 1
            ids = list(range(offset + 1, min(offset + limit, total) + 1))
            return self._many(conn, ids), total

    def phones_between(
        self, first: int, stop: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(user ids, phones) of every user with a phone whose id is in [first, stop)."""
        marks = "?, ?" if self._db.is_sqlite else "%s, %s"
        low, high = marks.split(", ")
        with self._db.read() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(
                "SELECT user_id, COALESCE(phone, 0) FROM users "  # noqa: S608
                f"WHERE user_id >= {low} AND user_id < {high}",
                (first, stop),
            )
            rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
            cursor.close()
            ranges = conn.execute(select(synthetic_ranges)).all()
        with_phone = rows[:, 1] != 0
        id_parts = [rows[with_phone, 0]]
        phone_parts = [rows[with_phone, 1]]
        for rng in ranges:
            lo, hi = max(first, rng.first_id), min(stop, rng.first_id + rng.count)
            if lo >= hi:
                continue
            ids = np.arange(lo, hi, dtype=np.int64)
            if len(rows):
                ids = ids[~np.isin(ids, rows[:, 0])]
            id_parts.append(ids)
            phone_parts.append(synthetic_phones(ids))
        return np.concatenate(id_parts), np.concatenate(phone_parts)

    def known_appids(self) -> list[str]:
        with self._db.read() as conn:
            return list(conn.execute(select(appids.c.appid).order_by(appids.c.appid)).scalars())

    def describe(self, user: User, appid_list: list[str]) -> dict[str, Any]:
        return {
            "user_id": user.user_id,
            "phone": user.phone,
            "openids": {appid: self.codec.encode(appid, user.user_id) for appid in appid_list},
        }
