"""The testing kit as a user meets it: the example test, run by pytest in a subprocess,
finds the `userpkg_sandbox` fixture through the installed entry point and passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from userpkg.testing import sandbox

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "test_my_client.py"


def test_the_fixture_is_registered_once_through_pytest11() -> None:
    plugins = [e for e in entry_points(group="pytest11") if e.value.startswith("userpkg.")]
    assert [e.value for e in plugins] == ["userpkg.testing.pytest_plugin"]


def test_the_example_runs_green_in_a_project_of_its_own(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


def test_sandbox_stops_its_service_and_removes_its_data() -> None:
    with sandbox(users=10) as sb:
        assert sb.admin.member_count(next(iter(sb.package_ids.values()))) == 0
        assert sorted(sb.package_ids) == [
            "USER_PACKAGE_TYPE_RISK_USER",
            "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
        ]
        data_dir = sb.data_dir
        base_url = sb.base_url
    assert not data_dir.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/healthz", timeout=2)
