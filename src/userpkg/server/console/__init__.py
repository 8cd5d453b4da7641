"""The web console of SPEC §11 at /console/: server-rendered pages over `core`, no CDN."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from userpkg.core.service import Service
from userpkg.server.console.faults import faults_router
from userpkg.server.console.forms import forms_router
from userpkg.server.console.pages import pages_router
from userpkg.server.console.parts import Console


def _measured_as_console(request: Request) -> None:
    """Metrics and logs name console requests as such, not as unmatched."""
    request.state.endpoint = "console"


def console_router(service: Service) -> APIRouter:
    console = Console(service)
    router = APIRouter(include_in_schema=False, dependencies=[Depends(_measured_as_console)])
    router.include_router(pages_router(console))
    router.include_router(forms_router(console))
    router.include_router(faults_router(console))
    return router
