"""The platform keys ("WeChat Pay public keys") whose private halves sign every response."""

from __future__ import annotations

import secrets
import threading
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from userpkg.protocol import ApiProblem, ErrorCode, ResponseSigner, RsaSigner, load_private_key
from userpkg.protocol.keys import public_key_pem
from userpkg.store.database import Database
from userpkg.store.schema import platform_keys
from userpkg.store.state import ensure_value, get_value

DEFAULT_KEY = "default_platform_key_id"


def new_key_id() -> str:
    return f"PUB_KEY_ID_{secrets.randbelow(10**32):032d}"


class PlatformKeys:
    """Creates platform keys and hands out one cached ResponseSigner per key (keys never change)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._signers: dict[str, ResponseSigner] = {}
        self._lock = threading.Lock()

    def create(self) -> tuple[str, str]:
        """A new RSA-2048 key: (public_key_id, SPKI PEM). The first one becomes the default."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        public_pem = public_key_pem(key.public_key())
        key_id = new_key_id()
        with self._db.transaction() as conn:
            conn.execute(
                platform_keys.insert().values(
                    public_key_id=key_id,
                    private_key_pem=private_pem,
                    public_key_pem=public_pem,
                    created_at=int(time.time()),
                )
            )
            ensure_value(conn, DEFAULT_KEY, key_id)
        return key_id, public_pem

    def exists(self, key_id: str) -> bool:
        if key_id in self._signers:
            return True
        with self._db.read() as conn:
            found = conn.execute(
                select(platform_keys.c.public_key_id).where(platform_keys.c.public_key_id == key_id)
            ).first()
        return found is not None

    def public_pem(self, key_id: str) -> str:
        with self._db.read() as conn:
            pem = conn.execute(
                select(platform_keys.c.public_key_pem).where(
                    platform_keys.c.public_key_id == key_id
                )
            ).scalar()
        if pem is None:
            raise ApiProblem(ErrorCode.NOT_FOUND, f"platform key {key_id} not found")
        return str(pem)

    def default_key_id(self) -> str:
        """The service's default key, created on first use so every response can be signed.

        Processes starting together may each create a key; one becomes the default.
        """
        with self._db.read() as conn:
            key_id = get_value(conn, DEFAULT_KEY)
        if key_id is None:
            self.create()
            with self._db.read() as conn:
                key_id = get_value(conn, DEFAULT_KEY)
        assert key_id is not None
        return key_id

    def signer(self, key_id: str) -> ResponseSigner:
        signer = self._signers.get(key_id)
        if signer is not None:
            return signer
        with self._db.read() as conn:
            pem = conn.execute(
                select(platform_keys.c.private_key_pem).where(
                    platform_keys.c.public_key_id == key_id
                )
            ).scalar()
        if pem is None:
            raise KeyError(key_id)
        signer = ResponseSigner(key_id, RsaSigner(load_private_key(pem)))
        with self._lock:
            self._signers[key_id] = signer
        return signer
