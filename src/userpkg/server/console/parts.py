"""What every console route shares: the service, the templates, sessions and the gatekeeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from userpkg.core.membership import MemberLookup
from userpkg.core.overview import Overview
from userpkg.core.service import Service
from userpkg.server.console.playground import Playground
from userpkg.server.console.rendering import Pages
from userpkg.server.console.sessions import Session, Sessions, same_origin

SIGN_IN = "/console/sign-in"
MAX_FORM_FIELDS = 20


class Refused(Exception):
    """A form that must change nothing: no session, no CSRF token, or from another origin."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Console:
    service: Service
    pages: Pages = field(default_factory=Pages)
    sessions: Sessions = field(init=False)
    overview: Overview = field(init=False)
    lookup: MemberLookup = field(init=False)
    playground: Playground = field(init=False)

    def __post_init__(self) -> None:
        data_dir = self.service.settings.data_dir
        self.sessions = Sessions(data_dir, self.service.admin_token)
        self.overview = Overview(self.service.db)
        self.lookup = MemberLookup(self.service.directory, self.service.phones)
        self.playground = Playground(data_dir)

    @property
    def sandbox(self) -> bool:
        return self.service.settings.sandbox and self.playground.manifest() is not None

    def page(
        self,
        request: Request,
        session: Session,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """A signed-in page: the CSRF token for its forms and the navigation come along."""
        return self.pages.render(
            template,
            status=status,
            csrf=self.sessions.csrf_for(session),
            sandbox=self.sandbox,
            path=request.url.path,
            **context,
        )

    def refused(self, exc: Refused) -> Response:
        return self.pages.render(
            "refused.html", status=exc.status, message=exc.message, sandbox=False
        )

    async def form(self, request: Request) -> tuple[Session, FormData]:
        """The posted form of a signed-in operator, or Refused before anything changes."""
        if not same_origin(request):
            raise Refused(403, "this form came from another site or port; use the console itself")
        session = self.sessions.current(request)
        if session is None:
            raise Refused(403, "you are not signed in (or your session ended); sign in again")
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
        token = form.get("csrf")
        if not isinstance(token, str) or not self.sessions.csrf_ok(session, token):
            await form.close()
            raise Refused(403, "the form's CSRF token is missing or stale; reload the page")
        return session, form


def to_sign_in() -> Response:
    return RedirectResponse(SIGN_IN, status_code=303)


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
