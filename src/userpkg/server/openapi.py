"""The OpenAPI document: request bodies of routes that read their own bytes (signatures need
the raw body), the error body, the two security schemes, and no FastAPI 422 (the API answers
400 PARAM_ERROR)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
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


def json_body(model: type[BaseModel], example: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    content: dict[str, Any] = {"schema": inlined}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


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


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "Every error answer: a code from the contract, a sentence saying what to "
    "change, and for a bad field where it is.",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "example": "PARAM_ERROR"},
        "message": {"type": "string", "example": "name must be 1 to 128 characters"},
        "detail": {
            "type": "object",
            "description": "`location` and `field` of a bad parameter; for SIGN_ERROR on a bad "
            "signature, `sign_information` (the service's string to sign).",
            "additionalProperties": True,
        },
    },
}


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": PROBLEM_REF}}}


ERRORS = {
    status: _error(text)
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

ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    status: _error(text)
    for status, text in (
        (400, "PARAM_ERROR: a parameter or the body is not valid (detail.field says which)"),
        (401, "NO_AUTH: the Authorization: Bearer <admin token> header is missing or wrong"),
        (404, "NOT_FOUND: no such brand, package, certificate, user or appid binding"),
        (409, "INVALID_REQUEST: it exists already"),
        (413, "PARAM_ERROR: the body is larger than allowed"),
        (500, "SYSTEM_ERROR"),
    )
}

HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "version, database (kind, state) and worker (processing in this "
        "process, tasks queued, oldest queued task's age in seconds)",
        "content": {
            "application/json": {
                "example": {
                    "status": "ready",
                    "version": "0.1.0",
                    "database": {"kind": "sqlite", "state": "ok"},
                    "worker": {
                        "processing_in_process": True,
                        "tasks_queued": 0,
                        "oldest_queued_seconds": None,
                    },
                }
            }
        },
    },
    503: {"description": "/readyz only: the database does not answer (same report)"},
}

SECURITY_SCHEMES = {
    "BrandSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": '`WECHATPAY-BRAND-SHA256-RSA2048 brand_id="…",nonce_str="…",'
        'signature="…",timestamp="…",serial_no="…"`: SHA256withRSA (PKCS#1 v1.5, '
        "base64) with the brand's private key over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\n"
        "BODY\\n` (for a part upload the body signed is the file_meta JSON). `serial_no` names "
        "the brand certificate registered with the operator API; `Wechatpay-Serial` names the "
        "platform public key id the client verifies answers with. Every answer carries "
        "Wechatpay-Signature/-Timestamp/-Nonce/-Serial. This page cannot sign requests: use "
        "the SDK or `userpkg` CLI.",
    },
    "OperatorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator (admin) token: `USERPKG_ADMIN_TOKEN` when the service "
        "started, else the data directory's `admin-token` file; a sandbox's manifest has it as "
        "`admin_token`.",
    },
}

TAGS = [
    {
        "name": "brand API",
        "description": "WeChat Pay Brand API user-package endpoints: signed requests, signed "
        "answers.",
    },
    {
        "name": "operator API",
        "description": "Running the service: brands, certificates, keys, appids, packages, "
        "users, the clock, the request log. Bearer token; not part of WeChat Pay's API.",
    },
    {"name": "service", "description": "Health, readiness and Prometheus metrics."},
]


def document(api: FastAPI) -> None:
    """Build the document once, with the schemes, tags and error body FastAPI does not add."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        doc = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
            tags=TAGS,
        )
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", _error("PARAM_ERROR"))
                if path.startswith("/brand/"):
                    operation["security"] = [{"BrandSignature": []}]
                elif path.startswith("/admin/"):
                    operation["security"] = [{"OperatorToken": []}]
        api.openapi_schema = doc
        return doc

    api.openapi = openapi  # type: ignore[method-assign]
