"""What a call can fail with: the API said no, the response was not genuine, or no answer."""

from __future__ import annotations

from typing import Any

from userpkg.protocol import ResponseVerificationError


class ApiError(Exception):
    """The API answered with an error body (`code`, `message`, `detail`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: dict[str, Any] | None,
        request_id: str | None,
    ) -> None:
        super().__init__(f"{status} {code}: {message} (Request-ID {request_id})")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.request_id = request_id


class SignatureError(ResponseVerificationError):
    """A response failed verification (serial, age or signature): its body is not trusted."""

    def __init__(self, reason: str, request_id: str | None) -> None:
        super().__init__(f"{reason} (Request-ID {request_id})")
        self.reason = reason
        self.request_id = request_id


class TransportFailure(Exception):
    """No answer after every retry: connection refused, dropped, or timed out."""
