"""`userpkg serve --sandbox` as a user runs it: a fresh data directory, then a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from userpkg.protocol import (
    BrandCredential,
    ResponseValidator,
    RsaSigner,
    load_certificate,
    load_private_key,
    load_public_key,
)

from .databases import PG_URL, SKIP_PG, database_url
from .processes import ServiceProcess

PREFIX = "/brand/marketing/user-package"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _signed_init(manifest: dict[str, object], credentials: dict[str, str]) -> httpx.Response:
    key = load_private_key(Path(credentials["private_key_path"]).read_text())
    credential = BrandCredential(
        credentials["brand_id"], credentials["cert_serial_no"], RsaSigner(key)
    )
    body = json.dumps(
        {
            "user_package_file_info": {
                "filename": "hello.csv",
                "digest": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "file_size": 4,
                "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
                "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
                "description": "trying the sandbox for the first time",
            }
        }
    ).encode()
    auth = credential.authorize("POST", f"{PREFIX}/uploads", body)
    return httpx.post(
        f"{credentials['base_url']}{PREFIX}/uploads",
        content=body,
        headers={
            "Authorization": auth.header(),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Wechatpay-Serial": credentials["platform_public_key_id"],
        },
    )


def run_the_examples(manifest: dict[str, object], tmp_path: Path) -> None:
    """The banner's two commands, and the SDK example, as a new user runs them."""
    members = tmp_path / "members.csv"
    manifest_path = Path(str(manifest["credentials_path"])).with_name("sandbox.json")
    made = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "sandbox_file.py"),
            str(members),
            "--lines",
            "3000",
            "--manifest",
            str(manifest_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert len(members.read_text().split()) == 3000
    packages = manifest["user_packages"]
    assert isinstance(packages, list)

    def push_example(package_id: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "push_with_sdk.py"),
                package_id,
                str(members),
                "--config",
                str(manifest["credentials_path"]),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    pushed = push_example(packages[0]["user_package_id"])
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "USER_PACKAGE_PROCESS_STATE_FINISHED" in pushed.stdout

    elsewhere = push_example("9" * 20)
    assert elsewhere.returncode == 2, elsewhere.stdout + elsewhere.stderr
    assert "is not one of this brand's packages: check USER_PACKAGE_ID" in elsewhere.stderr
    assert "Traceback" not in elsewhere.stderr


@pytest.fixture(params=["sqlite", "postgres"])
def db_args(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    with database_url(request.param) as url:
        yield ["--db", url] if url else []


def test_sandbox_provisions_once_and_restarts_with_the_same_playground(
    tmp_path: Path, db_args: list[str]
) -> None:
    data = tmp_path / "data"
    args = ["serve", "--sandbox", "--data", str(data), "--sandbox-users", "500", *db_args]
    first = ServiceProcess(args, tmp_path / "first.log")
    try:
        first.wait_healthy()
        manifest = json.loads((data / "sandbox" / "sandbox.json").read_text())
        for key in (
            "base_url",
            "admin_token",
            "brand_id",
            "cert_serial_no",
            "brand_private_key_path",
            "platform_public_key_id",
            "platform_public_key_path",
            "bound_appids",
            "unbound_appids",
            "user_packages",
            "users",
            "credentials_path",
        ):
            assert key in manifest, key
        assert manifest["base_url"] == first.base_url
        assert len(manifest["bound_appids"]) == 2
        assert len(manifest["unbound_appids"]) == 1
        assert sorted(p["package_type"] for p in manifest["user_packages"]) == [
            "USER_PACKAGE_TYPE_RISK_USER",
            "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
        ]
        assert manifest["users"] == 500
        credentials = tomllib.loads(Path(manifest["credentials_path"]).read_text())
        assert credentials["brand_id"] == manifest["brand_id"]
        serial, _ = load_certificate((data / "sandbox" / "brand_certificate.pem").read_text())
        assert serial == manifest["cert_serial_no"]
        assert (Path(manifest["brand_private_key_path"]).stat().st_mode & 0o077) == 0

        response = _signed_init(manifest, credentials)
        assert response.status_code == 200, response.text
        ResponseValidator(
            credentials["platform_public_key_id"],
            load_public_key(Path(credentials["platform_public_key_path"]).read_text()),
        ).validate(dict(response.headers), response.content)

        admin = {"Authorization": f"Bearer {manifest['admin_token']}"}
        users = httpx.get(f"{first.base_url}/admin/v1/users?limit=2", headers=admin).json()
        assert users["total_count"] == 500
        openids = users["data"][0]["openids"]
        assert set(openids) == {*manifest["bound_appids"], *manifest["unbound_appids"]}
        banner = (tmp_path / "first.log").read_text()
        assert "userpkg sandbox is running" in banner
        assert manifest["admin_token"] not in banner
        run_the_examples(manifest, tmp_path)
    finally:
        assert first.stop()

    second = ServiceProcess(args, tmp_path / "second.log")
    try:
        second.wait_healthy()
        again = json.loads((data / "sandbox" / "sandbox.json").read_text())
        assert again["brand_id"] == manifest["brand_id"]
        assert again["user_packages"] == manifest["user_packages"]
        assert again["base_url"] == second.base_url
        admin = {"Authorization": f"Bearer {again['admin_token']}"}
        users = httpx.get(f"{second.base_url}/admin/v1/users?limit=1", headers=admin).json()
        assert users["total_count"] == 500, "a restart must not provision again"
        credentials = tomllib.loads(Path(again["credentials_path"]).read_text())
        assert _signed_init(again, credentials).status_code == 200
    finally:
        assert second.stop()
