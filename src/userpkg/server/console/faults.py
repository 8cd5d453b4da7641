"""The sandbox page's fault rules (SPEC §10) and reset: the same core calls the operator API
makes, behind the console's session and CSRF checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from userpkg.core.reset import reset_sandbox
from userpkg.protocol import ApiProblem
from userpkg.protocol.faults import FaultRuleBody
from userpkg.server.console.pages import sandbox_form, sandbox_page
from userpkg.server.console.parts import Console, text

NUMBERS = ("times", "status", "retry_after", "delay_ms")
WORDS = ("code", "message")


def rule_from(form: FormData) -> FaultRuleBody:
    """A rule from the form's filled-in fields; blank fields are left out, so defaults apply."""
    body: dict[str, Any] = {"endpoint": text(form, "endpoint"), "kind": text(form, "kind")}
    for name in NUMBERS:
        raw = text(form, name).strip()
        if raw:
            if not raw.isascii() or not raw.isdigit():
                raise ValueError(f"{name} must be a whole number, not {raw[:20]!r}")
            body[name] = int(raw)
    for name in WORDS:
        raw = text(form, name).strip()
        if raw:
            body[name] = raw
    return FaultRuleBody.model_validate(body)


def explain(error: ValidationError) -> str:
    """The first problem in words an operator can act on, naming the field."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def faults_router(console: Console) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    service = console.service

    @router.post("/console/sandbox/faults")
    async def add_fault(request: Request) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        session, form, brand_id = opened
        try:
            rule = rule_from(form)
        except ValidationError as error:
            return sandbox_page(console, request, session, 400, error=explain(error))
        except ValueError as error:
            return sandbox_page(console, request, session, 400, error=str(error))
        await run_in_threadpool(service.faults.add, brand_id, rule)
        return RedirectResponse("/console/sandbox#faults", status_code=303)

    @router.post("/console/sandbox/faults/{fault_id}/delete")
    async def delete_fault(request: Request, fault_id: str) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        session, _form, brand_id = opened
        try:
            service.faults.delete(brand_id, fault_id)
        except ApiProblem as problem:
            return sandbox_page(console, request, session, problem.status, error=problem.message)
        return RedirectResponse("/console/sandbox#faults", status_code=303)

    @router.post("/console/sandbox/reset")
    async def reset(request: Request) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        session, form, _brand_id = opened
        if text(form, "confirm") != "yes":
            return sandbox_page(
                console,
                request,
                session,
                400,
                error="tick “empty every package” to confirm the reset; nothing was changed",
            )
        report = await run_in_threadpool(reset_sandbox, service)
        return sandbox_page(
            console,
            request,
            session,
            notice=f"Reset: {report.packages} packages emptied, {report.uploads} uploads and "
            f"{report.tasks} tasks removed; rules, request log and clock cleared.",
        )

    return router
