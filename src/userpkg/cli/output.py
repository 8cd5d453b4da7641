"""How client commands speak: human lines on stderr, results on stdout, or one JSON document.

Exit status (SPEC §9): 0 success; 1 the API answered an error (or never answered, or a wait
timed out); 2 bad usage or local input; 3 a response failed signature verification.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")
]


def say(text: str) -> None:
    """A human line on stderr (never stdout: stdout is for results and --json)."""
    print(text, file=sys.stderr, flush=True)


def emit(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=1))


class Refused(Exception):
    """A local check refused the command (exit 2); `document` is its --json form."""

    def __init__(self, message: str, document: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.document = document or {}


@contextmanager
def exit_codes(as_json: bool = False) -> Iterator[None]:
    """Map failures to the documented exit statuses, each with what to change."""
    from userpkg.client.credentials import CredentialsError
    from userpkg.client.errors import ApiError, SignatureError, TransportFailure
    from userpkg.client.uploads import AlreadyPushed, ExpandRefused, WaitTimeout

    def fail(status: int, lines: list[str], document: dict[str, Any]) -> typer.Exit:
        for line in lines:
            say(line)
        if as_json:
            emit({"ok": False, "exit": status, "error": document})
        return typer.Exit(status)

    try:
        yield
    except ExpandRefused as exc:
        raise fail(1, [f"error: {exc}"], {**_api(exc.error), "hint": exc.hint}) from None
    except ApiError as exc:
        lines = [f"error: {exc.status} {exc.code}: {exc.message}", f"Request-ID: {exc.request_id}"]
        info = (exc.detail or {}).get("sign_information") if exc.code == "SIGN_ERROR" else None
        if isinstance(info, dict):
            lines.append("the service's string to sign (detail.sign_information):")
            lines.append(_indent(str(info.get("truncated_sign_message", ""))))
            lines.append("this client's string to sign:")
            lines.append(_indent(exc.string_to_sign or "(not known)"))
            lines.append(
                "if they are equal, private_key_path does not belong to cert_serial_no; "
                "otherwise the difference is what was changed on the way"
            )
        document = _api(exc)
        if isinstance(info, dict):
            document["client_string_to_sign"] = exc.string_to_sign
        raise fail(1, lines, document) from None
    except WaitTimeout as exc:
        raise fail(
            1,
            [f"timeout: {exc}"],
            {"code": "TIMEOUT", "message": str(exc), "state": exc.answer.state},
        ) from None
    except TransportFailure as exc:
        raise fail(1, [f"error: {exc}"], {"code": "NO_ANSWER", "message": str(exc)}) from None
    except SignatureError as exc:
        lines = [f"error: a response failed verification: {exc.reason}"]
        if exc.setting:
            lines.append(f"fix: check {exc.setting}" + _setting_hint(exc.setting))
        if exc.unverified is not None:
            shown = json.dumps(exc.unverified, ensure_ascii=False)
            lines.append(f"the service answered HTTP {exc.status} (UNVERIFIED): {shown[:800]}")
        lines.append(f"Request-ID: {exc.request_id}")
        raise fail(
            3,
            lines,
            {
                "code": "UNVERIFIED_RESPONSE",
                "message": exc.reason,
                "setting": exc.setting,
                "unverified_status": exc.status,
                "unverified_answer": exc.unverified,
                "request_id": exc.request_id,
            },
        ) from None
    except (AlreadyPushed, Refused) as exc:
        document = exc.document if isinstance(exc, Refused) else {}
        raise fail(
            2, [f"error: {exc}"], {"code": "REFUSED", "message": str(exc), **document}
        ) from None
    except (CredentialsError, OSError, ValueError) as exc:
        message = _readable(exc)
        raise fail(2, [f"error: {message}"], {"code": "LOCAL", "message": message}) from None


def _readable(exc: Exception) -> str:
    """A pydantic ValidationError as `field: what is wrong`, never its raw dump or links."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for error in errors(include_url=False):
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", "")))
    return "; ".join(parts) or str(exc)


def _api(exc: Any) -> dict[str, Any]:
    return {
        "status": exc.status,
        "code": exc.code,
        "message": exc.message,
        "detail": exc.detail,
        "request_id": exc.request_id,
    }


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


def _setting_hint(setting: str) -> str:
    if setting == "platform_public_key_id":
        return " (the answer is signed with another key id; `userpkg doctor` shows which)"
    return " (the local clock is off; set it right with NTP)"
