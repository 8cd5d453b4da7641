"""Turning request bytes into models, with PARAM_ERROR answers that name the field.

The public API refuses `null` anywhere and strings with 4-byte UTF-8 characters; pydantic
has no switch for either, so the parsed JSON is walked once before the model sees it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from userpkg.protocol.errors import ApiProblem, param_error

M = TypeVar("M", bound=BaseModel)


def json_pointer(path: Sequence[str | int]) -> str:
    """RFC 6901 pointer of a location: `/user_package_file_info/digest`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _has_astral(text: str) -> bool:
    return not text.isascii() and any(ord(ch) > 0xFFFF for ch in text)


def _check_values(value: Any, path: list[str | int]) -> None:
    if value is None:
        raise param_error(
            f"{json_pointer(path) or 'the body'} must not be null", json_pointer(path)
        )
    if isinstance(value, str):
        if _has_astral(value):
            raise param_error(
                f"{json_pointer(path)} contains a 4-byte UTF-8 character (such as an emoji), "
                "which the API does not accept",
                json_pointer(path),
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            if _has_astral(key):
                raise param_error(
                    "a field name contains a 4-byte UTF-8 character", json_pointer(path)
                )
            _check_values(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, [*path, index])


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a body that must be one JSON object with no nulls and no 4-byte characters."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise param_error("the body is not valid UTF-8") from None
    if not text.strip():
        raise param_error("the body is empty; a JSON object is required")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise param_error(f"the body is not valid JSON: {reason}") from None
    _check_values(data, [])
    if not isinstance(data, dict):
        raise param_error("the body must be a JSON object")
    return data


def validate_model(model: type[M], data: dict[str, Any], prefix: Sequence[str | int] = ()) -> M:
    """Validate parsed data; the first pydantic error becomes a PARAM_ERROR with its pointer."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc, prefix) from None


def parse_request(model: type[M], raw: bytes) -> M:
    return validate_model(model, parse_json_object(raw))


def _problem(exc: ValidationError, prefix: Sequence[str | int]) -> ApiProblem:
    first = exc.errors(include_url=False, include_input=False)[0]
    pointer = json_pointer([*prefix, *first["loc"]])
    where = pointer or "the body"
    kind = first["type"]
    if kind == "missing":
        message = f"{where} is required"
    elif kind in ("string_pattern_mismatch", "enum", "literal_error"):
        message = f"{where} has an invalid value: {first['msg']}"
    else:
        message = f"{where}: {first['msg']}"
    return param_error(message, pointer or None)
