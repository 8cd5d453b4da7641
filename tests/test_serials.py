"""Certificate serials are numbers written in hex (SPEC §2): `0A2CF6…`, `A2CF6…` and `a2cf6…`
name one certificate, in registration, in signed requests and in removal, over real HTTP."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from userpkg.protocol import load_private_key, public_key_pem
from userpkg.server import sandbox

from .support import LiveServer, SigningBrand


def as_typed(brand: SigningBrand, serial_no: str) -> SigningBrand:
    """The same brand and key, with the serial written another way in Authorization."""
    return SigningBrand(
        brand.base_url,
        brand.brand_id,
        serial_no,
        brand.private_key,
        brand.platform_key_id,
        brand.platform_public_pem,
    )


def accepted(brand: SigningBrand) -> bool:
    response = brand.init_upload(b"hello\n")
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def test_a_serial_is_one_number_however_it_is_written(server: LiveServer) -> None:
    digits = "A2CF6" + secrets.token_hex(17).upper()  # 39 hex digits: openssl adds a zero
    brand = server.new_brand(serial_no="0" + digits)
    for typed in ("0" + digits, digits, digits.lower(), "0" + digits.lower(), "000" + digits):
        assert accepted(as_typed(brand, typed)), f"serial typed as {typed} was refused"

    again = server.admin.post(
        f"/admin/v1/brands/{brand.brand_id}/certificates",
        json={
            "serial_no": digits.lower(),
            "public_key_pem": public_key_pem(brand.private_key.public_key()),
        },
    )
    assert again.status_code == 409, "the same number registered twice is one certificate"

    removed = server.admin_ok(
        "DELETE", f"/admin/v1/brands/{brand.brand_id}/certificates/{digits.lower()}"
    )
    assert removed["serial_no"] == "0" + digits
    for typed in ("0" + digits, digits):
        assert not accepted(as_typed(brand, typed)), "a removed certificate must be refused"


def test_registration_answers_the_serial_as_openssl_prints_it(server: LiveServer) -> None:
    brand = server.new_brand()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = server.admin.post(
        f"/admin/v1/brands/{brand.brand_id}/certificates",
        json={"serial_no": "abc", "public_key_pem": public_key_pem(key.public_key())},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["serial_no"] == "0ABC"


def test_the_sandbox_writes_the_serial_openssl_prints(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """About one certificate in 16 has a serial whose hex starts with a zero nibble: force one."""
    odd = int("A2CF6" + secrets.token_hex(17), 16)
    monkeypatch.setattr(x509, "random_serial_number", lambda: odd)
    manifest = sandbox.provision(server.service, server.base_url, users=10)

    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-serial", "-in", manifest["brand_certificate_path"]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert printed == f"serial={manifest['cert_serial_no']}"
    assert manifest["cert_serial_no"].startswith("0A2CF6")

    key_pem = Path(manifest["brand_private_key_path"]).read_text()
    brand = SigningBrand(
        server.base_url,
        manifest["brand_id"],
        manifest["cert_serial_no"],
        load_private_key(key_pem),
        manifest["platform_public_key_id"],
        Path(manifest["platform_public_key_path"]).read_text(),
    )
    for typed in (manifest["cert_serial_no"], format(odd, "x"), format(odd, "X")):
        assert accepted(as_typed(brand, typed)), f"serial typed as {typed} was refused"
