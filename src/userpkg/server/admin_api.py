"""The operator API of SPEC §8, under /admin/v1, behind a bearer token."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from userpkg.core.clock import rfc3339
from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode
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
from userpkg.server.bodies import read_limited
from userpkg.server.openapi import json_body

M = TypeVar("M", bound=BaseModel)
Offset = Annotated[int, Query(ge=0, le=2**31)]
Limit = Annotated[int, Query(ge=1, le=1000)]
MAX_BODY = 16 * 1024 * 1024


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
        prefix="/admin/v1", tags=["operator API"], dependencies=[Depends(require_token)]
    )
    brands = service.brands

    @router.post("/brands", openapi_extra=json_body(CreateBrand))
    async def create_brand(request: Request) -> dict[str, Any]:
        body = await body_of(request, CreateBrand)
        return brands.create(body.brand_id, body.name).public()

    @router.get("/brands")
    def list_brands(offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        found, total = brands.page(offset, limit)
        return page([b.public() for b in found], total)

    @router.get("/brands/{brand_id}")
    def get_brand(brand_id: str) -> dict[str, Any]:
        return brands.require(brand_id).public() | {"appids": brands.appids(brand_id)}

    @router.post(
        "/brands/{brand_id}/certificates", status_code=201, openapi_extra=json_body(AddCertificate)
    )
    async def add_certificate(brand_id: str, request: Request) -> JSONResponse:
        body = await body_of(request, AddCertificate)
        brands.add_certificate(brand_id, body.serial_no, body.public_key_pem)
        return JSONResponse({"brand_id": brand_id, "serial_no": body.serial_no.upper()}, 201)

    @router.delete("/brands/{brand_id}/certificates/{serial_no}")
    def remove_certificate(brand_id: str, serial_no: str) -> dict[str, Any]:
        brands.remove_certificate(brand_id, serial_no)
        return {"brand_id": brand_id, "serial_no": serial_no.upper(), "removed": True}

    @router.post("/platform-keys")
    def create_platform_key() -> dict[str, Any]:
        key_id, pem = service.keys.create()
        return {"public_key_id": key_id, "public_key_pem": pem}

    @router.get("/platform-keys/{public_key_id}")
    def get_platform_key(public_key_id: str) -> dict[str, Any]:
        return {
            "public_key_id": public_key_id,
            "public_key_pem": service.keys.public_pem(public_key_id),
        }

    @router.put("/brands/{brand_id}/platform-key", openapi_extra=json_body(SetPlatformKey))
    async def set_platform_key(brand_id: str, request: Request) -> dict[str, Any]:
        body = await body_of(request, SetPlatformKey)
        brands.set_platform_key(brand_id, body.public_key_id)
        return brands.require(brand_id).public()

    @router.post("/appids", status_code=201, openapi_extra=json_body(AppidBody))
    async def register_appid(request: Request) -> JSONResponse:
        body = await body_of(request, AppidBody)
        brands.register_appid(body.appid)
        return JSONResponse({"appid": body.appid}, 201)

    @router.post("/brands/{brand_id}/appids", status_code=201, openapi_extra=json_body(AppidBody))
    async def bind_appid(brand_id: str, request: Request) -> JSONResponse:
        body = await body_of(request, AppidBody)
        brands.bind_appid(brand_id, body.appid)
        return JSONResponse({"brand_id": brand_id, "appid": body.appid}, 201)

    @router.get("/brands/{brand_id}/appids")
    def list_appids(brand_id: str) -> dict[str, Any]:
        brands.require(brand_id)
        found = brands.appids(brand_id)
        return page(found, len(found))

    @router.delete("/brands/{brand_id}/appids/{appid}")
    def unbind_appid(brand_id: str, appid: str) -> dict[str, Any]:
        brands.unbind_appid(brand_id, appid)
        return {"brand_id": brand_id, "appid": appid, "bound": False}

    @router.put("/brands/{brand_id}/permission", openapi_extra=json_body(SetPermission))
    async def set_permission(brand_id: str, request: Request) -> dict[str, Any]:
        body = await body_of(request, SetPermission)
        brands.set_permission(brand_id, body.user_package)
        return {"brand_id": brand_id, "user_package": body.user_package}

    @router.post("/brands/{brand_id}/signtest")
    def signtest(brand_id: str) -> dict[str, Any]:
        brands.request_signtest(brand_id)
        return {"brand_id": brand_id, "signtest": "the next brand API response is a probe"}

    @router.get("/brands/{brand_id}/requests")
    def recent_requests(brand_id: str, limit: Limit = 50) -> dict[str, Any]:
        brands.require(brand_id)
        found = service.request_log.recent(brand_id, limit)
        return page(found, len(found))

    @router.post("/brands/{brand_id}/user-packages", openapi_extra=json_body(CreatePackage))
    async def create_package(brand_id: str, request: Request) -> dict[str, Any]:
        body = await body_of(request, CreatePackage)
        return service.packages.create(brand_id, body.name, body.package_type.value).public()

    @router.get("/brands/{brand_id}/user-packages")
    def list_packages(brand_id: str, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        brands.require(brand_id)
        found, total = service.packages.list_for(brand_id, offset, limit)
        return page([p.public() for p in found], total)

    @router.get("/user-packages/{user_package_id}")
    def get_package(user_package_id: str) -> dict[str, Any]:
        return service.packages.require(user_package_id).public()

    @router.get("/user-packages/{user_package_id}/tasks")
    def list_tasks(user_package_id: str, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        found, total = service.packages.tasks(user_package_id, offset, limit)
        return page(found, total)

    @router.post(
        "/user-packages/{user_package_id}/members/check", openapi_extra=json_body(MemberCheck)
    )
    async def check_member(user_package_id: str, request: Request) -> dict[str, Any]:
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

    @router.post("/users", openapi_extra=json_body(CreateUsers))
    async def create_users(request: Request) -> dict[str, Any]:
        body = await body_of(request, CreateUsers)
        if (body.users is None) == (body.generate is None):
            raise param_error("give exactly one of users or generate")
        if body.generate is not None:
            first, count = service.directory.generate(body.generate)
            return {"first_user_id": first, "count": count}
        assert body.users is not None
        created = service.directory.create([u.phone for u in body.users])
        return page([{"user_id": u.user_id, "phone": u.phone} for u in created], len(created))

    @router.get("/users")
    def list_users(offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
        found, total = service.directory.page(offset, limit)
        appids = service.directory.known_appids()
        return page([service.directory.describe(u, appids) for u in found], total)

    @router.get("/users/{user_id}")
    def get_user(user_id: str) -> dict[str, Any]:
        numeric = user_id.isascii() and user_id.isdigit() and len(user_id) < 11
        user = service.directory.get(int(user_id)) if numeric else None
        if user is None:
            raise ApiProblem(ErrorCode.NOT_FOUND, f"user {user_id[:20]} not found")
        return service.directory.describe(user, service.directory.known_appids())

    @router.get("/clock")
    def get_clock() -> dict[str, Any]:
        return {"now": rfc3339(service.clock.now()), "offset_seconds": service.clock.offset()}

    @router.post("/clock/advance", openapi_extra=json_body(ClockAdvance))
    async def advance_clock(request: Request) -> dict[str, Any]:
        if not service.settings.sandbox:
            raise ApiProblem(ErrorCode.NOT_FOUND, "the clock can be moved only in sandbox mode")
        body = await body_of(request, ClockAdvance)
        return {"now": rfc3339(service.clock.advance(body.seconds))}

    return router
