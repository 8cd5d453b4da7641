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

    # The calls `userpkg admin` wraps, one method each (SPEC §8, §10).

    def create_brand(self, name: str, brand_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if brand_id is not None:
            body["brand_id"] = brand_id
        return dict(self.request("POST", "brands", body))

    def brands(self, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        return dict(self.request("GET", "brands", params={"offset": offset, "limit": limit}))

    def brand(self, brand_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"brands/{brand_id}"))

    def add_certificate(
        self, brand_id: str, pem: str, serial_no: str | None = None
    ) -> dict[str, Any]:
        """`pem`: an X.509 certificate (serial taken from it) or a public key (give serial_no)."""
        field = "certificate_pem" if "BEGIN CERTIFICATE" in pem else "public_key_pem"
        body: dict[str, Any] = {field: pem}
        if serial_no is not None:
            body["serial_no"] = serial_no
        return dict(self.request("POST", f"brands/{brand_id}/certificates", body))

    def certificates(self, brand_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"brands/{brand_id}/certificates")["data"])

    def remove_certificate(self, brand_id: str, serial_no: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"brands/{brand_id}/certificates/{serial_no}"))

    def create_platform_key(self) -> dict[str, Any]:
        return dict(self.request("POST", "platform-keys", {}))

    def platform_key(self, public_key_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"platform-keys/{public_key_id}"))

    def set_platform_key(self, brand_id: str, public_key_id: str) -> dict[str, Any]:
        body = {"public_key_id": public_key_id}
        return dict(self.request("PUT", f"brands/{brand_id}/platform-key", body))

    def register_appid(self, appid: str) -> dict[str, Any]:
        return dict(self.request("POST", "appids", {"appid": appid}))

    def bind_appid(self, brand_id: str, appid: str) -> dict[str, Any]:
        return dict(self.request("POST", f"brands/{brand_id}/appids", {"appid": appid}))

    def unbind_appid(self, brand_id: str, appid: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"brands/{brand_id}/appids/{appid}"))

    def appids(self, brand_id: str) -> list[str]:
        return [str(a) for a in self.request("GET", f"brands/{brand_id}/appids")["data"]]

    def set_permission(self, brand_id: str, user_package: bool) -> dict[str, Any]:
        body = {"user_package": user_package}
        return dict(self.request("PUT", f"brands/{brand_id}/permission", body))

    def signtest(self, brand_id: str) -> dict[str, Any]:
        return dict(self.request("POST", f"brands/{brand_id}/signtest", {}))

    def requests(
        self,
        brand_id: str | None,
        limit: int = 50,
        *,
        request_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> list[dict[str, Any]]:
        """A brand's request log, newest first; `brand_id=None`: requests naming no known brand."""
        params: dict[str, Any] = {"limit": limit}
        for name, value in (("request_id", request_id), ("status", status), ("code", code)):
            if value is not None:
                params[name] = value
        path = "requests/unattributed" if brand_id is None else f"brands/{brand_id}/requests"
        return list(self.request("GET", path, params=params)["data"])

    def create_package(self, brand_id: str, name: str, package_type: str) -> dict[str, Any]:
        body = {"name": name, "package_type": package_type}
        return dict(self.request("POST", f"brands/{brand_id}/user-packages", body))

    def packages(self, brand_id: str, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        params = {"offset": offset, "limit": limit}
        return dict(self.request("GET", f"brands/{brand_id}/user-packages", params=params))

    def check_member(self, package_id: str, **way: Any) -> bool:
        """`way`: user_id=…, appid=… with openid=…, or md5_phone=…"""
        answer = self.request("POST", f"user-packages/{package_id}/members/check", way)
        return bool(answer["member"])

    def create_users(self, phones: list[str | None]) -> list[dict[str, Any]]:
        body = {"users": [{} if p is None else {"phone": p} for p in phones]}
        return list(self.request("POST", "users", body)["data"])

    def generate_users(self, count: int) -> dict[str, Any]:
        return dict(self.request("POST", "users", {"generate": count}))

    def user(self, user_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"users/{user_id}"))

    def users(self, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        return dict(self.request("GET", "users", params={"offset": offset, "limit": limit}))

    def clock(self) -> dict[str, Any]:
        return dict(self.request("GET", "clock"))

    def faults(self, brand_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"brands/{brand_id}/faults")["data"])

    def add_fault(self, brand_id: str, rule: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"brands/{brand_id}/faults", rule))

    def delete_fault(self, brand_id: str, fault_id: str) -> None:
        self.request("DELETE", f"brands/{brand_id}/faults/{fault_id}")

    def import_users(self, path: Path, *, timeout: float = 900.0) -> dict[str, Any]:
        """Streams a file of phone numbers (one a line) to `POST /users/import`; the counts.

        The body goes in 1 MiB pieces, so a file of any size costs no memory here.
        """

        def pieces() -> Any:
            with path.open("rb") as handle:
                while piece := handle.read(1 << 20):
                    yield piece

        url = f"{ADMIN_PREFIX}/users/import"
        try:
            response = self._http.post(
                url,
                content=pieces(),
                headers={"Content-Type": "text/csv"},
                timeout=httpx.Timeout(timeout, connect=10.0),
            )
        except httpx.HTTPError as exc:
            raise OperatorError(0, "UNREACHABLE", f"{self.base_url} did not answer: {exc}") from exc
        payload = response.json() if response.content else {}
        if not response.is_success:
            raise OperatorError(
                response.status_code,
                str(payload.get("code", "UNKNOWN")),
                str(payload.get("message", response.reason_phrase)),
            )
        return dict(payload)

    def reset(self) -> dict[str, Any]:
        """Back to the freshly provisioned sandbox (sandbox only): packages empty, uploads,
        tasks, fault rules and the request log gone; brand, keys and package ids kept."""
        return dict(self.request("POST", "reset"))
