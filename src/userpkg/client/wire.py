"""The `userpkg.client.wire` logger: every request and answer, for debugging a client.

Turn it on with `logging.getLogger("userpkg.client.wire").setLevel(logging.DEBUG)` (and a
handler). Each try logs one line out and one line back: method, path, status, Request-ID,
the signed body (for a part upload only its `file_meta`, never the file's lines) and the
response body, cut at 500 characters. The Authorization header shows brand, serial, nonce
and timestamp but only the first 8 characters of the signature; keys never pass through here.
"""

from __future__ import annotations

import logging
import re

import httpx

log = logging.getLogger("userpkg.client.wire")

BODY_CHARS = 500
SIGNATURE_CHARS = 8
_SIGNATURE = re.compile(r'signature="([^"]*)"')


def _redacted_authorization(value: str) -> str:
    return _SIGNATURE.sub(lambda m: f'signature="{m.group(1)[:SIGNATURE_CHARS]}…"', value)


def _text(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= BODY_CHARS else text[:BODY_CHARS] + f"… ({len(body)} bytes)"


def sent(request: httpx.Request, signed_body: bytes) -> None:
    """`signed_body` is what may be shown of the body (a part upload's `file_meta`)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    log.debug(
        "→ %s %s authorization=%s body=%s",
        request.method,
        request.url.raw_path.decode("ascii", errors="replace"),
        _redacted_authorization(request.headers.get("Authorization", "")),
        _text(signed_body),
    )


def received(request: httpx.Request, response: httpx.Response) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    headers = response.headers
    log.debug(
        "← %s %s %s request-id=%s serial=%s timestamp=%s signature=%s… body=%s",
        response.status_code,
        request.method,
        request.url.raw_path.decode("ascii", errors="replace"),
        headers.get("Request-ID"),
        headers.get("Wechatpay-Serial"),
        headers.get("Wechatpay-Timestamp"),
        headers.get("Wechatpay-Signature", "")[:SIGNATURE_CHARS],
        _text(response.content),
    )


def no_answer(request: httpx.Request, error: Exception) -> None:
    log.debug(
        "✗ %s %s no answer: %s: %s",
        request.method,
        request.url.raw_path.decode("ascii", errors="replace"),
        type(error).__name__,
        error,
    )
