"""OperatorClient: the operator API (`/admin/v1/`) over httpx, for `userpkg admin` and tests.

The operator API is ours, not WeChat Pay's: bearer token, no signatures. Each method is one
call and returns the decoded JSON answer; an error answer raises `OperatorError` with the
service's `code` and `message`, so a caller never parses an error body itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

ADMIN_PREFIX = "/admin/v1"


class OperatorError(Exception):
    """The operator API answered with an error body, or not at all."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}" if status else message)
        self.status = status
        self.code = code
        self.message = message


class OperatorClient:
    """One method per operator call; `request` reaches any call not wrapped yet."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    @classmethod
    def from_manifest(cls, path: Path) -> OperatorClient:
        """A sandbox's `sandbox.json` names both the URL and the token."""
        manifest = json.loads(path.read_text(encoding="utf-8"))
        return cls(manifest["base_url"], manifest["admin_token"])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """`path` is relative to `/admin/v1`; 204 answers None."""
        url = path if path.startswith(ADMIN_PREFIX) else f"{ADMIN_PREFIX}/{path.lstrip('/')}"
        try:
            response = self._http.request(method, url, json=body, params=params)
        except httpx.HTTPError as exc:
            raise OperatorError(0, "UNREACHABLE", f"{self.base_url} did not answer: {exc}") from exc
        if (response.status_code == 204 or not response.content) and response.is_success:
            return None
        try:
            payload = response.json()
        except ValueError as exc:
            raise OperatorError(
                response.status_code, "NOT_JSON", f"{url} answered {response.text[:200]!r}"
            ) from exc
        if not response.is_success:
            raise OperatorError(
                response.status_code,
                str(payload.get("code", "UNKNOWN")),
                str(payload.get("message", response.reason_phrase)),
            )
        return payload

    def user_package(self, package_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"user-packages/{package_id}")
        return result

    def member_count(self, package_id: str) -> int:
        return int(self.user_package(package_id)["member_count"])

    def tasks(self, package_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"user-packages/{package_id}/tasks")[
            "data"
        ]
        return result

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "clock/advance", {"seconds": seconds})
        return result
