"""The console's security over real HTTP: sessions, CSRF (also from another port), headers,
escaping, and that no page or asset carries the token or a private key."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from .console_support import Sandbox, csrf_of, sandbox
from .processes import free_port

__all__ = ["sandbox"]
pytestmark = pytest.mark.parametrize("sandbox", ["sqlite", "postgres"], indirect=True)


def _offset(box: Sandbox) -> int:
    return int(box.admin("GET", "/clock")["offset_seconds"])


def test_root_leads_to_the_console_and_pages_need_sign_in(sandbox: Sandbox) -> None:
    root = httpx.get(f"{sandbox.base_url}/")
    assert root.status_code == 307
    assert root.headers["location"] == "console/"
    for path in ("/console/", f"/console/packages/{sandbox.package_id}", "/console/sandbox"):
        page = httpx.get(f"{sandbox.base_url}{path}")
        assert page.status_code == 303
        assert page.headers["location"] == "/console/sign-in"
        assert sandbox.manifest["brand_id"] not in page.text


def test_sign_in_needs_the_forms_csrf_token_and_the_operator_token(sandbox: Sandbox) -> None:
    client = httpx.Client(base_url=sandbox.base_url)
    form = client.get("/console/sign-in")
    pre = form.headers["set-cookie"].lower()
    assert "httponly" in pre
    assert "samesite=strict" in pre
    csrf = csrf_of(form.text)

    without = client.post("/console/sign-in", data={"token": sandbox.token})
    assert without.status_code == 403
    assert "userpkg_console=" not in without.headers.get("set-cookie", "")
    for bad in ("0" * 64, "é" * 64):
        forged = client.post("/console/sign-in", data={"token": sandbox.token, "csrf": bad})
        assert forged.status_code == 403
    for not_it in ("not-it", "é" * 43):
        wrong = client.post("/console/sign-in", data={"token": not_it, "csrf": csrf})
        assert wrong.status_code == 401
    assert "userpkg_console=" not in wrong.headers.get("set-cookie", "")
    assert client.get("/console/").status_code == 303

    right = client.post("/console/sign-in", data={"token": sandbox.token, "csrf": csrf})
    assert right.status_code == 303
    session = [c for c in right.headers.get_list("set-cookie") if c.startswith("userpkg_console=")]
    assert len(session) == 1
    assert "httponly" in session[0].lower()
    assert "samesite=strict" in session[0].lower()
    assert client.get("/console/").status_code == 200


def test_a_tampered_or_foreign_session_cookie_is_not_a_session(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    value = client.cookies["userpkg_console"]
    expires, nonce, mac = value.split(".")
    for forged in (
        f"{int(expires) + 3600}.{nonce}.{mac}",
        f"{expires}.{nonce}x.{mac}",
        f"{expires}.{nonce}.{'0' * len(mac)}",
    ):
        page = httpx.get(f"{sandbox.base_url}/console/", cookies={"userpkg_console": forged})
        assert page.status_code == 303


def test_forms_without_their_token_change_nothing(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    before = _offset(sandbox)
    members = sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"]
    csv = sandbox.openid_csv(sandbox.users(20), [])
    upload = {"package_id": sandbox.package_id, "data_type": "USER_PACKAGE_DATA_TYPE_OPENID"}

    assert client.post("/console/sandbox/clock", data={"seconds": "3600"}).status_code == 403
    for forged in (csrf[:-2] + "00", "é" * 64, csrf + "0"):
        answer = client.post("/console/sandbox/clock", data={"seconds": "3600", "csrf": forged})
        assert answer.status_code == 403
    refused = client.post(
        "/console/sandbox/upload", data=upload, files={"file": ("a.csv", csv, "text/csv")}
    )
    assert refused.status_code == 403
    # Without a session the token alone is not enough either.
    anonymous = httpx.post(
        f"{sandbox.base_url}/console/sandbox/clock", data={"seconds": "3600", "csrf": csrf}
    )
    assert anonymous.status_code == 403

    time.sleep(1.5)
    assert _offset(sandbox) == before
    after = sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"]
    assert after == members
    assert sandbox.admin("GET", f"/user-packages/{sandbox.package_id}/tasks")["total_count"] == 0

    done = client.post("/console/sandbox/clock", data={"seconds": "3600", "csrf": csrf})
    assert done.status_code == 303
    assert _offset(sandbox) == before + 3600


def test_a_form_from_another_port_of_the_same_host_is_refused(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    before = _offset(sandbox)
    other = f"http://127.0.0.1:{free_port()}"
    for headers in (
        {"Origin": other},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": other, "Sec-Fetch-Site": "same-site"},
    ):
        answer = client.post(
            "/console/sandbox/clock", data={"seconds": "60", "csrf": csrf}, headers=headers
        )
        assert answer.status_code == 403, headers
    assert _offset(sandbox) == before
    same = client.post(
        "/console/sandbox/clock",
        data={"seconds": "60", "csrf": csrf},
        headers={"Origin": sandbox.base_url, "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 303
    assert _offset(sandbox) == before + 60


def test_pages_carry_the_security_headers(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    anonymous = httpx.Client(base_url=sandbox.base_url)
    for page in (
        client.get("/console/"),
        client.get("/console/sandbox"),
        anonymous.get("/console/sign-in"),
    ):
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text


def test_names_a_brand_supplied_are_escaped(sandbox: Sandbox) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    brand = sandbox.admin("POST", "/brands", {"name": evil})
    sandbox.admin(
        "POST",
        f"/brands/{brand['brand_id']}/user-packages",
        {"name": evil, "package_type": "USER_PACKAGE_TYPE_RISK_USER"},
    )
    client = sandbox.signed_in()
    for path in ("/console/", f"/console/brands/{brand['brand_id']}"):
        html = client.get(path).text
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html


def test_no_page_or_asset_reveals_the_token_or_a_private_key(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    key_pem = (sandbox.data / "sandbox" / "brand_private_key.pem").read_text()
    key_body = "".join(key_pem.strip().splitlines()[1:-1])
    pages = [
        "/console/",
        "/console/sandbox",
        f"/console/brands/{sandbox.manifest['brand_id']}",
        f"/console/packages/{sandbox.package_id}",
        "/console/static/console.css",
        "/console/static/upload.js",
    ]
    seen = 0
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        links = re.findall(r'(?:href|src)="(/console/[^"]+)"', page.text)
        pages += [link for link in links if link not in pages][: 60 - len(pages)]
        text = page.text
        assert sandbox.token not in text, path
        assert "PRIVATE KEY" not in text, path
        assert key_body[:64] not in text, path
        seen += 1
    assert seen >= 6
    sign_in = httpx.get(f"{sandbox.base_url}/console/sign-in").text
    assert sandbox.token not in sign_in
    assert "PRIVATE KEY" not in sign_in


def test_an_upload_through_the_form_grows_the_package_as_the_overview_shows(
    sandbox: Sandbox,
) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    package_id = sandbox.package_id
    before = sandbox.admin("GET", f"/user-packages/{package_id}")["member_count"]
    users = sandbox.users(500)[300:340]
    answer = client.post(
        "/console/sandbox/upload",
        data={
            "csrf": csrf,
            "package_id": package_id,
            "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
        },
        files={"file": ("few.csv", sandbox.openid_csv(users, ["nope"]), "text/csv")},
    )
    assert answer.status_code == 303
    job = answer.headers["location"]
    for _ in range(300):
        if 'id="job-phase">done<' in client.get(job).text:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(client.get(job).text)
    after = sandbox.admin("GET", f"/user-packages/{package_id}")["member_count"]
    assert after == before + len(users)
    overview = client.get("/console/").text
    row = re.search(
        rf'data-package="{package_id}">.*?data-field="member_count">([0-9,]+)<', overview, re.S
    )
    assert row is not None
    assert int(row.group(1).replace(",", "")) == after
