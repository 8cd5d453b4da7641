"""The console's pages (GET): overview, brand, package, sandbox, and the sign-in form."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from userpkg.core.clock import rfc3339
from userpkg.protocol import ApiProblem, DataType
from userpkg.protocol.faults import FaultEndpoint, FaultKind
from userpkg.server.console.charts import funnel, members_over_time
from userpkg.server.console.parts import Console, Refused, to_sign_in
from userpkg.server.console.sessions import Session

PROCESSING = "USER_PACKAGE_PROCESS_STATE_PROCESSING"
FAILED = "USER_PACKAGE_PROCESS_STATE_FAILED"
PAGE = 1000
ERROR_WINDOW = 24 * 3600
LOG_ROWS = 100


def all_tasks(console: Console, package_id: str) -> list[dict[str, Any]]:
    """Every task of a package, a page at a time, as the operator API lists them."""
    found: list[dict[str, Any]] = []
    while True:
        batch, total = console.service.packages.tasks(package_id, len(found), PAGE)
        found += batch
        if not batch or len(found) >= total:
            return found


def package_view(console: Console, package_id: str) -> dict[str, Any]:
    package = console.service.packages.require(package_id).public()
    tasks = all_tasks(console, package_id)
    return {
        "package": package,
        "tasks": list(reversed(tasks)),
        "chart": members_over_time(package["create_time"], tasks),
        "funnels": {t["upload_id"]: funnel(t["stats"]) for t in tasks if t["stats"]},
        "data_types": list(DataType),
    }


def pages_router(console: Console) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    service = console.service

    def gate(request: Request) -> Session | None:
        return console.sessions.current(request)

    def missing(request: Request, session: Session, problem: ApiProblem) -> Response:
        return console.page(
            request, session, "missing.html", status=problem.status, message=problem.message
        )

    @router.get("/")
    def root() -> Response:
        return RedirectResponse("console/", status_code=307)

    @router.get("/console")
    def bare() -> Response:
        return RedirectResponse("console/", status_code=307)

    @router.get("/console/static/{name}")
    def static(name: str) -> Response:
        found = console.pages.static(name)
        return found if found is not None else Response("not found", status_code=404)

    @router.get("/console/sign-in")
    def sign_in_form(request: Request) -> Response:
        if gate(request) is not None:
            return RedirectResponse("/console/", status_code=303)
        nonce, csrf = console.sessions.presession(request)
        page = console.pages.render("sign_in.html", csrf=csrf, sandbox=False, message="")
        console.sessions.keep_presession(page, request, nonce)
        return page

    @router.get("/console/")
    def overview(request: Request) -> Response:
        session = gate(request)
        if session is None:
            return to_sign_in()
        states = console.overview.task_states()
        brands: list[dict[str, Any]] = []
        offset = 0
        while True:
            found, total = service.brands.page(offset, PAGE)
            for brand in found:
                packages, _ = service.packages.list_for(brand.brand_id, 0, PAGE)
                rows = [
                    p.public() | {"states": states.get(p.user_package_id, Counter())}
                    for p in packages
                ]
                brands.append({"brand": brand.public(), "packages": rows})
            offset += len(found)
            if not found or offset >= total:
                break
        every = [p for b in brands for p in b["packages"]]
        return console.page(
            request,
            session,
            "overview.html",
            brands=brands,
            sandbox_brand=console.playground.brand_id() if console.sandbox else None,
            package_count=len(every),
            total_members=sum(p["member_count"] for p in every),
            processing=sum(p["states"][PROCESSING] for p in every),
            failed=sum(p["states"][FAILED] for p in every),
            errors=console.overview.errors_by_code(time.time() - ERROR_WINDOW).most_common(),
        )

    @router.get("/console/brands/{brand_id}")
    def brand(request: Request, brand_id: str) -> Response:
        session = gate(request)
        if session is None:
            return to_sign_in()
        try:
            found = service.brands.require(brand_id)
        except ApiProblem as problem:
            return missing(request, session, problem)
        packages, _ = service.packages.list_for(brand_id, 0, PAGE)
        return console.page(
            request,
            session,
            "brand.html",
            brand=found.public(),
            serials=console.overview.certificate_serials(brand_id),
            appids=service.brands.appids(brand_id),
            packages=[p.public() for p in packages],
            requests=service.request_log.recent(brand_id, LOG_ROWS),
        )

    @router.get("/console/packages/{package_id}")
    def package(request: Request, package_id: str) -> Response:
        session = gate(request)
        if session is None:
            return to_sign_in()
        try:
            view = package_view(console, package_id)
        except ApiProblem as problem:
            return missing(request, session, problem)
        return console.page(request, session, "package.html", lookup=None, **view)

    @router.get("/console/sandbox")
    def sandbox(request: Request) -> Response:
        session = gate(request)
        if session is None:
            return to_sign_in()
        return sandbox_page(console, request, session)

    @router.get("/console/sandbox/jobs/{job_id}")
    def job(request: Request, job_id: str) -> Response:
        session = gate(request)
        if session is None:
            return to_sign_in()
        found = console.playground.job(job_id)
        if found is None:
            return console.page(
                request, session, "missing.html", status=404, message="no such upload job"
            )
        return console.page(request, session, "job.html", job=found)

    return router


def sandbox_page(
    console: Console, request: Request, session: Session, status: int = 200, **notice: Any
) -> Response:
    """The playground: upload, clock, SIGNTEST, fault rules and reset."""
    service = console.service
    if not console.sandbox:
        return console.page(
            request,
            session,
            "missing.html",
            status=404,
            message="the sandbox page exists when the service runs with --sandbox",
        )
    brand_id = console.playground.brand_id()
    assert brand_id is not None
    brand = service.brands.require(brand_id)
    packages, _ = service.packages.list_for(brand_id, 0, PAGE)
    return console.page(
        request,
        session,
        "sandbox.html",
        status=status,
        brand=brand.public(),
        signtest_pending=brand.signtest_pending,
        packages=[p.public() for p in packages],
        data_types=list(DataType),
        clock_now=rfc3339(service.clock.now()),
        clock_offset=service.clock.offset(),
        faults=service.faults.active(brand_id),
        fault_endpoints=list(FaultEndpoint),
        fault_kinds=list(FaultKind),
        notice=notice.get("notice", ""),
        error=notice.get("error", ""),
    )


async def sandbox_form(
    console: Console, request: Request
) -> Response | tuple[Session, FormData, str]:
    """A sandbox form checked (origin, session, CSRF) with the playground brand's id, or the
    answer that ends it: refused, or the sandbox page where there is no sandbox."""
    try:
        session, form = await console.form(request)
    except Refused as exc:
        return console.refused(exc)
    brand_id = console.playground.brand_id()
    if not console.sandbox or brand_id is None:
        await form.close()
        return sandbox_page(console, request, session)
    return session, form, brand_id
