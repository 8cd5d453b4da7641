"""Reading a whole request body under a limit: refused from Content-Length, or mid-stream."""

from __future__ import annotations

from starlette.requests import Request

from userpkg.protocol import ApiProblem
from userpkg.protocol.errors import param_error


def too_large(limit: int) -> ApiProblem:
    return param_error(f"the request body is larger than the {limit} bytes allowed", status=413)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, never holding more than `limit` bytes: a larger one is 413 before it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)
