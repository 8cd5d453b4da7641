"""Brands and what they are allowed: certificates, platform keys, appids, the permission flag.

The brand API reads these on every request, so lookups go through a short-lived in-process
cache; writes in this process clear it at once, other processes see them within `CACHE_SECONDS`.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from userpkg.core.certificates import certificate_view
from userpkg.core.clock import rfc3339
from userpkg.core.platform_keys import PlatformKeys
from userpkg.protocol import ApiProblem, ErrorCode, KeyFormatError, load_public_key, serial_text
from userpkg.protocol.errors import param_error
from userpkg.store.database import Database, insert_into
from userpkg.store.schema import (
    appid_bindings,
    appids,
    brand_platform_keys,
    brands,
    certificates,
)

CACHE_SECONDS = 1.0
BRAND_ID = re.compile(r"^[0-9A-Za-z]{1,32}$")
SERIAL_NO = re.compile(r"^[0-9A-Fa-f]{1,64}$")
APPID = re.compile(r"^[0-9A-Za-z_]{1,32}$")


@dataclass(frozen=True)
class Brand:
    brand_id: str
    name: str
    user_package_enabled: bool
    platform_key_id: str | None
    platform_key_ids: frozenset[str]
    signtest_pending: bool
    created_at: int

    def response_key_id(self, requested: str | None) -> str | None:
        """The key to sign with: the one the request named, if associated, else the default."""
        if requested and requested in self.platform_key_ids:
            return requested
        return self.platform_key_id

    def public(self) -> dict[str, object]:
        return {
            "brand_id": self.brand_id,
            "name": self.name,
            "user_package_enabled": self.user_package_enabled,
            "platform_key_id": self.platform_key_id,
            "platform_key_ids": sorted(self.platform_key_ids),
            "create_time": rfc3339(self.created_at),
        }


def not_found(what: str) -> ApiProblem:
    return ApiProblem(ErrorCode.NOT_FOUND, f"{what} not found")


class Brands:
    def __init__(self, db: Database, keys: PlatformKeys) -> None:
        self._db = db
        self._keys = keys
        self._cache: dict[str, tuple[float, Brand | None]] = {}
        self._cert_cache: dict[tuple[str, str], tuple[float, RSAPublicKey | None]] = {}
        self._pem_keys: dict[str, RSAPublicKey] = {}
        self._lock = threading.Lock()

    def _forget(self, brand_id: str) -> None:
        with self._lock:
            self._cache.pop(brand_id, None)
            for key in [k for k in self._cert_cache if k[0] == brand_id]:
                self._cert_cache.pop(key, None)

    def create(self, brand_id: str | None, name: str) -> Brand:
        if brand_id is None:
            brand_id = str(1_000_000_000 + secrets.randbelow(9_000_000_000))
        if not BRAND_ID.match(brand_id):
            raise param_error("brand_id must be 1 to 32 letters or digits", "/brand_id")
        if not name or len(name) > 128:
            raise param_error("name must be 1 to 128 characters", "/name")
        own_key, _ = self._keys.create()
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    insert(brands).values(
                        brand_id=brand_id,
                        name=name,
                        user_package_enabled=True,
                        platform_key_id=own_key,
                        signtest_pending=False,
                        created_at=int(time.time()),
                    )
                )
                conn.execute(
                    insert(brand_platform_keys).values(brand_id=brand_id, public_key_id=own_key)
                )
        except IntegrityError:
            raise ApiProblem(
                ErrorCode.INVALID_REQUEST, f"brand {brand_id} already exists", status=409
            ) from None
        self._forget(brand_id)
        brand = self.get(brand_id)
        assert brand is not None
        return brand

    def get(self, brand_id: str) -> Brand | None:
        now = time.monotonic()
        cached = self._cache.get(brand_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._db.read() as conn:
            row = conn.execute(select(brands).where(brands.c.brand_id == brand_id)).first()
            key_ids = frozenset(
                conn.execute(
                    select(brand_platform_keys.c.public_key_id).where(
                        brand_platform_keys.c.brand_id == brand_id
                    )
                ).scalars()
            )
        brand = (
            None
            if row is None
            else Brand(
                brand_id=row.brand_id,
                name=row.name,
                user_package_enabled=bool(row.user_package_enabled),
                platform_key_id=row.platform_key_id,
                platform_key_ids=key_ids,
                signtest_pending=bool(row.signtest_pending),
                created_at=row.created_at,
            )
        )
        with self._lock:
            self._cache[brand_id] = (now, brand)
        return brand

    def require(self, brand_id: str) -> Brand:
        brand = self.get(brand_id)
        if brand is None:
            raise not_found(f"brand {brand_id}")
        return brand

    def page(self, offset: int, limit: int) -> tuple[list[Brand], int]:
        with self._db.read() as conn:
            ids = list(
                conn.execute(
                    select(brands.c.brand_id).order_by(brands.c.created_at, brands.c.brand_id)
                ).scalars()
            )
        page = [self.require(brand_id) for brand_id in ids[offset : offset + limit]]
        return page, len(ids)

    def add_certificate(
        self,
        brand_id: str,
        serial_no: str,
        public_key_pem: str,
        certificate_pem: str | None = None,
    ) -> str:
        """Register a certificate; returns its serial as stored (see `serial_text`)."""
        self.require(brand_id)
        if not SERIAL_NO.match(serial_no):
            raise param_error("serial_no must be 1 to 64 hexadecimal characters", "/serial_no")
        try:
            load_public_key(public_key_pem)
        except KeyFormatError as exc:
            raise param_error(str(exc), "/public_key_pem") from None
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    insert(certificates).values(
                        brand_id=brand_id,
                        serial_no=serial_text(serial_no),
                        public_key_pem=public_key_pem,
                        created_at=int(time.time()),
                        certificate_pem=certificate_pem,
                    )
                )
        except IntegrityError:
            raise ApiProblem(
                ErrorCode.INVALID_REQUEST,
                f"certificate {serial_text(serial_no)} is already registered for brand {brand_id}",
                status=409,
            ) from None
        self._forget(brand_id)
        return serial_text(serial_no)

    def remove_certificate(self, brand_id: str, serial_no: str) -> None:
        with self._db.transaction() as conn:
            gone = conn.execute(
                delete(certificates).where(
                    certificates.c.brand_id == brand_id,
                    certificates.c.serial_no == serial_text(serial_no),
                )
            ).rowcount
        if not gone:
            raise not_found(f"certificate {serial_no} of brand {brand_id}")
        self._forget(brand_id)

    def certificates(self, brand_id: str) -> list[dict[str, Any]]:
        """The brand's registered certificates, oldest first, as `certificate_view` shows them."""
        self.require(brand_id)
        with self._db.read() as conn:
            rows = conn.execute(
                select(certificates)
                .where(certificates.c.brand_id == brand_id)
                .order_by(certificates.c.created_at, certificates.c.serial_no)
            ).all()
        return [
            certificate_view(
                r.brand_id, r.serial_no, r.public_key_pem, r.certificate_pem, r.created_at
            )
            for r in rows
        ]

    def certificate_key(self, brand_id: str, serial_no: str) -> RSAPublicKey | None:
        """The public key registered under `serial_no` for the brand, the serial read as a
        number (case and leading zeros ignored)."""
        cache_key = (brand_id, serial_text(serial_no))
        now = time.monotonic()
        cached = self._cert_cache.get(cache_key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._db.read() as conn:
            pem = conn.execute(
                select(certificates.c.public_key_pem).where(
                    certificates.c.brand_id == brand_id,
                    certificates.c.serial_no == cache_key[1],
                )
            ).scalar()
        key = None
        if pem is not None:
            key = self._pem_keys.get(pem)
            if key is None:
                key = load_public_key(pem)
                self._pem_keys[pem] = key
        with self._lock:
            self._cert_cache[cache_key] = (now, key)
        return key

    def set_platform_key(self, brand_id: str, key_id: str) -> None:
        self.require(brand_id)
        if not self._keys.exists(key_id):
            raise param_error(f"platform key {key_id} does not exist", "/public_key_id")
        with self._db.transaction() as conn:
            holder = conn.execute(
                select(brand_platform_keys.c.brand_id).where(
                    brand_platform_keys.c.public_key_id == key_id,
                    brand_platform_keys.c.brand_id != brand_id,
                )
            ).first()
            if holder is not None:
                raise ApiProblem(
                    ErrorCode.INVALID_REQUEST,
                    f"platform key {key_id} belongs to brand {holder.brand_id}; create a new one "
                    "with POST /admin/v1/platform-keys",
                    detail={"location": "body", "field": "/public_key_id"},
                    status=409,
                )
            conn.execute(
                update(brands).where(brands.c.brand_id == brand_id).values(platform_key_id=key_id)
            )
            conn.execute(
                insert_into(conn, brand_platform_keys)
                .values(brand_id=brand_id, public_key_id=key_id)
                .on_conflict_do_nothing()
            )
        self._forget(brand_id)

    def set_permission(self, brand_id: str, enabled: bool) -> None:
        self.require(brand_id)
        with self._db.transaction() as conn:
            conn.execute(
                update(brands)
                .where(brands.c.brand_id == brand_id)
                .values(user_package_enabled=enabled)
            )
        self._forget(brand_id)

    def request_signtest(self, brand_id: str) -> None:
        self.require(brand_id)
        with self._db.transaction() as conn:
            conn.execute(
                update(brands).where(brands.c.brand_id == brand_id).values(signtest_pending=True)
            )
        self._forget(brand_id)

    def take_signtest(self, brand_id: str) -> bool:
        """True exactly once after request_signtest: the caller must answer with a probe."""
        brand = self.get(brand_id)
        if brand is None or not brand.signtest_pending:
            return False
        with self._db.transaction() as conn:
            taken = conn.execute(
                update(brands)
                .where(brands.c.brand_id == brand_id, brands.c.signtest_pending.is_(True))
                .values(signtest_pending=False)
            ).rowcount
        self._forget(brand_id)
        return bool(taken)

    def register_appid(self, appid: str) -> None:
        """Make an appid known to the directory (openids exist for it) without binding it."""
        if not APPID.match(appid):
            raise param_error("appid must be 1 to 32 letters, digits or '_'", "/appid")
        with self._db.transaction() as conn:
            conn.execute(
                insert_into(conn, appids)
                .values(appid=appid, created_at=int(time.time()))
                .on_conflict_do_nothing()
            )

    def bind_appid(self, brand_id: str, appid: str) -> None:
        self.require(brand_id)
        self.register_appid(appid)
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    insert(appid_bindings).values(
                        brand_id=brand_id, appid=appid, created_at=int(time.time())
                    )
                )
        except IntegrityError:
            raise ApiProblem(
                ErrorCode.INVALID_REQUEST,
                f"appid {appid} is already bound to brand {brand_id}",
                status=409,
            ) from None

    def unbind_appid(self, brand_id: str, appid: str) -> None:
        with self._db.transaction() as conn:
            gone = conn.execute(
                delete(appid_bindings).where(
                    appid_bindings.c.brand_id == brand_id, appid_bindings.c.appid == appid
                )
            ).rowcount
        if not gone:
            raise not_found(f"appid {appid} bound to brand {brand_id}")

    def appids(self, brand_id: str) -> list[str]:
        with self._db.read() as conn:
            return list(
                conn.execute(
                    select(appid_bindings.c.appid)
                    .where(appid_bindings.c.brand_id == brand_id)
                    .order_by(appid_bindings.c.appid)
                ).scalars()
            )
