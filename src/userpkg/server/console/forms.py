"""The console's forms (POST): sign-in and -out, membership lookup, and the sandbox's actions.

Each one checks origin, session and CSRF token before it reads or changes anything else.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from userpkg.protocol import ApiProblem, DataType, PackageType
from userpkg.protocol.errors import param_error
from userpkg.server.console.pages import package_view, sandbox_form, sandbox_page
from userpkg.server.console.parts import Console, Refused, text
from userpkg.server.console.playground import MAX_UPLOAD_BYTES
from userpkg.server.console.sessions import same_origin

MAX_ADVANCE = 10 * 365 * 86400
COPY = 1 << 20


def forms_router(console: Console) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    service = console.service

    @router.post("/console/sign-in")
    async def sign_in(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        csrf = text(form, "csrf")
        if not same_origin(request) or not console.sessions.presession_csrf_ok(request, csrf):
            return console.refused(
                Refused(403, "the sign-in form's CSRF token is missing or stale; reload the page")
            )
        if not console.sessions.token_matches(text(form, "token")):
            return console.pages.render(
                "sign_in.html",
                status=401,
                csrf=csrf,
                sandbox=False,
                message="that is not the operator token; it is in the admin-token file "
                "of the data directory (or USERPKG_ADMIN_TOKEN)",
            )
        response = RedirectResponse("/console/", status_code=303)
        console.sessions.start(response, request)
        return response

    @router.post("/console/sign-out")
    async def sign_out(request: Request) -> Response:
        try:
            await console.form(request)
        except Refused as exc:
            return console.refused(exc)
        response = RedirectResponse("/console/sign-in", status_code=303)
        console.sessions.end(response)
        return response

    @router.post("/console/packages/{package_id}/lookup")
    async def lookup(request: Request, package_id: str) -> Response:
        try:
            session, form = await console.form(request)
        except Refused as exc:
            return console.refused(exc)
        how = text(form, "how")
        asked: dict[str, object] = {"how": how, "appid": text(form, "appid")}
        try:
            view = package_view(console, package_id)
        except ApiProblem as problem:
            return console.page(
                request, session, "missing.html", status=problem.status, message=problem.message
            )
        try:
            if how == "openid":
                user_id = console.lookup.by_openid(text(form, "appid"), text(form, "value"))
            elif how == "md5_phone":
                user_id = console.lookup.by_md5_phone(text(form, "value"))
            elif how == "phone":
                user_id = console.lookup.by_phone(text(form, "value"))
            else:
                raise param_error(
                    "choose what the value is: an openid, the MD5 of a phone, a phone"
                )
        except ApiProblem as problem:
            answer = {"error": problem.message, **asked}
            return console.page(request, session, "package.html", 400, lookup=answer, **view)
        member = user_id is not None and service.is_member(package_id, user_id)
        answer = {"member": member, "known": user_id is not None, **asked}
        return console.page(request, session, "package.html", lookup=answer, **view)

    @router.post("/console/sandbox/clock")
    async def advance_clock(request: Request) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        session, form, _brand_id = opened
        raw = text(form, "seconds").strip()
        if not raw.isdigit() or not 0 < int(raw) <= MAX_ADVANCE:
            return sandbox_page(
                console,
                request,
                session,
                400,
                error=f"advance by a whole number of seconds from 1 to {MAX_ADVANCE}",
            )
        service.clock.advance(int(raw))
        return RedirectResponse("/console/sandbox", status_code=303)

    @router.post("/console/sandbox/signtest")
    async def signtest(request: Request) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        _session, _form, brand_id = opened
        service.brands.request_signtest(brand_id)
        return RedirectResponse("/console/sandbox", status_code=303)

    @router.post("/console/sandbox/upload")
    async def upload(request: Request) -> Response:
        opened = await sandbox_form(console, request)
        if isinstance(opened, Response):
            return opened
        session, form, brand_id = opened
        try:
            file = form.get("file")
            package_id = text(form, "package_id")
            data_type = text(form, "data_type")
            package = service.packages.get(package_id)

            def bad(message: str) -> Response:
                return sandbox_page(console, request, session, 400, error=message)

            if package is None or package.brand_id != brand_id:
                return bad("choose one of the playground brand's packages")
            if data_type not in {d.value for d in DataType}:
                return bad("choose the data type: openids or MD5s of phones")
            if not isinstance(file, UploadFile) or not file.filename:
                return bad("choose a CSV file to upload")
            job_id, target = console.playground.incoming()
            size = 0
            with target.open("wb") as out:
                while chunk := await file.read(COPY):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        out.close()
                        target.unlink(missing_ok=True)
                        return bad(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
                    out.write(chunk)
            if size == 0:
                target.unlink(missing_ok=True)
                return bad("the file is empty; choose a CSV with one value per line")
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", file.filename)[-80:] or "upload.csv"
            console.playground.start(
                job_id,
                target,
                package.user_package_id,
                PackageType(package.package_type),
                DataType(data_type),
                name,
            )
            return RedirectResponse(f"/console/sandbox/jobs/{job_id}", status_code=303)
        finally:
            await form.close()

    return router
