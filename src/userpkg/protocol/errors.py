"""The API's error model: codes, their HTTP statuses, and the exception that carries one."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class ErrorCode(StrEnum):
    PARAM_ERROR = "PARAM_ERROR"
    INVALID_REQUEST = "INVALID_REQUEST"
    SIGN_ERROR = "SIGN_ERROR"
    NO_AUTH = "NO_AUTH"
    NOT_FOUND = "NOT_FOUND"
    RATELIMIT_EXCEEDED = "RATELIMIT_EXCEEDED"
    SYSTEM_ERROR = "SYSTEM_ERROR"


DEFAULT_STATUS: dict[ErrorCode, int] = {
    ErrorCode.PARAM_ERROR: 400,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.SIGN_ERROR: 401,
    ErrorCode.NO_AUTH: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RATELIMIT_EXCEEDED: 429,
    ErrorCode.SYSTEM_ERROR: 500,
}


class ErrorBody(BaseModel):
    """`{"code", "message", "detail"?}`; unknown fields from the host are kept."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    detail: dict[str, Any] | None = None


class ApiProblem(Exception):
    """An error answer of the API, raised anywhere and turned into a response at the edge."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = DEFAULT_STATUS[code] if status is None else status
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.detail:
            out["detail"] = self.detail
        return out

    def __repr__(self) -> str:
        return f"ApiProblem({self.status}, {self.code.value}, {self.message!r})"


def param_error(message: str, field: str | None = None, *, status: int = 400) -> ApiProblem:
    """PARAM_ERROR naming the offending field by JSON pointer, as `detail.field`."""
    detail = {"location": "body", "field": field} if field is not None else None
    return ApiProblem(ErrorCode.PARAM_ERROR, message, status=status, detail=detail)


def invalid_request(message: str, field: str | None = None) -> ApiProblem:
    detail = {"field": field} if field is not None else None
    return ApiProblem(ErrorCode.INVALID_REQUEST, message, detail=detail)
