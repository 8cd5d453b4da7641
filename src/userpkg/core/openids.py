"""Openids by keyed encryption: stable per (appid, user), unguessable, and never stored.

openid = prefix(appid) [6 chars] + base64url(AES-128(user_id:4 ‖ tag(appid):12)) [22 chars].
The tag is an HMAC of the appid, so decrypting an openid tells which appid it was issued
under and which user it names; a wrong appid or a made-up string fails the tag check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

OPENID_LENGTH = 28
PREFIX_LENGTH = 6
TAG_LENGTH = 12
MAX_USER_ID = 2**32 - 1


class OpenidCodec:
    def __init__(self, secret: bytes) -> None:
        aes_key = hmac.new(secret, b"openid-aes-key", hashlib.sha256).digest()[:16]
        self._cipher = Cipher(algorithms.AES(aes_key), modes.ECB())  # noqa: S305 - one block per id
        self._secret = secret

    def tag(self, appid: str) -> bytes:
        return hmac.new(self._secret, b"tag:" + appid.encode(), hashlib.sha256).digest()[
            :TAG_LENGTH
        ]

    def prefix(self, appid: str) -> str:
        mac = hmac.new(self._secret, b"prefix:" + appid.encode(), hashlib.sha256).digest()
        return "o" + base64.urlsafe_b64encode(mac).decode("ascii")[: PREFIX_LENGTH - 1]

    def encode(self, appid: str, user_id: int) -> str:
        if not 0 <= user_id <= MAX_USER_ID:
            raise ValueError("user ids fit in 32 bits")
        block = user_id.to_bytes(4, "big") + self.tag(appid)
        encryptor = self._cipher.encryptor()
        sealed = encryptor.update(block) + encryptor.finalize()
        return self.prefix(appid) + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def encode_many(self, appid: str, user_ids: list[int]) -> list[str]:
        """The openids of many users under one appid, with one AES call for all of them."""
        tag = self.tag(appid)
        encryptor = self._cipher.encryptor()
        sealed = encryptor.update(b"".join(uid.to_bytes(4, "big") + tag for uid in user_ids))
        prefix = self.prefix(appid)
        encode = base64.urlsafe_b64encode
        return [
            prefix + encode(sealed[i : i + 16]).decode("ascii")[:22]
            for i in range(0, len(sealed), 16)
        ]

    def decrypt_blocks(self, data: bytes) -> bytes:
        """AES-decrypt many 16-byte blocks at once (ECB: each block is one openid's body)."""
        decryptor = self._cipher.decryptor()
        return decryptor.update(data) + decryptor.finalize()

    def decode(self, appid: str, openid: str) -> int | None:
        """The user id if `openid` was issued under `appid`, else None."""
        if len(openid) != OPENID_LENGTH or not openid.startswith(self.prefix(appid)):
            return None
        body = openid[PREFIX_LENGTH:]
        try:
            sealed = base64.urlsafe_b64decode(body + "==")
        except ValueError:
            return None
        if len(sealed) != 16 or base64.urlsafe_b64encode(sealed).decode().rstrip("=") != body:
            return None
        decryptor = self._cipher.decryptor()
        block = decryptor.update(sealed) + decryptor.finalize()
        if not hmac.compare_digest(block[4:], self.tag(appid)):
            return None
        return int.from_bytes(block[:4], "big")
