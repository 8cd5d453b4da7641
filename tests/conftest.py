"""Shared fixtures: the openssl-made vectors kept in tests/vectors, and the test services."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from userpkg.core.settings import Settings, SyncDelay
from userpkg.protocol import load_private_key, load_public_key
from userpkg.testing import Sandbox, sandbox

from .databases import PG_URL, SKIP_PG, database_url, fresh_postgres
from .support import PART_SIZE, LiveServer, World, build_world, write_credentials

REPO = Path(__file__).resolve().parents[1]
VECTORS_DIR = Path(os.environ.get("USERPKG_VECTORS_DIR", REPO / "tests" / "vectors"))


@dataclass(frozen=True)
class Vectors:
    data: dict[str, Any]
    directory: Path

    def pem(self, name: str) -> str:
        return (self.directory / self.data["files"][name]).read_text()

    @property
    def brand_private_key(self) -> RSAPrivateKey:
        return load_private_key(self.pem("brand_private_key"))

    @property
    def brand_public_key(self) -> RSAPublicKey:
        return load_public_key(self.pem("brand_public_key"))

    @property
    def platform_private_key(self) -> RSAPrivateKey:
        return load_private_key(self.pem("platform_private_key"))

    @property
    def platform_public_key(self) -> RSAPublicKey:
        return load_public_key(self.pem("platform_public_key"))


KEPT_VARIABLES = {"USERPKG_TEST_PG_URL", "USERPKG_CHROMIUM", "USERPKG_VECTORS_DIR"}


@pytest.fixture(autouse=True)
def _away_from_the_developers_setup(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never see the developer's own credentials.toml (the README has them copy it into
    the checkout), XDG directories or USERPKG_* settings, and never write into them."""
    home = tmp_path_factory.mktemp("developer")
    monkeypatch.chdir(home)
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in list(os.environ):
        if name.startswith("USERPKG_") and name not in KEPT_VARIABLES:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def vectors() -> Vectors:
    path = VECTORS_DIR / "vectors.json"
    if not path.exists():
        pytest.fail(f"test vectors not found at {path}; set USERPKG_VECTORS_DIR")
    return Vectors(json.loads(path.read_text(encoding="utf-8")), VECTORS_DIR)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database a test module's service runs on; PostgreSQL needs USERPKG_TEST_PG_URL."""
    if request.param == "postgres" and PG_URL is None:
        pytest.skip(SKIP_PG)
    return str(request.param)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[LiveServer]:
    """One live service per test module and database: small parts keep multi-part files tiny."""
    with database_url(backend) as db_url:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("data"),
            db_url=db_url,
            sandbox=True,
            sync_delay=SyncDelay(seconds=0),
            part_size=PART_SIZE,
            max_file_size=64 * PART_SIZE,
            rate_per_second=1000,
            rate_burst=1000,
        )
        live = LiveServer(settings)
        yield live
        live.stop()


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    """A brand with two bound appids, one unbound, and 40 users with phones."""
    return build_world(server)


@pytest.fixture
def config(world: World, tmp_path: Path) -> Path:
    """A credentials.toml for the world's brand against the live server."""
    return write_credentials(world.brand, tmp_path, world.server.base_url)


@pytest.fixture(autouse=True)
def _private_xdg_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Client journals and upload state go to the test's own directories, never the user's."""
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))


@pytest.fixture(scope="session", params=["sqlite", "postgres-2-processes"])
def sandbox_service(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A `serve --sandbox` process (on PostgreSQL: two API processes), shared by the fault,
    reset and SDK tests; each test leaves no fault rules behind."""
    fast = ("--rate-limit", "1000", "--rate-burst", "1000")
    if request.param == "sqlite":
        with sandbox(users=50, extra_args=fast) as running:
            yield running
        return
    if PG_URL is None:
        pytest.skip(SKIP_PG)
    with (
        fresh_postgres() as url,
        sandbox(users=50, extra_args=(*fast, "--db", url, "--workers", "2")) as running,
    ):
        yield running
