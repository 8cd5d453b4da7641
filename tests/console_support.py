"""A sandbox service process for the console tests, and an operator's view of it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .databases import database_url
from .processes import ServiceProcess


@dataclass
class Sandbox:
    process: ServiceProcess
    data: Path
    token: str
    manifest: dict[str, Any]

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.base_url}/admin/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code < 300, response.text
        return response.json()

    @property
    def package_id(self) -> str:
        return str(self.manifest["user_packages"][0]["user_package_id"])

    def users(self, count: int) -> list[dict[str, Any]]:
        return list(self.admin("GET", f"/users?limit={count}")["data"])

    def openid_csv(self, users: list[dict[str, Any]], extra: list[str]) -> bytes:
        appid = self.manifest["bound_appids"][0]
        return ("\n".join([u["openids"][appid] for u in users] + extra) + "\n").encode()

    def signed_in(self) -> httpx.Client:
        """An HTTP client holding a console session, as a browser would after sign-in."""
        client = httpx.Client(base_url=self.base_url, timeout=30)
        form = client.get("/console/sign-in")
        answer = client.post(
            "/console/sign-in", data={"csrf": csrf_of(form.text), "token": self.token}
        )
        assert answer.status_code == 303, answer.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Sandbox]:
    """`userpkg serve --sandbox` on SQLite, or on PostgreSQL when parametrized so."""
    base = tmp_path_factory.mktemp("console")
    data = base / "data"
    with database_url(getattr(request, "param", "sqlite")) as url:
        args = ["serve", "--sandbox", "--sandbox-users", "600", "--data", str(data)]
        process = ServiceProcess([*args, "--db", url] if url else args, base / "serve.log")
        try:
            process.wait_healthy()
            manifest = json.loads((data / "sandbox" / "sandbox.json").read_text())
            token = (data / "admin-token").read_text().strip()
            yield Sandbox(process, data, token, manifest)
        finally:
            process.stop()
