"""The brand engineer's CLI (SPEC §9 additions), run as a user runs it: a process, against a
real `userpkg serve --sandbox` over HTTP, with exit statuses and messages that say what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from userpkg.client import BrandClient, Credentials
from userpkg.client.uploads import Uploader
from userpkg.protocol import DataType, PackageType

from .processes import USERPKG, ServiceProcess
from .support import Operator


@dataclass
class Sandbox:
    base_url: str
    manifest: dict[str, Any]
    operator: Operator
    credentials: Path
    openids: list[str]

    def package(self, kind: str = "TARGETED_EXPOSURE") -> str:
        return self.operator.new_package(self.manifest["brand_id"], f"USER_PACKAGE_TYPE_{kind}")

    def members(self, package: str) -> int:
        found = self.operator.admin_ok("GET", f"/admin/v1/user-packages/{package}")
        return int(found["member_count"])


def start_sandbox(root: Path, *extra: str) -> Generator[Sandbox, None, None]:
    process = ServiceProcess(
        ["serve", "--sandbox", "--data", str(root / "data"), "--sandbox-users", "300", *extra],
        root / "serve.log",
    )
    try:
        process.wait_healthy()
        manifest = json.loads((root / "data" / "sandbox" / "sandbox.json").read_text())
        operator = Operator(process.base_url, manifest["admin_token"])
        users = operator.admin_ok("GET", "/admin/v1/users?limit=300")["data"]
        openids = [u["openids"][manifest["bound_appids"][0]] for u in users]
        yield Sandbox(
            process.base_url, manifest, operator, Path(manifest["credentials_path"]), openids
        )
    finally:
        process.stop()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox service per module: starting one costs seconds, tests share it."""
    yield from start_sandbox(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox whose expands take effect an hour after they are asked for."""
    yield from start_sandbox(tmp_path_factory.mktemp("slow"), "--sync-delay", "1h")


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """The environment of a user with no USERPKG_* variables and their own XDG directories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERPKG_")}
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    return env


def run(
    *args: str,
    env: dict[str, str],
    cwd: Path | None = None,
    stdin: str | None = None,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*USERPKG, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, **(extra or {})},
        cwd=cwd,
        input=stdin,
    )


