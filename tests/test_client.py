"""The SDK against the real service over HTTP, and against a fake host that injects faults."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.client import ApiError, AsyncBrandClient, BrandClient, Credentials, SignatureError
from userpkg.client.client import RetryPolicy
from userpkg.client.credentials import CredentialsError
from userpkg.client.uploads import Uploader, split_points
from userpkg.protocol import DataType, PackageType
from userpkg.protocol.models import ExpandResponse

from .conftest import PART_SIZE
from .fakehost import DroppingProxy, FakeHost, Running
from .support import write_credentials
from .test_expand_pipeline import World


def openid_file(world: World, path: Path, users: range, times: int = 3) -> Path:
    """The users' openids, each `times` times: several parts of PART_SIZE."""
    lines = [world.openid(i, world.bound[0]) for i in users] * times
    path.write_text("\n".join(lines) + "\n")
    return path


def no_sleep(_seconds: float) -> None:
    return None


def test_full_flow_with_parts_in_parallel(world: World, config: Path, tmp_path: Path) -> None:
    creds = Credentials.resolve(config)
    package = world.server.new_package(world.brand.brand_id)
    source = openid_file(world, tmp_path / "members.csv", range(0, 40))
    assert source.stat().st_size > 2 * PART_SIZE
    with BrandClient(creds) as client:
        uploader = Uploader(client, states=tmp_path / "state")
        sent: list[int] = []
        upload_id = uploader.upload_file(
            source,
            DataType.OPENID,
            PackageType.TARGETED_EXPOSURE,
            "members of the spring promotion",
            progress=sent.append,
        )
        assert sum(sent) == source.stat().st_size
        assert not list((tmp_path / "state").glob("*.json")), "state file removed after merge"
        first = client.expand(package, upload_id)
        assert first.state.startswith("USER_PACKAGE_PROCESS_STATE_")
        final = uploader.wait(package, upload_id, timeout=20)
    assert final.state == "USER_PACKAGE_PROCESS_STATE_FINISHED"
    assert world.server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["member_count"] == 40


def test_responses_keep_fields_the_client_does_not_know() -> None:
    data = {"return_message": "ok", "state": "USER_PACKAGE_PROCESS_STATE_FINISHED", "added": 7}
    answer = ExpandResponse.from_json(data)
    assert answer.raw == data
    assert answer.model_extra == {"added": 7}
    assert answer.is_final
    unknown = ExpandResponse.from_json({"return_message": "", "state": "SOMETHING_NEW"})
    assert not unknown.is_final, "an unknown state is not taken as final"


def test_async_client(world: World, config: Path) -> None:
    async def go() -> None:
        async with AsyncBrandClient(Credentials.resolve(config)) as client:
            with pytest.raises(ApiError) as caught:
                await client.expand("0" * 20, "nothing")
            assert caught.value.code == "NOT_FOUND"
            assert caught.value.request_id

    asyncio.run(go())


def test_api_error_carries_everything(world: World, config: Path) -> None:
    with BrandClient(Credentials.resolve(config)) as client, pytest.raises(ApiError) as caught:
        client.expand("1" * 20, "missing")
    error = caught.value
    assert (error.status, error.code) == (404, "NOT_FOUND")
    assert "not found" in error.message
    assert error.request_id


