"""Test support: a live server on a free port, and a brand that signs requests by hand."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from userpkg.core.service import Service
from userpkg.core.settings import Settings
from userpkg.protocol import (
    BrandCredential,
    ResponseValidator,
    RsaSigner,
    load_public_key,
    public_key_pem,
)
from userpkg.protocol.multipart import encode_part_upload
from userpkg.server.app import create_app
from userpkg.server.serving import start

PREFIX = "/brand/marketing/user-package"
PART_SIZE = 1024


class LiveServer:
    """The real app on a real socket, in a thread: tests talk to it over HTTP only."""

    def __init__(self, settings: Settings) -> None:
        self.service = Service(settings)
        start(self.service)
        config = uvicorn.Config(
            create_app(self.service),
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            http="httptools",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.operator = Operator(self.base_url, self.service.admin_token)
        self.admin = self.operator.admin

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.admin.close()
        self.service.close()

    def admin_ok(self, method: str, path: str, body: Any = None) -> Any:
        return self.operator.admin_ok(method, path, body)

    def new_brand(
        self, private_key: RSAPrivateKey | None = None, serial_no: str | None = None
    ) -> SigningBrand:
        return self.operator.new_brand(private_key, serial_no)

    def new_package(
        self, brand_id: str, package_type: str = "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"
    ) -> str:
        return self.operator.new_package(brand_id, package_type)


class Operator:
    """The operator API of a service anywhere (this process or another), as tests use it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.admin = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def admin_ok(self, method: str, path: str, body: Any = None) -> Any:
        response = self.admin.request(method, path, json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def new_brand(
        self, private_key: RSAPrivateKey | None = None, serial_no: str | None = None
    ) -> SigningBrand:
        """A brand registered through the operator API, with its own key and certificate."""
        key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        brand = self.admin_ok("POST", "/admin/v1/brands", {"name": "test brand"})
        serial = serial_no or secrets.token_hex(20).upper()
        self.admin_ok(
            "POST",
            f"/admin/v1/brands/{brand['brand_id']}/certificates",
            {"serial_no": serial, "public_key_pem": public_key_pem(key.public_key())},
        )
        key_id = brand["platform_key_id"]
        pem = self.admin_ok("GET", f"/admin/v1/platform-keys/{key_id}")["public_key_pem"]
        return SigningBrand(self.base_url, brand["brand_id"], serial, key, key_id, pem)

    def new_package(
        self, brand_id: str, package_type: str = "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"
    ) -> str:
        created = self.admin_ok(
            "POST",
            f"/admin/v1/brands/{brand_id}/user-packages",
            {"name": "test package", "package_type": package_type},
        )
        return str(created["user_package_id"])


@dataclass
class SigningBrand:
    base_url: str
    brand_id: str
    serial_no: str
    private_key: RSAPrivateKey
    platform_key_id: str
    platform_public_pem: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=30)
        self.credential = BrandCredential(
            self.brand_id, self.serial_no, RsaSigner(self.private_key)
        )
        self.validator = ResponseValidator(
            self.platform_key_id, load_public_key(self.platform_public_pem)
        )

    def private_key_file(self, directory: Path) -> Path:
        path = directory / f"{self.brand_id}.pem"
        path.write_bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        signed_body: bytes | None = None,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        authorization: str | None = None,
    ) -> httpx.Response:
        """One request signed the documented way; every knob can be bent to test a rule."""
        auth = self.credential.authorize(
            method,
            path,
            body if signed_body is None else signed_body,
            timestamp=timestamp,
            nonce=nonce,
        )
        sent = {
            "Authorization": authorization if authorization is not None else auth.header(),
            "Accept": "application/json",
            "Wechatpay-Serial": self.platform_key_id,
        }
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        return self.client.request(
            method, path, content=body, headers={k: v for k, v in sent.items() if v is not None}
        )

    def verified(self, response: httpx.Response) -> Any:
        """The JSON of a response whose signature checks out (raises otherwise)."""
        self.validator.validate(dict(response.headers), response.content)
        return response.json()

    def init_upload(self, data: bytes, **changes: Any) -> httpx.Response:
        info = {
            "filename": changes.pop("filename", f"f{time.time_ns()}.csv"),
            "digest": hashlib.sha256(data).hexdigest(),
            "file_size": len(data),
            "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
            "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
            "description": "members who bought twice in 2026",
        }
        info.update(changes)
        return self.send(
            "POST", f"{PREFIX}/uploads", json.dumps({"user_package_file_info": info}).encode()
        )

    def put_part(
        self, upload_id: str, number: int | str, data: bytes, meta: bytes | None = None, **kw: Any
    ) -> httpx.Response:
        meta = (
            meta
            if meta is not None
            else json.dumps(
                {"filename": f"part-{number}.csv", "digest": hashlib.sha256(data).hexdigest()}
            ).encode()
        )
        content_type, body = encode_part_upload(meta, data)
        return self.send(
            "PUT",
            f"{PREFIX}/uploads/{upload_id}/{number}",
            body,
            signed_body=meta,
            content_type=content_type,
            **kw,
        )

    def merge(self, upload_id: str) -> httpx.Response:
        return self.send("POST", f"{PREFIX}/uploads/{upload_id}", content_type=None)

    def expand(self, package_id: str, upload_id: str) -> httpx.Response:
        body = json.dumps({"upload_id": upload_id}).encode()
        return self.send("POST", f"{PREFIX}/user-packages/{package_id}/expand", body)

    def upload(self, data: bytes, part_size: int, **changes: Any) -> str:
        """Init, every part, merge: the upload id of a merged file."""
        opened = self.verified(self.init_upload(data, **changes))
        assert opened["part_size"] == part_size
        for number in range(1, opened["part_count"] + 1):
            chunk = data[(number - 1) * part_size : number * part_size]
            response = self.put_part(opened["upload_id"], number, chunk)
            assert response.status_code == 200, response.text
        merged = self.merge(opened["upload_id"])
        assert merged.status_code == 200, merged.text
        return str(opened["upload_id"])


