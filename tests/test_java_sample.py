"""examples/java/BrandApiSample.java, compiled with the JDK and run against a real sandbox:
WeChat Pay's Java utility writes a serial without its leading zero, openssl with it, people in
lower case; each way the signed upload is accepted and every answer verifies in Java."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from userpkg.protocol import load_private_key, public_key_pem
from userpkg.testing.sandbox import Sandbox, sandbox

ROOT = Path(__file__).parents[1]
SOURCE = ROOT / "examples" / "java" / "BrandApiSample.java"

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="the Java sample needs a JDK (javac and java on PATH, Java 17 or later)",
)


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("java")
    subprocess.run(["javac", "-d", str(out), str(SOURCE)], check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox(users=20) as running:
        yield running


def run_sample(classes: Path, box: Sandbox, **settings: str) -> subprocess.CompletedProcess[str]:
    manifest = box.manifest
    env = {
        **os.environ,
        "USERPKG_BASE_URL": box.base_url,
        "USERPKG_BRAND_ID": box.brand_id,
        "USERPKG_PRIVATE_KEY_PATH": manifest["brand_private_key_path"],
        "USERPKG_PLATFORM_PUBLIC_KEY_ID": manifest["platform_public_key_id"],
        "USERPKG_PLATFORM_PUBLIC_KEY_PATH": manifest["platform_public_key_path"],
        **settings,
    }
    return subprocess.run(
        ["java", "-cp", str(classes), "BrandApiSample"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sample_signs_the_documented_vector_byte_for_byte(classes: Path) -> None:
    key = ROOT / "tests" / "vectors" / "brand_private_key.pem"
    checked = subprocess.run(
        ["java", "-cp", str(classes), "BrandApiSample", "--check-vector", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_serial_typed_any_way_is_accepted_from_java(classes: Path, box: Sandbox) -> None:
    """A certificate whose serial starts with a zero nibble (1 in 16): 0A2CF6…, A2CF6…, a2cf6…."""
    digits = "A2CF6" + secrets.token_hex(17).upper()
    key = load_private_key(Path(box.manifest["brand_private_key_path"]).read_text())
    box.admin.operator.request(
        "POST",
        f"brands/{box.brand_id}/certificates",
        {"serial_no": "0" + digits, "public_key_pem": public_key_pem(key.public_key())},
    )
    for typed in ("0" + digits, digits, digits.lower()):
        run = run_sample(classes, box, USERPKG_CERT_SERIAL_NO=typed)
        assert run.returncode == 0, f"serial typed as {typed}:\n{run.stdout}{run.stderr}"
        assert f"serial_no {typed}" in run.stdout
        assert "merge" in run.stdout


def test_the_serial_read_from_the_certificate_runs_the_whole_flow(
    classes: Path, box: Sandbox
) -> None:
    """As WeChat Pay's Java utility does it: the serial from the certificate, no leading zero."""
    run = run_sample(
        classes,
        box,
        USERPKG_BRAND_CERTIFICATE_PATH=box.manifest["brand_certificate_path"],
        USERPKG_PACKAGE_ID=box.package_ids["USER_PACKAGE_TYPE_TARGETED_EXPOSURE"],
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "expand       USER_PACKAGE_PROCESS_STATE_FINISHED" in run.stdout
