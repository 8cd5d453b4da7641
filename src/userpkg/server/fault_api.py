"""Operator routes for fault rules and sandbox reset (SPEC §10), under /admin/v1.

Included by the operator router, so its bearer-token check applies. Outside a sandbox (and
without `serve --faults`) these answer 404, as if they did not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from userpkg.core.reset import reset_sandbox
from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.protocol.faults import FaultRuleBody
from userpkg.protocol.validation import parse_request
from userpkg.server.openapi import json_body

MAX_RULE_BODY = 16 * 1024
RULE_EXAMPLE = {"endpoint": "expand", "kind": "error", "status": 500, "times": 2}


class FaultRuleView(BaseModel):
    """A rule as stored: its kind's extra fields (status, code, message, …) ride along."""

    model_config = ConfigDict(extra="allow")
    fault_id: str
    brand_id: str
    endpoint: str
    kind: str
    times: int
    remaining: int
    create_time: str


class FaultPage(BaseModel):
    data: list[FaultRuleView]


class ResetView(BaseModel):
    reset: dict[str, int] = Field(
        description="how many packages were emptied, uploads and tasks removed"
    )


def fault_router(service: Service) -> APIRouter:
    router = APIRouter(tags=["fault injection"])

    def require_faults() -> None:
        if not service.settings.faults_enabled:
            raise ApiProblem(
                ErrorCode.NOT_FOUND,
                "fault injection is off; start the service with --sandbox or --faults",
            )

    @router.post(
        "/brands/{brand_id}/faults",
        status_code=201,
        response_model=FaultRuleView,
        openapi_extra=json_body(FaultRuleBody, RULE_EXAMPLE),
    )
    async def add_fault(brand_id: str, request: Request) -> JSONResponse:
        """Add a fault rule: the brand's next authenticated requests misbehave on purpose."""
        require_faults()
        raw = await request.body()
        if len(raw) > MAX_RULE_BODY:
            raise ApiProblem(
                ErrorCode.PARAM_ERROR, f"a fault rule is at most {MAX_RULE_BODY} bytes", status=413
            )
        rule = parse_request(FaultRuleBody, raw)
        added = await run_in_threadpool(service.faults.add, brand_id, rule)
        return JSONResponse(added, status_code=201)

    @router.get("/brands/{brand_id}/faults", response_model=FaultPage)
    def list_faults(brand_id: str) -> dict[str, Any]:
        """The brand's active fault rules, the one that applies next first."""
        require_faults()
        return {"data": service.faults.active(brand_id)}

    @router.delete("/brands/{brand_id}/faults/{fault_id}", status_code=204)
    def delete_fault(brand_id: str, fault_id: str) -> Response:
        """Delete a fault rule; an unknown fault_id is 404."""
        require_faults()
        service.faults.delete(brand_id, fault_id)
        return Response(status_code=204)

    @router.post("/reset", response_model=ResetView)
    def reset() -> dict[str, Any]:
        """Back to the freshly provisioned sandbox (sandbox only; 404 otherwise)."""
        if not service.settings.sandbox:
            raise ApiProblem(ErrorCode.NOT_FOUND, "reset exists only in sandbox mode")
        return {"reset": reset_sandbox(service).public()}

    return router
