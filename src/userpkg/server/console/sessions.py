"""Console sign-in sessions and CSRF tokens, HMAC-signed with a secret kept in the data dir.

Nothing is stored per session, so every API process of one service accepts the same cookie.
A session is bound to a fingerprint of the operator token: a new token ends every session.
Before sign-in a random pre-session cookie carries the CSRF token of the sign-in form.
Cookies are shared by every port of a host, so forms are also checked for Origin and
Sec-Fetch-Site: same-site is not same-origin.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "userpkg_console"
PRESESSION_COOKIE = "userpkg_console_pre"
SESSION_SECONDS = 12 * 3600
SECRET_FILE = "console-secret"  # noqa: S105 (a file name, not a secret)


def _load_secret(data_dir: Path) -> bytes:
    """The signing secret, made once (mode 0600); concurrent first starts agree on one."""
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    for _ in range(50):
        text = path.read_text(encoding="ascii").strip()
        if len(text) == 64:
            return bytes.fromhex(text)
        time.sleep(0.02)
    raise RuntimeError(f"{path} is not a 64-hex-digit secret; delete it to make a new one")


@dataclass(frozen=True)
class Session:
    nonce: str
    expires: int


class Sessions:
    def __init__(self, data_dir: Path, admin_token: str) -> None:
        self._secret = _load_secret(data_dir)
        self._token = admin_token.encode()
        self._fingerprint = hashlib.sha256(b"console|" + self._token).hexdigest()[:16]

    def _mac(self, *parts: str) -> str:
        message = "|".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.strip().encode("utf-8", "replace"), self._token)

    # sessions

    def start(self, response: Response, request: Request) -> None:
        expires = int(time.time()) + SESSION_SECONDS
        nonce = secrets.token_urlsafe(18)
        value = f"{expires}.{nonce}.{self._mac('session', str(expires), nonce, self._fingerprint)}"
        _set_cookie(response, request, SESSION_COOKIE, value, SESSION_SECONDS)
        response.delete_cookie(PRESESSION_COOKIE, path="/console/")

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/console/")

    def current(self, request: Request) -> Session | None:
        value = request.cookies.get(SESSION_COOKIE, "")
        expires, _, rest = value.partition(".")
        nonce, _, mac = rest.partition(".")
        if not expires.isdigit() or not nonce or not mac:
            return None
        expected = self._mac("session", expires, nonce, self._fingerprint)
        if not _same(mac, expected) or int(expires) < time.time():
            return None
        return Session(nonce, int(expires))

    # CSRF

    def csrf_for(self, session: Session) -> str:
        return self._mac("csrf", session.nonce)

    def presession(self, request: Request) -> tuple[str, str]:
        """The sign-in form's pre-session (the cookie's, or a new one) and its CSRF token."""
        nonce = request.cookies.get(PRESESSION_COOKIE, "")
        if len(nonce) < 16:
            nonce = secrets.token_urlsafe(18)
        return nonce, self._mac("csrf-pre", nonce)

    def keep_presession(self, response: Response, request: Request, nonce: str) -> None:
        _set_cookie(response, request, PRESESSION_COOKIE, nonce, 3600)

    def presession_csrf_ok(self, request: Request, given: str) -> bool:
        nonce = request.cookies.get(PRESESSION_COOKIE, "")
        if len(nonce) < 16 or not given:
            return False
        return _same(given, self._mac("csrf-pre", nonce))

    def csrf_ok(self, session: Session, given: str) -> bool:
        return bool(given) and _same(given, self.csrf_for(session))


def _same(given: str, expected: str) -> bool:
    """Constant-time, and any text a client sent (not only ASCII) is just a mismatch."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another origin (another port too)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"{request.url.scheme}://{host}", f"http://{host}", f"https://{host}")


def _set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/console/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
