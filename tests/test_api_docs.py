"""/docs and /redoc work offline (every asset from the service) and the OpenAPI document
describes the API as it answers: descriptions, examples, security schemes, no 422."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .support import LiveServer


@pytest.fixture(scope="module")
def spec(server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("get", "put", "post", "delete", "patch")
    ]


@pytest.mark.parametrize(("page", "asset_kinds"), [("/docs", 2), ("/redoc", 1)])
def test_docs_pages_load_every_asset_from_the_service(
    server: LiveServer, page: str, asset_kinds: int
) -> None:
    html = httpx.get(f"{server.base_url}{page}").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", html
    )
    assets = [u for u in urls if u.endswith((".js", ".css"))]
    assert len(assets) >= asset_kinds, html
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    assert "fonts.googleapis" not in html
    for asset in assets:
        response = httpx.get(f"{server.base_url}{asset}")
        assert response.status_code == 200, asset
        assert len(response.content) > 10_000, asset


def test_no_422_anywhere_and_errors_have_the_problem_body(spec: dict[str, Any]) -> None:
    assert not [(p, m) for p, m, op in operations(spec) if "422" in op["responses"]]
    assert "HTTPValidationError" not in str(spec)
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["code", "message"]
    for path, method, op in operations(spec):
        if path.startswith(("/admin/", "/brand/")):
            error = op["responses"]["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Problem"}, (path, method)


def test_every_operation_is_described_tagged_and_secured(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    brand = schemes["BrandSignature"]
    assert (brand["type"], brand["in"], brand["name"]) == ("apiKey", "header", "Authorization")
    assert "WECHATPAY-BRAND-SHA256-RSA2048" in brand["description"]
    assert (schemes["OperatorToken"]["type"], schemes["OperatorToken"]["scheme"]) == (
        "http",
        "bearer",
    )
    for path, method, op in operations(spec):
        assert op.get("description", "").strip(), (path, method)
        assert op.get("tags"), (path, method)
        if path.startswith("/brand/"):
            assert op["security"] == [{"BrandSignature": []}]
        if path.startswith("/admin/"):
            assert op["security"] == [{"OperatorToken": []}]


def test_operator_answers_have_schemas_and_bodies_have_examples(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if not path.startswith("/admin/"):
            continue
        success = next(v for k, v in op["responses"].items() if k.startswith("2"))
        if "content" not in success:
            continue  # 204: no body, so no schema
        schema = success["content"]["application/json"]["schema"]
        assert "$ref" in schema, (path, method, schema)
        body = op.get("requestBody")
        if body is not None:
            for kind in body["content"].values():
                assert "example" in kind, (path, method)
    tasks = spec["paths"]["/admin/v1/user-packages/{user_package_id}/tasks"]["get"]
    ref = tasks["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"data", "total_count"} <= set(page["properties"])
