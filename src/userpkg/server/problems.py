"""How failures become answers in the API's error format: one place for FastAPI's exception
handlers and for the brand routes served straight from ASGI (`brand_routes`)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from userpkg.protocol import ApiProblem, ErrorCode

CLIENT_CLOSED = 499


def problem_response(problem: ApiProblem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, headers=problem.headers)


def closed_response() -> JSONResponse:
    """Nobody reads this answer; its status marks the request as closed by the client."""
    problem = ApiProblem(
        ErrorCode.INVALID_REQUEST, "the client closed the connection before the body ended"
    )
    return JSONResponse(problem.body(), status_code=CLIENT_CLOSED)
