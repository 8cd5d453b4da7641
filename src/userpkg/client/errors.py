"""What a call can fail with: the API said no, the response was not genuine, or no answer."""

from __future__ import annotations

from typing import Any

from userpkg.protocol import ResponseVerificationError


class ApiError(Exception):
    """The API answered with an error body (`code`, `message`, `detail`).

    `string_to_sign` is the client's own string to sign for the request, kept so that a
    SIGN_ERROR can be shown beside the service's `detail.sign_information`.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: dict[str, Any] | None,
        request_id: str | None,
        string_to_sign: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message} (Request-ID {request_id})")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.request_id = request_id
        self.string_to_sign = string_to_sign


class SignatureError(ResponseVerificationError):
    """A response failed verification (serial, age or signature): its body is not trusted.

    `setting` names what to fix when the cause is recognisable (`platform_public_key_id`,
    `the clock`); `unverified` is what the service claimed, shown only marked as unverified.
    """

    def __init__(
        self,
        reason: str,
        request_id: str | None,
        *,
        status: int | None = None,
        unverified: Any = None,
        setting: str | None = None,
    ) -> None:
        super().__init__(f"{reason} (Request-ID {request_id})")
        self.reason = reason
        self.request_id = request_id
        self.status = status
        self.unverified = unverified
        self.setting = setting


class TransportFailure(Exception):
    """No answer after every retry (refused, dropped, timed out), or one that cannot succeed."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url
