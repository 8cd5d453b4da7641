"""Where fault rules (SPEC §10) touch HTTP: after authentication, and at the last byte out.

`FaultHook.before` runs once a brand request has passed §3's checks: it takes at most one
rule and answers an `error` or `drop` itself. `intercept` runs in the edge when the answer is
ready: it spoils the signature headers, waits, or closes the connection with no answer.
Everything else about faults lives in `core.faults`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Scope, Send

from userpkg.core.faults import Fault
from userpkg.core.service import Service
from userpkg.protocol.faults import STALE_SECONDS, FaultKind
from userpkg.server.response_signing import ResponseSigning

DROPPED_STATUS = 444
"""What the request log records for a dropped request: nginx's "closed without a response"."""

_SIGNATURE = b"wechatpay-signature"
_SERIAL = b"wechatpay-serial"


class FaultHook:
    def __init__(self, service: Service) -> None:
        self._service = service

    async def before(self, request: Request, brand_id: str, *, new_task: bool) -> Response | None:
        """Take this request's rule, if any; an answer returned here replaces the real one."""
        if not self._service.settings.faults_enabled:
            return None
        rules, endpoint = self._service.faults, request.state.endpoint
        if rules.candidate(brand_id, endpoint, new_task=new_task) is None:
            return None
        fault = await run_in_threadpool(rules.take, brand_id, endpoint, new_task=new_task)
        if fault is None:
            return None
        request.state.fault = fault
        request.state.fault_id = fault.fault_id
        if fault.kind is FaultKind.ERROR:
            fields = fault.fields
            headers = (
                {"Retry-After": str(fields["retry_after"])} if "retry_after" in fields else None
            )
            return JSONResponse(
                {"code": fields["code"], "message": fields["message"]},
                status_code=int(fields["status"]),
                headers=headers,
            )
        if fault.kind is FaultKind.DROP:
            return Response(status_code=DROPPED_STATUS)
        return None


def injected_failure(request: Request) -> str | None:
    """The message a `task_failed` rule gives the task this expand creates, if one applied."""
    fault: Fault | None = getattr(request.state, "fault", None)
    if fault is None or fault.kind is not FaultKind.TASK_FAILED:
        return None
    return str(fault.fields["message"])


async def intercept(
    scope: Scope,
    state: dict[str, Any],
    start: Message,
    body: bytes,
    send: Send,
    signing: ResponseSigning,
) -> bool:
    """Apply the request's fault to its finished answer; True when nothing must be sent."""
    fault: Fault | None = state.get("fault")
    if fault is None:
        return False
    kind = fault.kind
    if kind in (FaultKind.DROP, FaultKind.LOST_RESPONSE):
        await close_without_answer(send)
        return True
    if kind is FaultKind.DELAY:
        await asyncio.sleep(int(fault.fields["delay_ms"]) / 1000)
    elif kind is FaultKind.BAD_SIGNATURE:
        _replace(start, _SIGNATURE, _spoiled(_get(start, _SIGNATURE)))
    elif kind is FaultKind.WRONG_SERIAL:
        _replace(start, _SERIAL, f"PUB_KEY_ID_{secrets.randbelow(10**32):032d}")
    elif kind is FaultKind.STALE_TIMESTAMP:
        stale = signing.headers(
            body,
            authenticated_brand=None,
            authorization=_request_header(scope, b"authorization"),
            requested_key=_request_header(scope, b"wechatpay-serial"),
            timestamp=int(time.time()) - STALE_SECONDS,
        )
        for name, value in stale.items():
            _replace(start, name.lower().encode(), value)
    return False


async def close_without_answer(send: Send) -> None:
    """Close the TCP connection under this request with nothing written to it.

    ASGI has no message for this; uvicorn's `send` is a method of the request's cycle, which
    holds the transport. Yielding once lets uvicorn see the disconnect, so it sends no 500.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("the server does not expose its transport; cannot drop a connection")
    transport.close()
    await asyncio.sleep(0)


def _spoiled(signature: str) -> str:
    """Same length and alphabet as a real signature, but over other bytes: it cannot verify."""
    try:
        raw = bytearray(base64.b64decode(signature))
    except ValueError:
        raw = bytearray(secrets.token_bytes(256))
    raw[len(raw) // 2] ^= 0x55
    return base64.b64encode(bytes(raw)).decode("ascii")


def _get(start: Message, name: bytes) -> str:
    for key, value in start["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _replace(start: Message, name: bytes, value: str) -> None:
    start["headers"] = [
        *((k, v) for k, v in start["headers"] if k.lower() != name),
        (name, value.encode("latin-1")),
    ]


def _request_header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
