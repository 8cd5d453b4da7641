"""Sandbox provisioning: on first start, a complete playground and the files to use it.

Writes `sandbox/sandbox.json` (the manifest of SPEC §9), `credentials.toml` for the client
commands, the brand's private key and certificate, and the platform public key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from userpkg.core.service import Service
from userpkg.protocol import PackageType
from userpkg.protocol.keys import public_key_pem

DEFAULT_USERS = 10_000
MANIFEST = "sandbox.json"


def _write(path: Path, text: str, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    if private:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _toml(values: dict[str, str]) -> str:
    lines = ["# userpkg client credentials for the sandbox (see `userpkg upload --help`)"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _brand_certificate(brand_id: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A brand API key pair and a self-signed certificate, like the merchant platform issues."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"userpkg sandbox brand {brand_id}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "userpkg sandbox"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def provision(service: Service, base_url: str, users: int = DEFAULT_USERS) -> dict[str, Any]:
    """Create the playground unless the manifest exists and still matches the database."""
    directory = service.settings.data_dir / "sandbox"
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        if service.brands.get(manifest["brand_id"]) is not None:
            if (
                manifest.get("base_url") != base_url
                or manifest.get("admin_token") != service.admin_token
            ):
                manifest["base_url"] = base_url
                manifest["admin_token"] = service.admin_token
                _write_files(directory, manifest)
            return manifest

    brand = service.brands.create(None, "userpkg sandbox brand")
    key, cert = _brand_certificate(brand.brand_id)
    serial_no = service.brands.add_certificate(
        brand.brand_id, format(cert.serial_number, "X"), public_key_pem(key.public_key())
    )
    appids = [f"wx{secrets.token_hex(8)}" for _ in range(3)]
    for appid in appids[:2]:
        service.brands.bind_appid(brand.brand_id, appid)
    service.brands.register_appid(appids[2])
    service.directory.generate(users)
    packages = [
        service.packages.create(brand.brand_id, f"sandbox {kind.name.lower()}", kind.value)
        for kind in PackageType
    ]
    key_id = brand.platform_key_id or service.default_key_id  # the brand's own key (SPEC §2)
    _write(
        directory / "brand_private_key.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii"),
        private=True,
    )
    _write(
        directory / "brand_certificate.pem",
        cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )
    _write(directory / "platform_public_key.pem", service.keys.public_pem(key_id))
    manifest = {
        "base_url": base_url,
        "admin_token": service.admin_token,
        "brand_id": brand.brand_id,
        "cert_serial_no": serial_no,
        "brand_private_key_path": str((directory / "brand_private_key.pem").resolve()),
        "brand_certificate_path": str((directory / "brand_certificate.pem").resolve()),
        "platform_public_key_id": key_id,
        "platform_public_key_path": str((directory / "platform_public_key.pem").resolve()),
        "bound_appids": appids[:2],
        "unbound_appids": appids[2:],
        "user_packages": [
            {"user_package_id": p.user_package_id, "package_type": p.package_type} for p in packages
        ],
        "users": users,
        "credentials_path": str((directory / "credentials.toml").resolve()),
    }
    _write_files(directory, manifest)
    return manifest


def _write_files(directory: Path, manifest: dict[str, Any]) -> None:
    credentials = {
        "base_url": manifest["base_url"],
        "brand_id": manifest["brand_id"],
        "cert_serial_no": manifest["cert_serial_no"],
        "private_key_path": manifest["brand_private_key_path"],
        "platform_public_key_id": manifest["platform_public_key_id"],
        "platform_public_key_path": manifest["platform_public_key_path"],
    }
    _write(directory / "credentials.toml", _toml(credentials))
    _write(
        directory / MANIFEST,
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
        private=True,
    )


def banner(manifest: dict[str, Any]) -> str:
    """What to print at start: never the token itself, only where it is."""
    package = manifest["user_packages"][0]["user_package_id"]
    token_file = Path(manifest["credentials_path"]).parent.parent / "admin-token"
    return "\n".join(
        [
            "userpkg sandbox is running",
            f"  base URL      {manifest['base_url']}",
            f"  brand id      {manifest['brand_id']}",
            f"  credentials   {manifest['credentials_path']}",
            f"  manifest      {Path(manifest['credentials_path']).with_name(MANIFEST)}",
            f"  admin token   in {token_file}",
            "  try it (another terminal, in this directory):",
            "    .venv/bin/python examples/sandbox_file.py members.csv --lines 900000 "
            f"--manifest {Path(manifest['credentials_path']).with_name(MANIFEST)}",
            f"    .venv/bin/userpkg push {package} members.csv --data-type openid --wait "
            f"--config {manifest['credentials_path']}",
        ]
    )
