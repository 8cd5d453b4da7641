"""Pages from Jinja2 templates shipped in this package, with the console's security headers.

Autoescaping is on for every template, so names, appids and paths a brand supplied are text.
The CSP allows only our own scripts, styles and images: no inline script, no CDN.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from userpkg.core.clock import rfc3339

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
STATE_LABELS = {
    "USER_PACKAGE_PROCESS_STATE_PROCESSING": "processing",
    "USER_PACKAGE_PROCESS_STATE_FINISHED": "finished",
    "USER_PACKAGE_PROCESS_STATE_FAILED": "failed",
}


def when(value: Any) -> str:
    """Times as RFC 3339 in +08:00 whether the source gave Unix seconds or text already."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int | float):
        return rfc3339(value)
    return str(value)


def kind(value: Any) -> str:
    """`USER_PACKAGE_TYPE_RISK_USER` → `risk user`; the enum names are long for a table."""
    text = str(value)
    for prefix in ("USER_PACKAGE_DATA_TYPE_", "USER_PACKAGE_TYPE_", "USER_PACKAGE_PROCESS_STATE_"):
        text = text.removeprefix(prefix)
    return text.replace("_", " ").lower()


def short_time(value: Any) -> str:
    text = when(value)
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("userpkg.server.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["short_time"] = short_time
    env.filters["state"] = lambda s: STATE_LABELS.get(str(s), str(s))
    env.filters["kind"] = kind
    env.filters["num"] = lambda n: "—" if n is None else f"{int(n):,}"
    return env


class Pages:
    def __init__(self) -> None:
        self._env = _environment()
        folder = resources.files("userpkg.server.console") / "static"
        self._static = {
            item.name: item.read_bytes()
            for item in folder.iterdir()
            if item.is_file() and any(item.name.endswith(s) for s in STATIC_TYPES)
        }

    def render(
        self, name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        html = self._env.get_template(name).render(**context)
        return HTMLResponse(
            html,
            status_code=status,
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store", **(headers or {})},
        )

    def static(self, name: str) -> Response | None:
        body = self._static.get(name)
        if body is None:
            return None
        kind = STATIC_TYPES["." + name.rsplit(".", 1)[-1]]
        return Response(
            body,
            media_type=kind,
            headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"},
        )