def test_resume_sends_only_the_missing_parts(world: World, config: Path, tmp_path: Path) -> None:
    creds = Credentials.resolve(config)
    source = openid_file(world, tmp_path / "resume.csv", range(0, 40))
    calls: list[int] = []
    with BrandClient(creds) as client:
        original = client.upload_part

        def flaky(upload_id: str, number: int, data: bytes, digest: str, filename: str) -> object:
            calls.append(number)
            if number == 2:
                raise KeyboardInterrupt
            return original(upload_id, number, data, digest, filename)

        client.upload_part = flaky  # type: ignore[method-assign]
        uploader = Uploader(client, parallel=1, states=tmp_path / "state")
        with pytest.raises(KeyboardInterrupt):
            uploader.upload_file(
                source,
                DataType.OPENID,
                PackageType.TARGETED_EXPOSURE,
                "resumable upload of members",
            )
        client.upload_part = original  # type: ignore[method-assign]
        resent: list[int] = []
        client.upload_part = lambda *a: (resent.append(a[1]), original(*a))[1]  # type: ignore[method-assign]
        upload_id = uploader.upload_file(
            source, DataType.OPENID, PackageType.TARGETED_EXPOSURE, "resumable upload of members"
        )
    part_count = -(-source.stat().st_size // PART_SIZE)
    assert part_count >= 3
    assert calls[:2] == [1, 2]
    assert resent == list(range(2, part_count + 1))
    assert upload_id


def test_split_points_end_at_line_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(b"".join(f"{i:027d}\n".encode() for i in range(1000)))
    pieces = split_points(path, 1000)
    assert all(length <= 1000 for _, length in pieces)
    data = path.read_bytes()
    assert b"".join(data[o : o + n] for o, n in pieces) == data
    assert all(data[o + n - 1 : o + n] == b"\n" for o, n in pieces)


def test_credentials_errors_name_the_problem(tmp_path: Path, world: World) -> None:
    with pytest.raises(CredentialsError, match="USERPKG_BRAND_ID"):
        Credentials.resolve(None)
    config = write_credentials(world.brand, tmp_path, "http://x")
    (tmp_path / "platform.pem").write_text((tmp_path / f"{world.brand.brand_id}.pem").read_text())
    with pytest.raises(CredentialsError, match="a private key"):
        Credentials.resolve(config).platform_public_key()


@pytest.fixture
def fake(world: World) -> Iterator[tuple[FakeHost, Running]]:
    host = FakeHost(world.server)
    running = Running(host)
    yield host, running
    running.stop()


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("bad-signature", "does not verify"),
        ("wrong-serial", "PUB_KEY_ID_0000"),
        ("stale", "away from the local clock"),
        ("probe", "SIGNTEST"),
    ],
)
def test_unverifiable_responses_raise_signature_error(
    world: World, tmp_path: Path, fake: tuple[FakeHost, Running], fault: str, said: str
) -> None:
    host, running = fake
    host.faults = [fault]
    creds = Credentials.resolve(write_credentials(world.brand, tmp_path, running.base_url))
    with BrandClient(creds, sleep=no_sleep) as client, pytest.raises(SignatureError) as caught:
        client.expand("0" * 20, "whatever")
    assert said in str(caught.value)
    assert len(host.seen) == 1, "a signature failure is never retried"


@pytest.mark.parametrize("fault", ["429", "500"])
def test_retry_resigns_the_identical_body(
    world: World, tmp_path: Path, fake: tuple[FakeHost, Running], fault: str
) -> None:
    host, running = fake
    host.faults = [fault]
    creds = Credentials.resolve(write_credentials(world.brand, tmp_path, running.base_url))
    delays: list[float] = []
    with BrandClient(creds, sleep=delays.append) as client, pytest.raises(ApiError) as caught:
        client.expand("0" * 20, "whatever")
    assert caught.value.code == "NOT_FOUND", "the retry reached the service"
    first, second = host.seen
    assert first.body == second.body
    assert first.authorization != second.authorization
    nonce = [s.authorization.split('nonce_str="')[1].split('"')[0] for s in host.seen]
    assert nonce[0] != nonce[1]
    if fault == "429":
        assert delays[0] >= 2, "Retry-After is honoured"


def test_gives_up_after_the_policy_attempts(
    world: World, tmp_path: Path, fake: tuple[FakeHost, Running]
) -> None:
    host, running = fake
    host.faults = ["500"] * 10
    creds = Credentials.resolve(write_credentials(world.brand, tmp_path, running.base_url))
    with (
        BrandClient(creds, sleep=no_sleep, retries=RetryPolicy(attempts=3)) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.expand("0" * 20, "whatever")
    assert caught.value.status == 500
    assert len(host.seen) == 3


def test_dropped_connection_mid_part_is_retried_with_the_same_bytes(
    world: World, tmp_path: Path
) -> None:
    port = int(world.server.base_url.rsplit(":", 1)[1])
    proxy = DroppingProxy(port, keep=400)
    try:
        creds = Credentials.resolve(write_credentials(world.brand, tmp_path, proxy.base_url))
        source = openid_file(world, tmp_path / "dropped.csv", range(0, 40))
        with BrandClient(creds, sleep=no_sleep) as client:
            uploader = Uploader(client, parallel=1, states=tmp_path / "state")
            upload_id = uploader.upload_file(
                source,
                DataType.OPENID,
                PackageType.TARGETED_EXPOSURE,
                "upload through a bad network",
            )
        assert proxy.dropped == 1
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        merged = world.brand.verified(world.brand.merge(upload_id))
        assert merged["digest"] == digest
    finally:
        proxy.stop()


def test_connection_error_fails_over_to_the_backup_host(world: World, tmp_path: Path) -> None:
    creds = Credentials.resolve(write_credentials(world.brand, tmp_path, "http://127.0.0.1:9"))
    with (
        BrandClient(creds, sleep=no_sleep, failover=world.server.base_url) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.expand("0" * 20, "whatever")
    assert caught.value.code == "NOT_FOUND", "the backup host answered"
