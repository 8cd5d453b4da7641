"""The outermost layer: Request-ID on every response, and a signature on every brand response.

Every answer under /brand/ — success, error, unknown route, crash — leaves through here and
is signed with the platform key the request named (if the brand holds it) or the brand's
default. Here too each request is logged, measured and written to the brand's request log.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from userpkg.core.requestlog import RequestEntry
from userpkg.core.service import Service
from userpkg.server import fault_edge
from userpkg.server.connections import REFUSAL
from userpkg.server.logs import shorten_path
from userpkg.server.metrics import Metrics
from userpkg.server.problems import CLIENT_CLOSED
from userpkg.server.response_signing import ResponseSigning

log = logging.getLogger("userpkg.request")

BRAND_PREFIX = "/brand/"
DOC_PAGES = frozenset({"/docs", "/redoc"})
DOC_PAGES_CSP = (b"content-security-policy", b"img-src 'self' data: blob:")
"""ReDoc's footer shows a logo from its CDN; offline pages ask nothing of another host."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
CONTROL_REFUSAL = (
    400,
    "the request's path or query contains a control character (such as %00); no id, code or "
    "value of this API has one: remove it",
)
SIGNED = b"wechatpay-signature"
SYSTEM_ERROR = {
    "code": "SYSTEM_ERROR",
    "message": "the service failed unexpectedly; retrying with the same parameters is safe",
}


def new_request_id() -> str:
    return f"{int(time.time() * 1000):x}-{secrets.token_hex(8)}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Edge:
    def __init__(
        self, app: ASGIApp, service: Service, metrics: Metrics, signing: ResponseSigning
    ) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self.signing = signing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        refusal = state.get(REFUSAL)
        if refusal is None and _has_control(scope):
            refusal = CONTROL_REFUSAL
        brand_api = scope["path"].startswith(BRAND_PREFIX) or (
            refusal is not None and not scope["path"].startswith("/admin/")
        )
        outcome: dict[str, Any] = {"status": 500, "code": None, "sent": False}
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_out(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                headers = [*message.get("headers", []), (b"request-id", request_id.encode())]
                if scope["path"] in DOC_PAGES:
                    headers.append(DOC_PAGES_CSP)
                message = {**message, "headers": headers}
                if brand_api:
                    held["start"] = message
                    return
                outcome["sent"] = True
                await send(message)
                return
            if message["type"] == "http.response.body" and brand_api:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                start = held.pop("start")
                if not any(name == SIGNED for name, _ in start["headers"]):
                    start["headers"] = [
                        *start["headers"],
                        *self._signature_headers(scope, state, body),
                    ]
                outcome["code"] = _error_code(outcome["status"], body)
                outcome["sent"] = True
                if await fault_edge.intercept(scope, state, start, body, send, self.signing):
                    return
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        received = [0]

        async def counted_receive() -> Message:
            message = await receive()
            received[0] += len(message.get("body", b""))
            return message

        try:
            if refusal is None:
                await self.app(scope, counted_receive, send_out)
            else:
                await _refuse(refusal, send_out)
        except ClientDisconnect:
            outcome["status"] = CLIENT_CLOSED
            log.info("client closed the connection mid-request", extra={"request_id": request_id})
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not outcome["sent"]:
                held.clear()
                chunks.clear()
                body = json.dumps(SYSTEM_ERROR).encode()
                await send_out(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send_out({"type": "http.response.body", "body": body})
        finally:
            self._record(scope, state, outcome, request_id, time.perf_counter() - started)
            if received[0]:
                self.metrics.received.labels("brand" if brand_api else "other").inc(received[0])

    def _signature_headers(
        self, scope: Scope, state: dict[str, Any], body: bytes
    ) -> list[tuple[bytes, bytes]]:
        headers = self.signing.headers(
            body,
            authenticated_brand=state.get("brand_id"),
            authorization=_header(scope, b"authorization"),
            requested_key=_header(scope, b"wechatpay-serial"),
        )
        return [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    def _record(
        self,
        scope: Scope,
        state: dict[str, Any],
        outcome: dict[str, Any],
        request_id: str,
        seconds: float,
    ) -> None:
        path = shorten_path(scope["path"])
        api = (
            "brand"
            if path.startswith(BRAND_PREFIX)
            else "admin"
            if path.startswith("/admin/")
            else "other"
        )
        endpoint = state.get("endpoint", "unmatched")
        status = outcome["status"]
        self.metrics.observe(api, endpoint, status, seconds)
        brand_id = state.get("brand_id") or state.get("claimed_brand_id")
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "path": path,
            "endpoint": endpoint,
            "status": status,
            "code": outcome["code"],
            "latency_ms": round(seconds * 1000, 2),
            "fault_id": state.get("fault_id"),
        }
        if api == "brand":
            fields["brand_id"] = brand_id
            fields["auth"] = state.get("auth", "not checked")
            if fields["auth"] not in ("ok", "not checked"):
                self.metrics.sign_failures.labels(fields["auth"]).inc()
        log.info("request", extra=fields)
        unknown_brand = state.get("unknown_brand_id")
        if api == "brand" and (brand_id or unknown_brand is not None):
            shown = state.get("sign_information")
            self.service.request_log.add(
                RequestEntry(
                    brand_id=str(brand_id or unknown_brand),
                    time=time.time(),
                    method=scope["method"],
                    path=path,
                    status=status,
                    code=outcome["code"],
                    request_id=request_id,
                    auth=fields["auth"],
                    latency_ms=fields["latency_ms"],
                    attributed=bool(brand_id),
                    sign_information=None if shown is None else json.dumps(shown),
                    fault_id=fields["fault_id"],
                )
            )


def _has_control(scope: Scope) -> bool:
    """Control characters reach no id or value of this API, and PostgreSQL refuses NUL in
    text: refused at the edge, they cannot become a 500 deeper in."""
    if CONTROL.search(scope["path"]):
        return True
    query: bytes = scope.get("query_string", b"")
    return bool(query) and CONTROL_BYTES.search(unquote_to_bytes(query)) is not None


async def _refuse(refusal: tuple[int, str], send: Send) -> None:
    """What the connection layer refused (too large, too slow, not HTTP): a contract error."""
    status, message = refusal
    body = json.dumps({"code": "INVALID_REQUEST", "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error_code(status: int, body: bytes) -> str | None:
    if status < 400:
        return None
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None
