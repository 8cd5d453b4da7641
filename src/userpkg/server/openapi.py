"""OpenAPI fragments for routes that read their own bytes (signatures need the raw body)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inlined}}}}


def part_body() -> dict[str, Any]:
    from userpkg.protocol.models import FileMeta

    meta = _inline(FileMeta.model_json_schema(), {})
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file_meta", "file"],
                        "properties": {
                            "file_meta": meta,
                            "file": {"type": "string", "format": "binary"},
                        },
                    },
                    "encoding": {"file_meta": {"contentType": "application/json"}},
                }
            },
        }
    }


ERRORS = {
    status: {"description": text, "content": {"application/json": {}}}
    for status, text in (
        (400, "PARAM_ERROR or INVALID_REQUEST"),
        (401, "SIGN_ERROR"),
        (403, "NO_AUTH"),
        (404, "NOT_FOUND"),
        (413, "PARAM_ERROR: body too large"),
        (429, "RATELIMIT_EXCEEDED"),
        (500, "SYSTEM_ERROR"),
    )
}