def push_openids(
    package: str, members: Path, *options: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`userpkg push PACKAGE MEMBERS --data-type openid OPTIONS…`, the push most tests make."""
    return run("push", package, str(members), "--data-type", "openid", *options, env=env)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def credentials_copy(sandbox: Sandbox, directory: Path, **changes: str) -> Path:
    """The sandbox's credentials.toml with absolute paths, some values changed or removed."""
    source = sandbox.credentials
    values: dict[str, str] = {}
    for line in source.read_text().splitlines():
        key, _, value = line.partition(" = ")
        if key:
            values[key] = value.strip('"')
    for key in ("private_key_path", "platform_public_key_path"):
        path = Path(values[key])
        values[key] = str(path if path.is_absolute() else source.parent / path)
    values.update(changes)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "credentials.toml"
    target.write_text("".join(f'{k} = "{v}"\n' for k, v in values.items() if v != "-"))
    return target


def other_private_key(directory: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "other.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


# ---- credentials discovery, doctor -------------------------------------------------------


def test_credentials_in_the_working_directory_beat_a_stale_environment(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    work = tmp_path / "work"
    credentials_copy(sandbox, work)
    stale = {"USERPKG_BRAND_ID": "9999999999", "USERPKG_BASE_URL": "http://127.0.0.1:9"}
    checked = run("doctor", env=home, cwd=work, extra=stale)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"brand_id = {sandbox.manifest['brand_id']}  (file {work / 'credentials.toml'})" in (
        checked.stdout
    )
    assert "✗" not in checked.stdout


def test_credentials_under_xdg_config_home_and_variables_fill_the_gaps(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    credentials_copy(sandbox, Path(home["XDG_CONFIG_HOME"]) / "userpkg", base_url="-")
    checked = run(
        "doctor",
        "--json",
        env=home,
        cwd=tmp_path,
        extra={"USERPKG_BASE_URL": sandbox.base_url},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is True
    assert report["values"]["base_url"]["source"] == "environment USERPKG_BASE_URL"
    assert report["values"]["brand_id"]["source"].startswith("file ")
    assert {c["check"] for c in report["checks"]} >= {
        "private key",
        "platform public key",
        "host",
        "clock",
        "platform_public_key_id",
        "signed request",
    }


def test_no_credentials_anywhere_says_where_it_looked(home: dict[str, str], tmp_path: Path) -> None:
    missing = run("status", env=home, cwd=tmp_path)
    assert missing.returncode == 2
    assert "no credentials.toml found" in missing.stderr
    assert "USERPKG_BRAND_ID" in missing.stderr
    assert "USERPKG_BASE_URL for a sandbox" in missing.stderr
    assert "add them to the file" not in missing.stderr, "there is no file to add them to"


def test_doctor_names_the_wrong_settings(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    wrong = credentials_copy(
        sandbox,
        tmp_path / "wrong",
        platform_public_key_id="PUB_KEY_ID_0000000000000000000000000000",
        private_key_path=str(other_private_key(tmp_path)),
    )
    checked = run("doctor", "--config", str(wrong), env=home)
    assert checked.returncode == 1
    out = checked.stdout
    assert "✓ host" in out
    assert re.search(r"✗ platform_public_key_id: the service signs with PUB_KEY_ID_\w+", out)
    assert f"set platform_public_key_id = '{sandbox.manifest['platform_public_key_id']}'" in out
    assert "✗ signed request" in out
    assert "private_key_path does not belong to the certificate cert_serial_no" in out

    keyless = credentials_copy(sandbox, tmp_path / "keyless", private_key_path="absent.pem")
    unsigned = run("doctor", "--config", str(keyless), env=home)
    assert unsigned.returncode == 1
    assert "✗ private key" in unsigned.stdout
    # the right key id stays right: an unsigned probe must not advise another one
    assert "✓ platform_public_key_id" in unsigned.stdout, unsigned.stdout
    assert "set platform_public_key_id" not in unsigned.stdout

    away = credentials_copy(sandbox, tmp_path / "away", base_url="http://127.0.0.1:9")
    gone = run("doctor", "--config", str(away), env=home)
    assert gone.returncode == 1
    assert "✗ host: no answer from http://127.0.0.1:9" in gone.stdout


# ---- lint ---------------------------------------------------------------------------------


def test_lint_names_lines_reasons_and_fixes(home: dict[str, str], tmp_path: Path) -> None:
    phones = write_lines(tmp_path / "phones.csv", ["phone", "13800138000", "+86 139-0000-0000"])
    linted = run("lint", str(phones), "--data-type", "md5-phone", env=home)
    assert linted.returncode == 2
    assert "line 1: 'phone' is a header" in linted.stderr
    assert "line 2: a raw phone number" in linted.stderr
    assert "line 3: a raw phone number" in linted.stderr
    assert "userpkg hash-phones IN OUT" in linted.stderr
    assert "no line is well-formed" in linted.stderr

    md5s = [hashlib.md5(str(n).encode()).hexdigest() for n in range(3)]
    as_openid = run(
        "lint", str(write_lines(tmp_path / "m.csv", md5s)), "--data-type", "openid", env=home
    )
    assert as_openid.returncode == 2
    assert "use --data-type md5-phone" in as_openid.stderr

    openids = ["o" + "A" * 27, "o" + "B" * 27]
    as_md5 = run(
        "lint", str(write_lines(tmp_path / "o.csv", openids)), "--data-type", "md5-phone", env=home
    )
    assert "use --data-type openid" in as_md5.stderr
    assert "line 1: 28 characters (an openid)" in as_md5.stderr
    assert "header" not in as_md5.stderr

    columns = write_lines(tmp_path / "c.csv", [f"{md5s[0]},alice", md5s[1]])
    several = run("lint", str(columns), "--data-type", "md5-phone", "--json", env=home)
    assert several.returncode == 2
    report = json.loads(several.stdout)
    assert report["offending_lines"][0]["line"] == 1
    assert "several columns" in report["offending_lines"][0]["reason"]
    assert report["counts"]["malformed"] == 1


def test_lint_threshold_counts_non_blank_lines(home: dict[str, str], tmp_path: Path) -> None:
    good = [hashlib.md5(str(n).encode()).hexdigest() for n in range(9)]
    path = write_lines(tmp_path / "mostly.csv", [*good, "not-an-md5", "", "", ""])
    assert run("lint", str(path), "--data-type", "md5-phone", env=home).returncode == 2
    allowed = run("lint", str(path), "--data-type", "md5-phone", "--max-malformed", "10", env=home)
    assert allowed.returncode == 0, allowed.stderr
    assert "line 10: not a 32-hex-digit MD5" in allowed.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = run("lint", str(empty), "--data-type", "openid", env=home)
    assert refused.returncode == 2
    assert "the file is empty" in refused.stderr


# ---- push, status -------------------------------------------------------------------------


def test_raw_phone_numbers_are_refused_before_anything_is_sent(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    package = sandbox.package()
    phones = write_lines(tmp_path / "phones.csv", ["13800138000", "13900139000"])
    for command in (
        ["push", package, str(phones), "--data-type", "md5-phone"],
        [
            "upload",
            str(phones),
            "--data-type",
            "md5-phone",
            "--package-type",
            "targeted-exposure",
            "--description",
            "phones of the spring campaign",
        ],
    ):
        refused = run(*command, "--config", str(sandbox.credentials), env=home)
        assert refused.returncode == 2, refused.stderr
        assert "nothing was sent" in refused.stderr
        assert "userpkg hash-phones" in refused.stderr
    listed = run("status", "--json", "--config", str(sandbox.credentials), env=home)
    assert json.loads(listed.stdout)["entries"] == [], "nothing was uploaded"


def test_force_sends_a_file_lint_refuses_and_the_good_lines_are_imported(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    package = sandbox.package()
    members = write_lines(tmp_path / "with-header.csv", ["openid", *sandbox.openids[:3]])
    config = ["--config", str(sandbox.credentials)]
    refused = push_openids(package, members, *config, env=home)
    assert refused.returncode == 2, refused.stderr
    assert "--force" in refused.stderr

    forced = push_openids(
        package,
        members,
        "--force",
        "--wait",
        *config,
        env=home,
    )
    assert forced.returncode == 0, forced.stderr
    assert "sending anyway (--force)" in forced.stderr
    assert sandbox.members(package) == 3


def test_status_lists_the_journal_while_the_service_is_down(
    home: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "gone").mkdir()
    service = start_sandbox(tmp_path / "gone")
    sandbox = next(service)
    members = write_lines(tmp_path / "members.csv", sandbox.openids[:5])
    config = ["--config", str(sandbox.credentials)]
    package = sandbox.package()
    pushed = run(
        "push", package, str(members), "--data-type", "openid", "--wait", *config, env=home
    )
    assert pushed.returncode == 0, pushed.stderr
    service.close()

    listed = run("status", *config, env=home)
    assert listed.returncode == 0, listed.stderr
    assert "the states below are the ones last seen" in listed.stderr
    assert f"→ {package}" in listed.stdout
    assert "FINISHED" in listed.stdout
    document = json.loads(run("status", "--json", *config, env=home).stdout)
    assert "last seen" in document["warning"]
    assert document["entries"][0]["user_package_id"] == package


def test_push_again_into_another_package_and_status(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    first, second = sandbox.package(), sandbox.package()
    members = write_lines(tmp_path / "members.csv", sandbox.openids[:50])
    config = ["--config", str(sandbox.credentials)]
    pushed = push_openids(first, members, "--wait", *config, env=home)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip().endswith("USER_PACKAGE_PROCESS_STATE_FINISHED")
    assert "waited" in pushed.stderr
    # no sync delay here: the wait may never see PROCESSING, so the final message says when
    assert re.search(r"FINISHED, waited .*added 50 users.*; in effect since 20\S+", pushed.stderr)
    assert sandbox.members(first) == 50

    repeated = push_openids(first, members, *config, env=home)
    assert repeated.returncode == 2
    assert "already pushed" in repeated.stderr
    assert "added 50 users" in repeated.stderr
    assert "--again" in repeated.stderr

    again = run(
        "push", first, str(members), "--data-type", "openid", "--again", "--json", *config, env=home
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["ok"] is True

    elsewhere = run(
        "push", second, str(members), "--data-type", "openid", "--wait", *config, env=home
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert sandbox.members(second) == 50

    listed = run("status", *config, env=home)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count(f"→ {first}") == 2
    assert listed.stdout.count(f"→ {second}") == 1
    entries = json.loads(run("status", "--json", *config, env=home).stdout)["entries"]
    assert all(
        p["state"] == "USER_PACKAGE_PROCESS_STATE_FINISHED" for e in entries for p in e["pieces"]
    )


def test_waiting_shows_the_effective_time_and_stops_at_the_timeout(
    slow_sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    package = slow_sandbox.package()
    members = write_lines(tmp_path / "members.csv", slow_sandbox.openids[:20])
    config = ["--config", str(slow_sandbox.credentials)]
    waited = push_openids(
        package,
        members,
        "--wait",
        "--timeout",
        "2s",
        *config,
        env=home,
    )
    assert waited.returncode == 1
    assert re.search(r"piece 1/1: PROCESSING, takes effect at \S+, waited \d+ s", waited.stderr)
    upload_id = json.loads(run("status", "--json", *config, env=home).stdout)["entries"][0][
        "pieces"
    ][0]["upload_id"]
    assert f"poll later with `userpkg expand {package} {upload_id} --wait`" in waited.stderr

    polled = run(
        "expand", package, upload_id, "--wait", "--timeout", "1s", "--json", *config, env=home
    )
    assert polled.returncode == 1
    assert json.loads(polled.stdout)["error"]["state"] == "USER_PACKAGE_PROCESS_STATE_PROCESSING"


def test_an_interrupted_push_resumes(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    package = sandbox.package()
    members = write_lines(tmp_path / "big.csv", sandbox.openids[:200])
    args = [
        *USERPKG,
        "push",
        package,
        str(members),
        "--data-type",
        "openid",
        "--max-bytes",
        "300",
        "--config",
        str(sandbox.credentials),
    ]
    first = subprocess.Popen(
        args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=home
    )
    assert first.stderr is not None
    for line in first.stderr:
        if line.startswith("piece 1/"):
            first.send_signal(signal.SIGKILL)
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "the push was interrupted after its first piece"

    resumed = run(*args[len(USERPKG) :], "--wait", env=home)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed push" in resumed.stderr
    assert "piece 1/" in resumed.stderr
    assert "already expanded, skipped" in resumed.stderr
    assert sandbox.members(package) == 200
    upload_ids = [line.split()[0] for line in resumed.stdout.splitlines()]
    assert len(upload_ids) == len(set(upload_ids)) > 10


def test_a_refused_first_expand_stops_the_push_and_names_the_option(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    risky = sandbox.package("RISK_USER")
    members = write_lines(tmp_path / "members.csv", sandbox.openids[:100])
    config = ["--config", str(sandbox.credentials)]
    refused = push_openids(
        risky,
        members,
        "--max-bytes",
        "600",
        "--json",
        *config,
        env=home,
    )
    assert refused.returncode == 1
    assert "piece 1/" in refused.stderr
    assert "--package-type risk-user" in refused.stderr
    assert json.loads(refused.stdout)["error"]["hint"].endswith("--package-type risk-user")
    again = push_openids(
        risky,
        members,
        "--max-bytes",
        "600",
        *config,
        env=home,
    )
    assert again.returncode == 1
    # the split is announced before any upload, so even a push refused at once says it
    assert re.search(r"members\.csv is .*: \d+ uploads, labelled i/\d+", again.stderr)
    entries = json.loads(run("status", "--json", *config, env=home).stdout)["entries"]
    pushed = next(e for e in entries if e["user_package_id"] == risky)
    assert [p["upload_id"] is not None for p in pushed["pieces"]][:2] == [True, False]

    unknown = push_openids("9" * 20, members, *config, env=home)
    assert unknown.returncode == 1
    assert "check USER_PACKAGE_ID" in unknown.stderr

    malformed = push_openids("abc", members, *config, env=home)
    assert malformed.returncode == 2
    assert "USER_PACKAGE_ID 'abc' is not a user package id: those are 20 digits" in (
        malformed.stderr
    )
    entries = json.loads(run("status", "--json", *config, env=home).stdout)["entries"]
    assert all(e["user_package_id"] != "abc" for e in entries), "refused before any upload"


def test_messages_for_short_descriptions_and_empty_files(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    members = write_lines(tmp_path / "members.csv", sandbox.openids[:5])
    config = ["--config", str(sandbox.credentials)]
    short = run(
        "upload",
        str(members),
        "--data-type",
        "openid",
        "--package-type",
        "risk-user",
        "--description",
        "too short",
        *config,
        env=home,
    )
    assert short.returncode == 2
    assert "--description is 9 characters" in short.stderr
    assert "pydantic" not in short.stderr
    assert "http" not in short.stderr
    with BrandClient(Credentials.resolve(sandbox.credentials)) as client:
        uploader = Uploader(client, states=tmp_path / "states")
        with pytest.raises(ValueError, match=r"^description is 1 character; the service wants"):
            uploader.upload_file(members, DataType.OPENID, PackageType.RISK_USER, "x")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    nothing = push_openids(sandbox.package(), empty, *config, env=home)
    assert nothing.returncode == 2
    assert "the file is empty" in nothing.stderr


# ---- errors a brand meets: signatures, hosts, ports --------------------------------------


def test_sign_error_shows_both_strings_to_sign(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    config = credentials_copy(
        sandbox, tmp_path / "c", private_key_path=str(other_private_key(tmp_path))
    )
    failed = run("expand", sandbox.package(), "some-upload", "--config", str(config), env=home)
    assert failed.returncode == 1
    assert "SIGN_ERROR" in failed.stderr
    assert "detail.sign_information" in failed.stderr
    assert "this client's string to sign" in failed.stderr
    assert failed.stderr.count("POST\n    /brand/marketing/user-package/user-packages/") == 2


def test_an_unverifiable_answer_names_the_setting_and_shows_what_it_claimed(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    config = credentials_copy(
        sandbox, tmp_path / "c", platform_public_key_id="PUB_KEY_ID_0000000000000000000000000000"
    )
    failed = run("expand", sandbox.package(), "some-upload", "--config", str(config), env=home)
    assert failed.returncode == 3
    assert "fix: check platform_public_key_id" in failed.stderr
    assert "(UNVERIFIED)" in failed.stderr
    assert "is not a platform key id" in failed.stderr


def test_a_tls_mistake_is_not_retried_and_names_the_url(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    https = sandbox.base_url.replace("http://", "https://")
    config = credentials_copy(sandbox, tmp_path / "c", base_url=https)
    failed = run("expand", sandbox.package(), "x", "--config", str(config), env=home)
    assert failed.returncode == 1
    assert https in failed.stderr
    assert "TLS failed" in failed.stderr
    assert "tries" not in failed.stderr


def test_serve_on_a_port_in_use_says_so(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    port = sandbox.base_url.rsplit(":", 1)[1]
    taken = run("serve", "--sandbox", "--data", str(tmp_path / "d"), "--port", port, env=home)
    assert taken.returncode == 2
    assert f"127.0.0.1:{port} is already in use" in taken.stderr
    assert "--port" in taken.stderr
    assert "running" not in taken.stdout
    assert not (tmp_path / "d").exists(), "nothing was provisioned"


# ---- hash-phones ------------------------------------------------------------------------


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_hash_phones_formats_columns_rejects_and_stdio(
    home: dict[str, str], tmp_path: Path
) -> None:
    raw = write_lines(
        tmp_path / "raw.csv",
        ["0086 138 0013 8000", "(+86)139.0000.0000", "+86 137-0000-0000", "12345", "", "abc"],
    )
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.txt"
    done = run("hash-phones", str(raw), str(out), "--rejects", str(rejects), env=home)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split() == [md5("13800138000"), md5("13900000000"), md5("13700000000")]
    assert "rejected lines: 4, 6" in done.stderr
    assert rejects.read_text() == "4\t12345\n6\tabc\n"

    piped = run(
        "hash-phones", "-", "-", "--column", "2", env=home, stdin="alice,13800138000\nbob,x\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == md5("13800138000") + "\n"
    assert "rejected lines: 2" in piped.stderr

    first_column = write_lines(tmp_path / "csv.csv", ["13800138000,alice"])
    assert run("hash-phones", str(first_column), str(out), env=home).returncode == 0
    assert out.read_text() == md5("13800138000") + "\n"

    second_column = write_lines(tmp_path / "names.csv", ["alice,13800138000", "bob,13900000000"])
    missed = run("hash-phones", str(second_column), str(out), env=home)
    assert "hashed 0" in missed.stderr
    assert "pass --column N" in missed.stderr
    assert "--column" not in run("hash-phones", str(raw), str(out), env=home).stderr


def test_hash_phones_refuses_to_overwrite_its_input(home: dict[str, str], tmp_path: Path) -> None:
    raw = write_lines(tmp_path / "a.txt", ["13800138000"])
    refused = run("hash-phones", str(raw), str(raw), env=home)
    assert refused.returncode == 2
    assert "same file" in refused.stderr
    assert raw.read_text() == "13800138000\n"


# ---- start-up -----------------------------------------------------------------------------


def test_version_help_and_completion(home: dict[str, str]) -> None:
    assert run("--version", env=home).stdout.strip() == run("version", env=home).stdout.strip()
    assert "push" in run("-h", env=home).stdout
    assert "--max-malformed" in run("lint", "-h", env=home).stdout
    assert "--install-completion" in run("-h", env=home).stdout


def test_brand_commands_never_load_the_server_stack(
    sandbox: Sandbox, home: dict[str, str], tmp_path: Path
) -> None:
    members = write_lines(tmp_path / "m.csv", sandbox.openids[:3])
    for args in (
        ["--version"],
        ["lint", str(members), "--data-type", "openid"],
        ["doctor", "--config", str(sandbox.credentials)],
    ):
        result = subprocess.run(
            [*USERPKG[:1], "-X", "importtime", *USERPKG[1:], *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=home,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
        assert not {"fastapi", "starlette", "uvicorn", "sqlalchemy"} & loaded, args
        if args == ["--version"]:
            heavy = {"pydantic", "rich", "httpx", "cryptography"} & loaded
            assert not heavy, f"--version loads {sorted(heavy)}: import them where they are used"
