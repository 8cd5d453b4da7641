"""The user directory: users with an optional mobile number, and their openids per appid."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from userpkg.core.openids import OpenidCodec
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.protocol.errors import param_error
from userpkg.store.database import Database
from userpkg.store.schema import appids, users
from userpkg.store.state import get_value, set_value

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
MD5_HEX = re.compile(r"^[0-9A-Fa-f]{32}$")
SECRET = "openid_secret"  # noqa: S105 - the name of a stored value, not a secret
NEXT_USER_ID = "next_user_id"
SYNTHETIC_BASE = 19_900_000_000
SYNTHETIC_SPACE = 100_000_000
SYNTHETIC_STEP = 73_939_133
INSERT_CHUNK = 20_000
MAX_CREATE = 10_000_000


def phone_md5(phone: str) -> str:
    """MD5 hex of the bare 11-digit number, as brands hash phones (no +86)."""
    return hashlib.md5(phone.encode("ascii"), usedforsecurity=False).hexdigest()


def synthetic_phone(user_id: int) -> str:
    """A distinct 199-prefixed number per user id (an affine bijection of the 10^8 range)."""
    return str(SYNTHETIC_BASE + (user_id * SYNTHETIC_STEP + 12_345) % SYNTHETIC_SPACE)


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
                secret = get_value(conn, SECRET)
                if secret is None:
                    secret = secrets.token_hex(32)
                    set_value(conn, SECRET, secret)
            self._codec = OpenidCodec(bytes.fromhex(secret))
        return self._codec

    def _reserve_ids(self, conn: Connection, count: int) -> int:
        """Take `count` consecutive ids under the transaction's lock; returns the first."""
        first = int(get_value(conn, NEXT_USER_ID) or 1)
        if first + count - 1 > 2**32 - 1:
            raise ApiProblem(ErrorCode.INVALID_REQUEST, "the directory is full (ids are 32-bit)")
        set_value(conn, NEXT_USER_ID, str(first + count))
        return first

    def create(self, phones: list[str | None]) -> list[User]:
        """Add users with the given phones (None: no phone); ids are assigned in order."""
        if len(phones) > MAX_CREATE:
            raise param_error(f"at most {MAX_CREATE} users per call", "/users")
        for index, phone in enumerate(phones):
            if phone is not None and not PHONE.match(phone):
                raise param_error(
                    "phone must be an 11-digit mainland mobile number", f"/users/{index}/phone"
                )
        given = [p for p in phones if p is not None]
        if len(set(given)) != len(given):
            raise param_error("the same phone appears twice", "/users")
        with self._db.transaction() as conn:
            taken = self._existing_phones(conn, given)
            if taken:
                raise ApiProblem(
                    ErrorCode.INVALID_REQUEST,
                    f"{len(taken)} phone number(s) already belong to users",
                    status=409,
                )
            first = self._reserve_ids(conn, len(phones))
            created = [User(first + i, phone) for i, phone in enumerate(phones)]
            self._insert(conn, created)
        return created

    def generate(self, count: int) -> tuple[int, int]:
        """Make `count` synthetic users with distinct 199-numbers; returns (first id, count)."""
        if not 1 <= count <= MAX_CREATE:
            raise param_error(f"generate must be 1 to {MAX_CREATE}", "/generate")
        with self._db.transaction() as conn:
            first = self._reserve_ids(conn, count)
            if first - 1 + count > SYNTHETIC_SPACE:
                raise ApiProblem(ErrorCode.INVALID_REQUEST, "too many synthetic users")
            clashes = set(
                conn.execute(
                    select(users.c.phone).where(
                        users.c.phone.between(
                            str(SYNTHETIC_BASE), str(SYNTHETIC_BASE + SYNTHETIC_SPACE - 1)
                        )
                    )
                ).scalars()
            )
            batch: list[User] = []
            for user_id in range(first, first + count):
                phone = synthetic_phone(user_id)
                batch.append(User(user_id, None if phone in clashes else phone))
                if len(batch) >= INSERT_CHUNK:
                    self._insert(conn, batch)
                    batch = []
            self._insert(conn, batch)
        return first, count

    @staticmethod
    def _existing_phones(conn: Connection, phones: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(phones), 500):
            chunk = phones[start : start + 500]
            found.update(
                conn.execute(select(users.c.phone).where(users.c.phone.in_(chunk))).scalars()
            )
        return found

    @staticmethod
    def _insert(conn: Connection, batch: list[User]) -> None:
        if batch:
            conn.execute(
                insert(users),
                [
                    {
                        "user_id": u.user_id,
                        "phone": u.phone,
                        "phone_md5": None if u.phone is None else phone_md5(u.phone),
                    }
                    for u in batch
                ],
            )

    def get(self, user_id: int) -> User | None:
        with self._db.read() as conn:
            row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
        return None if row is None else User(row.user_id, row.phone)

    def by_md5(self, md5_hex: str) -> int | None:
        with self._db.read() as conn:
            found = conn.execute(
                select(users.c.user_id).where(users.c.phone_md5 == md5_hex.lower())
            ).scalar()
        return None if found is None else int(found)

    def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        with self._db.read() as conn:
            total = conn.execute(select(func.count()).select_from(users)).scalar_one()
            rows = conn.execute(
                select(users).order_by(users.c.user_id).offset(offset).limit(limit)
            ).all()
        return [User(r.user_id, r.phone) for r in rows], int(total)

    def known_appids(self) -> list[str]:
        with self._db.read() as conn:
            return list(conn.execute(select(appids.c.appid).order_by(appids.c.appid)).scalars())

    def describe(self, user: User, appids: list[str]) -> dict[str, Any]:
        return {
            "user_id": user.user_id,
            "phone": user.phone,
            "openids": {appid: self.codec.encode(appid, user.user_id) for appid in appids},
        }

    def openid_user(self, appid: str, openid: str) -> int | None:
        """The user an openid names under `appid`, if it was issued and the user exists."""
        user_id = self.codec.decode(appid, openid)
        if user_id is None or self.get(user_id) is None:
            return None
        return user_id
