"""Test your own client against a sandbox on a bad day, with the `userpkg_sandbox` fixture.

    pip install userpkg pytest
    pytest examples/test_my_client.py

Installing userpkg registers the fixture (a `pytest11` entry point): each test gets a fresh
sandbox service on a free port, and an operator client (`userpkg_sandbox.admin`) to make it
misbehave. Below, `BrandClient` stands in for your client: call yours where it is called.
"""

from __future__ import annotations

import hashlib

import pytest

from userpkg.client import BrandClient, Credentials, SignatureError
from userpkg.client.client import RetryPolicy
from userpkg.protocol import DataType, PackageType
from userpkg.protocol.models import UserPackageFileInfo
from userpkg.testing import Sandbox

DATA = b"oAbCdEfGhIjKlMnOpQrStUvWxYz0\n"


def file_info(name: str) -> UserPackageFileInfo:
    return UserPackageFileInfo(
        filename=name,
        digest=hashlib.sha256(DATA).hexdigest(),
        file_size=len(DATA),
        package_type=PackageType.TARGETED_EXPOSURE,
        data_type=DataType.OPENID,
        description="members who bought twice this year",
    )


def my_client(sandbox: Sandbox) -> BrandClient:
    """Your client, configured from the sandbox's credentials.toml."""
    quick = RetryPolicy(attempts=4, base_seconds=0.05, cap_seconds=0.2)
    return BrandClient(Credentials.resolve(sandbox.credentials_path), retries=quick)


def test_my_client_retries_a_500(userpkg_sandbox: Sandbox) -> None:
    userpkg_sandbox.admin.add_fault("init_upload", "error", status=500, times=2)
    with my_client(userpkg_sandbox) as client:
        opened = client.init_upload(file_info("retry.csv"))
    assert opened.part_count == 1
    assert userpkg_sandbox.admin.faults() == [], "both injected 500s were met and retried"


def test_my_client_rejects_a_bad_signature(userpkg_sandbox: Sandbox) -> None:
    userpkg_sandbox.admin.add_fault("init_upload", "bad_signature")
    with my_client(userpkg_sandbox) as client, pytest.raises(SignatureError):
        client.init_upload(file_info("forged.csv"))
