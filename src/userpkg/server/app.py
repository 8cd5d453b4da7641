"""The ASGI application: brand API, operator API, health, metrics, OpenAPI, all behind Edge."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from userpkg import __version__
from userpkg.core.health import health_report
from userpkg.core.service import Service
from userpkg.protocol import ApiProblem, ErrorCode
from userpkg.server.admin_api import admin_router
from userpkg.server.brand_api import BrandApi
from userpkg.server.brand_routes import BrandRoutes
from userpkg.server.console import console_router
from userpkg.server.edge import BRAND_PREFIX, SYSTEM_ERROR, Edge
from userpkg.server.metrics import CONTENT_TYPE_LATEST, Metrics, StateCollector
from userpkg.server.openapi import HEALTH_RESPONSES, document
from userpkg.server.problems import closed_response, problem_response
from userpkg.server.response_signing import ResponseSigning


def build_api(brand: BrandApi, service: Service, metrics: Metrics) -> FastAPI:
    api: FastAPI = FastAPIOffline(
        title="userpkg",
        version=__version__,
        description="WeChat Pay Brand API user packages (人群包): the brand API and the "
        "operator API. Every brand response is signed (Wechatpay-* headers).",
        redirect_slashes=False,
    )
    api.include_router(brand.router())
    api.include_router(admin_router(service))
    api.include_router(console_router(service))

    @api.exception_handler(ApiProblem)
    async def on_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc)

    @api.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = str(request.scope["path"])
        brand_path = path.startswith(BRAND_PREFIX)
        if exc.status_code == 404 or (exc.status_code == 405 and brand_path):
            problem = ApiProblem(
                ErrorCode.NOT_FOUND, f"no endpoint for {request.method} {path[:200]}"
            )
        elif exc.status_code == 405:
            problem = ApiProblem(
                ErrorCode.INVALID_REQUEST,
                f"{request.method} is not allowed on this endpoint",
                status=405,
            )
        else:
            problem = ApiProblem(ErrorCode.INVALID_REQUEST, str(exc.detail), status=exc.status_code)
        return problem_response(problem)

    @api.exception_handler(ClientDisconnect)
    async def on_disconnect(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        return closed_response()

    @api.exception_handler(Exception)
    async def on_crash(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(SYSTEM_ERROR, status_code=500)

    @api.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        problem = ApiProblem(
            ErrorCode.PARAM_ERROR,
            f"{where}: {first.get('msg', 'invalid')}",
            detail={"location": str(first.get("loc", ("",))[0]), "field": where},
        )
        return problem_response(problem)

    def report() -> tuple[bool, dict[str, object]]:
        return health_report(
            service.db, service.clock.now, __version__, service.settings.processing
        )

    @api.get("/healthz", tags=["service"], responses=HEALTH_RESPONSES)
    def healthz() -> JSONResponse:
        """Liveness: 200 while the process answers, with version, database and worker state."""
        reachable, body = report()
        return JSONResponse({"status": "ok" if reachable else "degraded", **body})

    @api.get("/readyz", tags=["service"], responses=HEALTH_RESPONSES)
    def readyz() -> JSONResponse:
        """Readiness: 503 while the database does not answer, else 200; same report as /healthz."""
        reachable, body = report()
        if not reachable:
            return JSONResponse({"status": "database unavailable", **body}, status_code=503)
        return JSONResponse({"status": "ready", **body})

    @api.get("/metrics", tags=["service"])
    def prometheus() -> Response:
        """Prometheus text format: requests, latency, SIGN_ERRORs, bytes, tasks, package sizes."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    document(api)
    return api


def create_app(service: Service) -> ASGIApp:
    """The app to serve: brand routes before FastAPI's, all wrapped in Edge, which signs
    brand responses."""
    metrics = Metrics()
    metrics.registry.register(StateCollector(service.db, service.clock.now))
    signing = ResponseSigning(service.brands, service.keys, service.default_key_id)
    brand = BrandApi(service, signing)
    api = build_api(brand, service, metrics)
    return Edge(BrandRoutes(api, BRAND_PREFIX, brand.routes()), service, metrics, signing)