def write_credentials(brand: SigningBrand, directory: Path, base_url: str) -> Path:
    key = brand.private_key_file(directory)
    platform = directory / "platform.pem"
    platform.write_text(brand.platform_public_pem)
    config = directory / "credentials.toml"
    config.write_text(
        f'base_url = "{base_url}"\nbrand_id = "{brand.brand_id}"\n'
        f'cert_serial_no = "{brand.serial_no}"\nprivate_key_path = "{key.name}"\n'
        f'platform_public_key_id = "{brand.platform_key_id}"\n'
        f'platform_public_key_path = "{platform.name}"\n'
    )
    return config


@dataclass
class World:
    server: LiveServer
    brand: SigningBrand
    bound: list[str]
    unbound: str
    users: list[dict[str, object]] = field(default_factory=list)

    def openid(self, user_index: int, appid: str) -> str:
        return str(self.users[user_index]["openids"][appid])  # type: ignore[index]

    def phone(self, user_index: int) -> str:
        return str(self.users[user_index]["phone"])


def build_world(server: LiveServer) -> World:
    brand = server.new_brand()
    tag = brand.brand_id[-6:]
    bound = [f"wxa{tag}", f"wxb{tag}"]
    for appid in bound:
        server.admin_ok("POST", f"/admin/v1/brands/{brand.brand_id}/appids", {"appid": appid})
    unbound = f"wxc{tag}"
    server.admin_ok("POST", "/admin/v1/appids", {"appid": unbound})
    phones = [f"138{random.randrange(10**8):08d}" for _ in range(40)]
    created = server.admin_ok("POST", "/admin/v1/users", {"users": [{"phone": p} for p in phones]})
    world = World(server, brand, bound, unbound)
    for user in created["data"]:
        world.users.append(server.admin_ok("GET", f"/admin/v1/users/{user['user_id']}"))
    return world
