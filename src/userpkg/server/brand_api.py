"""The four brand endpoints of SPEC §5, each authenticated as §3 orders."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from userpkg.core.brands import Brand
from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.protocol.errors import param_error
from userpkg.protocol.models import (
    ExpandRequest,
    ExpandResponse,
    FileMeta,
    InitUploadRequest,
    InitUploadResponse,
    MergeResponse,
    UploadPartResponse,
)
from userpkg.protocol.validation import parse_json_object, parse_request, validate_model
from userpkg.server.authentication import Authenticator, Claim, SignProblem, check_headers
from userpkg.server.bodies import read_limited
from userpkg.server.brand_routes import BrandRoute
from userpkg.server.fault_edge import FaultHook, injected_failure
from userpkg.server.multipart import PartUpload, boundary_of, receive_part_upload
from userpkg.server.openapi import ERRORS, json_body, part_body
from userpkg.server.response_signing import ResponseSigning

PREFIX = "/brand/marketing/user-package"
PACKAGE_ID = re.compile(r"^[0-9]{20}$")
Action = Callable[[Brand], dict[str, Any]]
FastPath = Callable[[Brand], dict[str, Any] | None]
BodyAction = Callable[[Brand, bytes], dict[str, Any]]


def _json_bytes(value: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the form the public host answers in."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def signed_url(request: Request) -> str:
    """Path and query exactly as sent: what the client signed."""
    scope = request.scope
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("latin-1")


class BrandApi:
    def __init__(self, service: Service, signing: ResponseSigning) -> None:
        self.service = service
        self.signing = signing
        self.fault_hook = FaultHook(service)
        self.auth = Authenticator(
            service.brands, service.replay, service.settings.timestamp_window_seconds
        )

    def _claim(self, request: Request, endpoint: str) -> Claim:
        request.state.endpoint = endpoint
        try:
            return self.auth.claim(request.headers.get("authorization"))
        except SignProblem as problem:
            request.state.auth = problem.outcome
            request.state.claimed_brand_id = problem.brand_id
            if problem.unknown_brand_id is not None:
                request.state.unknown_brand_id = problem.unknown_brand_id
            raise

    def _authorize(self, request: Request, claim: Claim, signed: bytes, body_kind: str) -> Brand:
        """Nonce, signature, header rules, permission, rate limit: all in memory or cheap."""
        brand_id = claim.brand.brand_id
        request.state.claimed_brand_id = brand_id
        try:
            self.auth.verify(claim, request.method, signed_url(request), signed)
        except SignProblem as problem:
            request.state.auth = problem.outcome
            if problem.detail and "sign_information" in problem.detail:
                request.state.sign_information = problem.detail["sign_information"]
            raise
        request.state.auth = "ok"
        request.state.brand_id = brand_id
        check_headers(claim.brand, request.headers, body_kind)
        if not claim.brand.user_package_enabled:
            raise ApiProblem(ErrorCode.NO_AUTH, "this brand may not use user packages")
        wait = self.service.rate_limiter.take(brand_id, request.state.endpoint)
        if wait:
            raise ApiProblem(
                ErrorCode.RATELIMIT_EXCEEDED,
                f"more than {self.service.settings.rate_per_second:g} requests a second to this "
                "endpoint; slow down and retry",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return claim.brand

    async def _call(
        self,
        request: Request,
        claim: Claim,
        signed: bytes,
        body_kind: str,
        blocking: Action,
        fast: FastPath | None = None,
    ) -> Response:
        """Authorize and answer. CPU-only steps run on the event loop, where a thread handoff
        would cost more than the work; steps that wait on the disk (durable commits, file
        writes) run in the thread pool."""
        brand = self._authorize(request, claim, signed, body_kind)
        result = fast(brand) if fast is not None else None
        injected = await self.fault_hook.before(request, brand.brand_id, new_task=result is None)
        if injected is not None:
            return injected
        if result is None:
            result = await run_in_threadpool(blocking, brand)
        body = _json_bytes(result)
        signature = await self.signing.headers_beside(
            body,
            authenticated_brand=brand.brand_id,
            requested_key=request.headers.get("wechatpay-serial"),
        )
        return Response(body, media_type="application/json", headers=signature)

    async def _json_call(
        self,
        request: Request,
        endpoint: str,
        body_kind: str,
        blocking: BodyAction,
        fast: Callable[[Brand, bytes], dict[str, Any] | None] | None = None,
    ) -> Response:
        claim = self._claim(request, endpoint)
        body = await read_limited(request, self.service.settings.max_json_body)
        return await self._call(
            request,
            claim,
            body,
            body_kind,
            lambda brand: blocking(brand, body),
            None if fast is None else lambda brand: fast(brand, body),
        )

    async def init_upload(self, request: Request) -> Response:
        service = self.service

        def action(brand: Brand, body: bytes) -> dict[str, Any]:
            info = parse_request(InitUploadRequest, body).user_package_file_info
            return service.uploads.open(brand.brand_id, info)

        return await self._json_call(request, "init_upload", "json", action)

    async def upload_part(self, request: Request, upload_id: str, part_number: str) -> Response:
        service = self.service
        claim = self._claim(request, "upload_part")
        limit = service.settings.max_part_body
        boundary = boundary_of(request.headers.get("content-type", ""))
        received = PartUpload()
        try:
            if boundary is not None:
                received = await receive_part_upload(
                    request.stream(), boundary, limit, service.uploads.stage
                )
                signed = received.meta or b""
            else:
                signed = await read_limited(request, limit)
                received.problem = "the body is not multipart/form-data with a boundary"

            def action(brand: Brand) -> dict[str, Any]:
                return self._keep_part(brand, upload_id, part_number, received)

            return await self._call(request, claim, signed, "multipart", action)
        finally:
            received.discard()

    async def merge_upload(self, request: Request, upload_id: str) -> Response:
        service = self.service

        def action(brand: Brand, _body: bytes) -> dict[str, Any]:
            return service.uploads.merge(brand.brand_id, upload_id)

        return await self._json_call(request, "merge_upload", "none", action)

    async def expand(self, request: Request, user_package_id: str) -> Response:
        service = self.service

        def upload_id_of(body: bytes) -> str:
            if not PACKAGE_ID.match(user_package_id):
                raise ApiProblem(
                    ErrorCode.PARAM_ERROR,
                    "user_package_id must be 20 digits",
                    detail={"location": "path", "field": "user_package_id"},
                )
            return parse_request(ExpandRequest, body).upload_id

        def poll(brand: Brand, body: bytes) -> dict[str, Any] | None:
            known = service.packages.poll(brand.brand_id, user_package_id, upload_id_of(body))
            return None if known is None else {"return_message": known[0], "state": known[1]}

        def create(brand: Brand, body: bytes) -> dict[str, Any]:
            upload_id = upload_id_of(body)
            message, state = service.packages.expand(
                brand.brand_id, user_package_id, upload_id, fail_with=injected_failure(request)
            )
            return {"return_message": message, "state": state}

        return await self._json_call(request, "expand", "json", create, fast=poll)

    def routes(self) -> list[BrandRoute]:
        """The endpoints as `BrandRoutes` serves them, straight from ASGI."""
        return [
            BrandRoute("POST", f"{PREFIX}/uploads", self.init_upload),
            BrandRoute("PUT", f"{PREFIX}/uploads/{{upload_id}}/{{part_number}}", self.upload_part),
            BrandRoute("POST", f"{PREFIX}/uploads/{{upload_id}}", self.merge_upload),
            BrandRoute("POST", f"{PREFIX}/user-packages/{{user_package_id}}/expand", self.expand),
        ]

    def router(self) -> APIRouter:
        """The same endpoints for FastAPI: they give the OpenAPI document its brand paths."""
        router = APIRouter(prefix=PREFIX, tags=["brand API"], responses=ERRORS)  # type: ignore[arg-type]

        @router.post(
            "/uploads",
            response_model=InitUploadResponse,
            openapi_extra=json_body(InitUploadRequest),
            summary="Open an upload session for one CSV file",
        )
        async def init_upload(request: Request) -> Response:
            """Declare a file (name, SHA-256, size, package and data type, description); the
            answer gives the upload_id, part size and part count. Same file again: same answer."""
            return await self.init_upload(request)

        @router.put(
            "/uploads/{upload_id}/{part_number}",
            response_model=UploadPartResponse,
            openapi_extra=part_body(),
            summary="Send one part (multipart: file_meta JSON + file bytes)",
        )
        async def upload_part(upload_id: str, part_number: str, request: Request) -> Response:
            """One part as multipart/form-data: `file_meta` (JSON with filename and the part's
            SHA-256; it is what the signature covers) and `file` (the bytes). Re-sending is safe."""
            return await self.upload_part(request, upload_id, part_number)

        @router.post(
            "/uploads/{upload_id}",
            response_model=MergeResponse,
            summary="Merge the parts into the declared file (no body)",
        )
        async def merge_upload(upload_id: str, request: Request) -> Response:
            """Join the parts and check the whole file's SHA-256 and size against init."""
            return await self.merge_upload(request, upload_id)

        @router.post(
            "/user-packages/{user_package_id}/expand",
            response_model=ExpandResponse,
            openapi_extra=json_body(ExpandRequest),
            summary="Add a merged file's users to a package (asynchronous; call again to poll)",
        )
        async def expand(user_package_id: str, request: Request) -> Response:
            """Add a merged upload's users to the package; the first call starts a task and
            later calls with the same upload_id answer its state (PROCESSING, FINISHED, FAILED)."""
            return await self.expand(request, user_package_id)

        return router

    def _keep_part(
        self, brand: Brand, upload_id: str, part_number: str, received: PartUpload
    ) -> dict[str, Any]:
        if received.problem is not None:
            raise param_error(received.problem)
        if received.meta is None:
            raise param_error("the multipart body has no file_meta part", "/file_meta")
        meta = validate_model(FileMeta, parse_json_object(received.meta), ("file_meta",))
        if received.staged is None:
            raise param_error("the multipart body has no file part", "/file")
        staged, received.staged = received.staged, None
        return self.service.uploads.put_part(brand.brand_id, upload_id, part_number, meta, staged)
