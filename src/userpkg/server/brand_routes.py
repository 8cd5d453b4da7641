"""The brand endpoints served straight from ASGI, in front of FastAPI.

FastAPI's router, middleware stack and dependency solving cost more per request than the
whole of an expand poll besides its crypto; the brand handlers need only a Request. The
FastAPI routes stay: they give /openapi.json the brand paths, and every method or path not
matched here (405s, 404s) is answered by FastAPI as before. Paths are matched with the
regexes FastAPI compiles from the same templates, so both match exactly the same requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

from starlette._utils import get_route_path
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from userpkg.protocol import ApiProblem
from userpkg.server.problems import closed_response, problem_response

Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class BrandRoute:
    method: str
    path: str
    handler: Handler
    regex: Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])


class BrandRoutes:
    def __init__(self, app: ASGIApp, prefix: str, routes: list[BrandRoute]) -> None:
        self._app = app
        self._prefix = prefix
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self._prefix):
            path = get_route_path(scope)
            for route in self._routes:
                if route.method == scope["method"] and (match := route.regex.match(path)):
                    response = await _answer(route, Request(scope, receive), match.groupdict())
                    await response(scope, receive, send)
                    return
        await self._app(scope, receive, send)


async def _answer(route: BrandRoute, request: Request, params: dict[str, Any]) -> Response:
    """The handler's answer, or its failure in the API's format; a crash goes up to `Edge`."""
    try:
        return await route.handler(request, **params)
    except ApiProblem as problem:
        return problem_response(problem)
    except ClientDisconnect:
        return closed_response()
