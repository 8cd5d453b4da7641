"""The operator API of SPEC §8, under /admin/v1, behind a bearer token."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from userpkg.core.certificates import certificate_input
from userpkg.core.clock import rfc3339
from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode, serial_text
from userpkg.protocol.errors import param_error
from userpkg.protocol.operator import (
    AddCertificate,
    AppidBody,
    ClockAdvance,
    CreateBrand,
    CreatePackage,
    CreateUsers,
    MemberCheck,
    SetPermission,
    SetPlatformKey,
)
from userpkg.protocol.validation import parse_request
from userpkg.server.admin_models import (
    AppidBinding,
    AppidPage,
    AppidView,
    BrandPage,
    BrandView,
    CertificatePage,
    CertificateRemoved,
    CertificateView,
    ClockView,
    MemberAnswer,
    PackagePage,
    PackageView,
    PermissionView,
    PlatformKeyView,
    RequestPage,
    SigntestView,
    TaskPage,
    UserPage,
    UsersCreated,
    UsersImported,
    UserView,
)
from userpkg.server.bodies import read_limited
from userpkg.server.fault_api import fault_router
from userpkg.server.openapi import ADMIN_ERRORS, json_body

M = TypeVar("M", bound=BaseModel)
Offset = Annotated[int, Query(ge=0, le=2**31)]
Limit = Annotated[int, Query(ge=1, le=1000)]
LogFilter = Annotated[str | None, Query(max_length=64)]
Status = Annotated[int | None, Query(ge=100, le=599)]
MAX_BODY = 16 * 1024 * 1024
IMPORT_TYPES = ("text/csv", "text/plain", "application/octet-stream")
IMPORT_PIECE = 1 << 20
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {
                "schema": {"type": "string", "format": "binary"},
                "example": "13800138000\n13900139000\n",
            }
            for kind in IMPORT_TYPES
        },
        "description": "one 11-digit mobile number a line, no header",
    }
}


async def body_of(request: Request, model: type[M]) -> M:
    return parse_request(model, await read_limited(request, MAX_BODY))


def page(data: list[Any], total: int) -> dict[str, Any]:
    return {"data": data, "total_count": total}


def admin_router(service: Service) -> APIRouter:
    token = service.admin_token.encode()

    def require_token(request: Request) -> None:
        request.state.endpoint = "admin"
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip().encode(), token):
            raise ApiProblem(
                ErrorCode.NO_AUTH,
                "the operator API needs Authorization: Bearer <admin token>",
                status=401,
            )

    router = APIRouter(
        prefix="/admin/v1",
        tags=["operator API"],
        dependencies=[Depends(require_token)],
        responses=ADMIN_ERRORS,
    )
    brands = service.brands

    @router.post(
        "/brands",
        response_model=BrandView,
        response_model_exclude_unset=True,
        openapi_extra=json_body(CreateBrand, {"brand_id": "1000001", "name": "Example Coffee"}),
    )
    async def create_brand(request: Request) -> dict[str, Any]:
        """Create a brand; `brand_id` is generated when absent. It gets the default platform key."""
        body = await body_of(request, CreateBrand)
        return brands.create(body.brand_id, body.name).public()

    @router.get("/brands", response_model=BrandPage, response_model_exclude_unset=True)
    def list_brands(offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        """Brands, oldest first, a page at a time."""
        found, total = brands.page(offset, limit)
        return page([b.public() for b in found], total)

    @router.get("/brands/{brand_id}", response_model=BrandView)
    def get_brand(brand_id: str) -> dict[str, Any]:
        """One brand with its bound appids."""
        return brands.require(brand_id).public() | {"appids": brands.appids(brand_id)}

    @router.post(
        "/brands/{brand_id}/certificates",
        status_code=201,
        response_model=CertificateView,
        openapi_extra=json_body(
            AddCertificate,
            {"certificate_pem": "-----BEGIN CERTIFICATE-----\nMIID…\n-----END CERTIFICATE-----\n"},
        ),
    )
    async def add_certificate(brand_id: str, request: Request) -> JSONResponse:
        """Register a brand certificate: an X.509 certificate (its serial number is used; a
        `serial_no` given too must match it as a hex number) or a public key with `serial_no`.
        """
        body = await body_of(request, AddCertificate)
        pems = [p for p in (body.certificate_pem, body.public_key_pem) if p is not None]
        if len(pems) != 1:
            raise param_error("give exactly one of certificate_pem or public_key_pem")
        given = certificate_input(body.serial_no, pems[0])
        stored = brands.add_certificate(
            brand_id, given.serial_no, given.public_key_pem, given.certificate_pem
        )
        added = [c for c in brands.certificates(brand_id) if c["serial_no"] == stored]
        shown = added[0] if added else {"brand_id": brand_id, "serial_no": stored}
        return JSONResponse(shown, 201)

    @router.get("/brands/{brand_id}/certificates", response_model=CertificatePage)
    def list_certificates(brand_id: str) -> dict[str, Any]:
        """The brand's certificates: serial, when added, fingerprints (never the key itself)."""
        found = brands.certificates(brand_id)
        return page(found, len(found))

    @router.delete("/brands/{brand_id}/certificates/{serial_no}", response_model=CertificateRemoved)
    def remove_certificate(brand_id: str, serial_no: str) -> dict[str, Any]:
        """Stop accepting requests signed under this serial number."""
        brands.remove_certificate(brand_id, serial_no)
        return {"brand_id": brand_id, "serial_no": serial_text(serial_no), "removed": True}

    @router.post("/platform-keys", response_model=PlatformKeyView)
    def create_platform_key() -> dict[str, Any]:
        """Make a new platform key pair; the answer holds its id and public key."""
        key_id, pem = service.keys.create()
        return {"public_key_id": key_id, "public_key_pem": pem}

    @router.get("/platform-keys/{public_key_id}", response_model=PlatformKeyView)
    def get_platform_key(public_key_id: str) -> dict[str, Any]:
        """A platform public key, for brands to verify answers with."""
        return {
            "public_key_id": public_key_id,
            "public_key_pem": service.keys.public_pem(public_key_id),
        }

    @router.put(
        "/brands/{brand_id}/platform-key",
        response_model=BrandView,
        response_model_exclude_unset=True,
        openapi_extra=json_body(
            SetPlatformKey, {"public_key_id": "PUB_KEY_ID_0114232134912410000"}
        ),
    )
    async def set_platform_key(brand_id: str, request: Request) -> dict[str, Any]:
        """Sign the brand's answers with this platform key by default."""
        body = await body_of(request, SetPlatformKey)
        brands.set_platform_key(brand_id, body.public_key_id)
        return brands.require(brand_id).public()

    @router.post(
        "/appids",
        status_code=201,
        response_model=AppidView,
        openapi_extra=json_body(AppidBody, {"appid": "wx1234567890abcdef"}),
    )
    async def register_appid(request: Request) -> JSONResponse:
        """Make an appid known (users get openids under it) without binding it to a brand."""
        body = await body_of(request, AppidBody)
        brands.register_appid(body.appid)
        return JSONResponse({"appid": body.appid}, 201)

    @router.post(
        "/brands/{brand_id}/appids",
        status_code=201,
        response_model=AppidBinding,
        response_model_exclude_unset=True,
        openapi_extra=json_body(AppidBody, {"appid": "wx1234567890abcdef"}),
    )
    async def bind_appid(brand_id: str, request: Request) -> JSONResponse:
        """Bind an appid: the brand's openid uploads under it are matched."""
        body = await body_of(request, AppidBody)
        brands.bind_appid(brand_id, body.appid)
        return JSONResponse({"brand_id": brand_id, "appid": body.appid}, 201)

    @router.get("/brands/{brand_id}/appids", response_model=AppidPage)
    def list_appids(brand_id: str) -> dict[str, Any]:
        """The appids bound to the brand."""
        brands.require(brand_id)
        found = brands.appids(brand_id)
        return page(found, len(found))

    @router.delete("/brands/{brand_id}/appids/{appid}", response_model=AppidBinding)
    def unbind_appid(brand_id: str, appid: str) -> dict[str, Any]:
        """Unbind an appid: its openids no longer match for this brand."""
        brands.unbind_appid(brand_id, appid)
        return {"brand_id": brand_id, "appid": appid, "bound": False}

    @router.put(
        "/brands/{brand_id}/permission",
        response_model=PermissionView,
        openapi_extra=json_body(SetPermission, {"user_package": False}),
    )
    async def set_permission(brand_id: str, request: Request) -> dict[str, Any]:
        """Allow or refuse the brand's user-package calls (refused: 403 NO_AUTH)."""
        body = await body_of(request, SetPermission)
        brands.set_permission(brand_id, body.user_package)
        return {"brand_id": brand_id, "user_package": body.user_package}

    @router.post("/brands/{brand_id}/signtest", response_model=SigntestView)
    def signtest(brand_id: str) -> dict[str, Any]:
        """The brand's next brand API answer carries a WECHATPAY/SIGNTEST/ signature."""
        brands.request_signtest(brand_id)
        return {"brand_id": brand_id, "signtest": "the next brand API response is a probe"}

    @router.get("/brands/{brand_id}/requests", response_model=RequestPage)
    def recent_requests(
        brand_id: str,
        limit: Limit = 50,
        request_id: LogFilter = None,
        status: Status = None,
        code: LogFilter = None,
    ) -> dict[str, Any]:
        """The brand's recent brand API requests, newest first, with each signature check's
        outcome and, for a bad signature, the service's string to sign. Filters combine."""
        brands.require(brand_id)
        found = service.request_log.recent(
            brand_id, limit, request_id=request_id, status=status, code=code
        )
        return page(found, len(found))

    @router.get("/requests/unattributed", response_model=RequestPage)
    def unattributed_requests(
        limit: Limit = 50,
        request_id: LogFilter = None,
        status: Status = None,
        code: LogFilter = None,
    ) -> dict[str, Any]:
        """Brand API requests naming no known brand (unknown brand_id, unreadable
        Authorization), newest first; `claimed_brand_id` is what the request said."""
        found = service.request_log.recent(
            None, limit, request_id=request_id, status=status, code=code
        )
        return page(found, len(found))

    @router.post(
        "/brands/{brand_id}/user-packages",
        response_model=PackageView,
        openapi_extra=json_body(
            CreatePackage,
            {"name": "Spring campaign", "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"},
        ),
    )
    async def create_package(brand_id: str, request: Request) -> dict[str, Any]:
        """Create an empty user package for the brand (its id: 20 digits)."""
        body = await body_of(request, CreatePackage)
        return service.packages.create(brand_id, body.name, body.package_type.value).public()

    @router.get("/brands/{brand_id}/user-packages", response_model=PackagePage)
    def list_packages(brand_id: str, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        """The brand's packages with their member counts."""
        brands.require(brand_id)
        found, total = service.packages.list_for(brand_id, offset, limit)
        return page([p.public() for p in found], total)

    @router.get("/user-packages/{user_package_id}", response_model=PackageView)
    def get_package(user_package_id: str) -> dict[str, Any]:
        """One package and its member count."""
        return service.packages.require(user_package_id).public()

    @router.get("/user-packages/{user_package_id}/tasks", response_model=TaskPage)
    def list_tasks(user_package_id: str, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        """The package's expand tasks, oldest first, with their states and §7 stats."""
        found, total = service.packages.tasks(user_package_id, offset, limit)
        return page(found, total)

    @router.post(
        "/user-packages/{user_package_id}/members/check",
        response_model=MemberAnswer,
        openapi_extra=json_body(MemberCheck, {"md5_phone": "e10adc3949ba59abbe56e057f20f883e"}),
    )
    async def check_member(user_package_id: str, request: Request) -> dict[str, Any]:
        """Is this user a member? One of user_id, appid with openid, or md5_phone."""
        body = await body_of(request, MemberCheck)
        ways = [
            body.user_id is not None,
            body.appid is not None or body.openid is not None,
            body.md5_phone is not None,
        ]
        if sum(ways) != 1:
            raise param_error("give exactly one of user_id, appid with openid, or md5_phone")
        service.packages.require(user_package_id)
        if body.user_id is not None:
            user_id: int | None = body.user_id
        elif body.md5_phone is not None:
            user_id = service.phones.user_of(body.md5_phone)
        else:
            if body.appid is None or body.openid is None:
                raise param_error("appid and openid go together")
            user_id = service.directory.codec.decode(body.appid, body.openid)
        member = user_id is not None and service.is_member(user_package_id, user_id)
        return {"member": member}

    @router.post(
        "/users",
        response_model=UsersCreated,
        response_model_exclude_unset=True,
        openapi_extra=json_body(CreateUsers, {"users": [{"phone": "13800138000"}, {}]}),
    )
    async def create_users(request: Request) -> dict[str, Any]:
        """Add users to the directory: listed (with or without phone) or `generate` N."""
        body = await body_of(request, CreateUsers)
        if (body.users is None) == (body.generate is None):
            raise param_error("give exactly one of users or generate")
        if body.generate is not None:
            first, count = service.directory.generate(body.generate)
            return {"first_user_id": first, "count": count}
        assert body.users is not None
        created = service.directory.create([u.phone for u in body.users])
        return page([{"user_id": u.user_id, "phone": u.phone} for u in created], len(created))

    @router.post("/users/import", response_model=UsersImported, openapi_extra=IMPORT_BODY)
    async def import_users(request: Request) -> dict[str, Any]:
        """Streamed: checked and spooled as it arrives, imported once whole (core/user_import)."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in IMPORT_TYPES:
            raise param_error(
                f"send the numbers as {', '.join(IMPORT_TYPES)}, one a line", status=415
            )
        spool = service.user_import.spool()
        try:
            pending = bytearray()
            async for piece in request.stream():
                pending += piece
                if len(pending) >= IMPORT_PIECE:
                    spool.feed(bytes(pending))
                    pending.clear()
            spool.feed(bytes(pending))
            spool.finish()
        except BaseException:
            spool.close()
            raise
        report = await run_in_threadpool(service.user_import.run, spool)
        return report.public()

    @router.get("/users", response_model=UserPage)
    def list_users(offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        """Users with their phone and one openid per known appid."""
        found, total = service.directory.page(offset, limit)
        appids = service.directory.known_appids()
        return page([service.directory.describe(u, appids) for u in found], total)

    @router.get("/users/{user_id}", response_model=UserView)
    def get_user(user_id: str) -> dict[str, Any]:
        """One user with their phone and one openid per known appid."""
        numeric = user_id.isascii() and user_id.isdigit() and len(user_id) < 11
        user = service.directory.get(int(user_id)) if numeric else None
        if user is None:
            raise ApiProblem(ErrorCode.NOT_FOUND, f"user {user_id[:20]} not found")
        return service.directory.describe(user, service.directory.known_appids())

    @router.get("/clock", response_model=ClockView)
    def get_clock() -> dict[str, Any]:
        """Business time (effective times, upload expiry) and its offset from real time."""
        return {"now": rfc3339(service.clock.now()), "offset_seconds": service.clock.offset()}

    @router.post(
        "/clock/advance",
        response_model=ClockView,
        response_model_exclude_unset=True,
        openapi_extra=json_body(ClockAdvance, {"seconds": 86400}),
    )
    async def advance_clock(request: Request) -> dict[str, Any]:
        """Move business time forward (sandbox only; 404 otherwise): due tasks take effect."""
        if not service.settings.sandbox:
            raise ApiProblem(ErrorCode.NOT_FOUND, "the clock can be moved only in sandbox mode")
        body = await body_of(request, ClockAdvance)
        return {"now": rfc3339(service.clock.advance(body.seconds))}

    router.include_router(fault_router(service))
    return router
