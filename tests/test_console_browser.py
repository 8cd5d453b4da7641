"""The console in headless Chromium with no internet: sign-in, every page's numbers against
the operator API, a CSV uploaded from the browser growing a package, CSRF refusal.

Debian's Chromium drives it (never a downloaded browser); every request that is not to
127.0.0.1 is blocked and recorded, so a page that needed a CDN would fail here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .console_support import Sandbox, md5, sandbox
from .processes import free_port

__all__ = ["sandbox"]

CHROMIUM = Path(os.environ.get("USERPKG_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set USERPKG_CHROMIUM)",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

PROCESSING = "USER_PACKAGE_PROCESS_STATE_PROCESSING"
FAILED = "USER_PACKAGE_PROCESS_STATE_FAILED"
FINISHED = "USER_PACKAGE_PROCESS_STATE_FINISHED"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Tab:
    """One browser tab that may talk only to 127.0.0.1 and remembers what it was denied."""

    def __init__(self, browser: Any, box: Sandbox) -> None:
        self.box = box
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.blocked: list[str] = []
        self.context.route("**/*", self._only_local)

    def _only_local(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, path: str) -> Any:
        response = self.page.goto(self.box.base_url + path)
        assert response is not None
        return response

    def sign_in(self) -> None:
        self.open("/")
        assert self.page.url.endswith("/console/sign-in")
        self.page.fill("#token", self.box.token)
        self.page.click("form[action='/console/sign-in'] button")
        self.page.wait_for_url(f"{self.box.base_url}/console/")

    def number(self, selector: str) -> int:
        return int(self.page.inner_text(selector).replace(",", "").strip())


@pytest.fixture
def tab(browser: Any, sandbox: Sandbox) -> Iterator[Tab]:
    opened = Tab(browser, sandbox)
    opened.sign_in()
    yield opened
    assert opened.blocked == [], "the console asked for something off this host"
    opened.context.close()


def _tasks(box: Sandbox, package_id: str) -> list[dict[str, Any]]:
    return list(box.admin("GET", f"/user-packages/{package_id}/tasks?limit=1000")["data"])


def _upload_in_browser(tab: Tab, package_id: str, csv: Path) -> None:
    tab.open("/console/sandbox")
    tab.page.select_option("#package_id", package_id)
    tab.page.select_option("#data_type", "USER_PACKAGE_DATA_TYPE_OPENID")
    tab.page.set_input_files("#file", str(csv))
    tab.page.click("#upload button[type=submit]")
    tab.page.wait_for_url(re.compile(r".*/console/sandbox/jobs/[^/]+$"))
    tab.page.wait_for_selector("#job-phase:text-matches('done|failed')", timeout=90_000)
    assert tab.page.inner_text("#job-phase") == "done", tab.page.inner_text("main")


def test_sign_in_with_a_wrong_token_stays_out(browser: Any, sandbox: Sandbox) -> None:
    tab = Tab(browser, sandbox)
    tab.open("/console/")
    tab.page.fill("#token", "not the token")
    tab.page.click("form[action='/console/sign-in'] button")
    assert "not the operator token" in tab.page.inner_text("[role=alert]")
    assert tab.open("/console/sandbox").url.endswith("/console/sign-in")
    assert tab.blocked == []
    tab.context.close()


def test_a_csv_uploaded_from_the_browser_grows_the_package(
    tab: Tab, sandbox: Sandbox, tmp_path: Path
) -> None:
    package_id = sandbox.package_id
    before = sandbox.admin("GET", f"/user-packages/{package_id}")["member_count"]
    users = sandbox.users(300)[100:220]
    csv = tmp_path / "members.csv"
    csv.write_bytes(
        sandbox.openid_csv(
            users, ["", "not-an-openid", users[0]["openids"][sandbox.manifest["bound_appids"][0]]]
        )
    )

    _upload_in_browser(tab, package_id, csv)

    after = sandbox.admin("GET", f"/user-packages/{package_id}")["member_count"]
    assert after == before + len(users)
    task = _tasks(sandbox, package_id)[-1]
    assert task["state"] == FINISHED
    assert task["stats"]["lines"] == len(users) + 3
    assert task["stats"]["added"] == len(users)

    tab.open(f"/console/packages/{package_id}")
    assert tab.number("[data-metric=member_count]") == after
    funnel = f"tbody[data-upload='{task['upload_id']}'] [data-stage]"
    shown = {
        el.get_attribute("data-stage"): int(el.get_attribute("data-count"))
        for el in tab.page.query_selector_all(funnel)
    }
    stats = task["stats"]
    assert shown == {
        "lines": stats["lines"],
        "non-blank": stats["lines"] - stats["blank"],
        "well-formed": stats["lines"] - stats["blank"] - stats["malformed"],
        "matched": stats["matched"],
        "distinct": stats["matched"] - stats["duplicates"],
        "added": stats["added"],
    }
    finished = [t for t in _tasks(sandbox, package_id) if t["state"] == FINISHED]
    points = tab.page.query_selector_all("svg.chart circle.point")
    assert len(points) == len(finished) + 1
    assert int(points[-1].get_attribute("data-members")) == after


def test_overview_numbers_are_the_operator_apis(tab: Tab, sandbox: Sandbox) -> None:
    tab.open("/console/")
    brands = sandbox.admin("GET", "/brands?limit=1000")
    assert tab.number("[data-metric=brands]") == brands["total_count"]
    processing = failed = members = packages_seen = 0
    for brand in brands["data"]:
        listed = sandbox.admin("GET", f"/brands/{brand['brand_id']}/user-packages?limit=1000")
        for package in listed["data"]:
            row = f"tr[data-package='{package['user_package_id']}']"
            states = [t["state"] for t in _tasks(sandbox, package["user_package_id"])]
            assert tab.number(f"{row} [data-field=member_count]") == package["member_count"]
            assert tab.number(f"{row} [data-field=processing]") == states.count(PROCESSING)
            assert tab.number(f"{row} [data-field=failed]") == states.count(FAILED)
            assert tab.number(f"{row} [data-field=finished]") == states.count(FINISHED)
            processing += states.count(PROCESSING)
            failed += states.count(FAILED)
            members += package["member_count"]
            packages_seen += 1
    assert tab.number("[data-metric=packages]") == packages_seen
    assert tab.number("[data-metric=members]") == members
    assert tab.number("[data-metric=processing]") == processing
    assert tab.number("[data-metric=failed]") == failed


def test_brand_page_matches_the_operator_api(tab: Tab, sandbox: Sandbox) -> None:
    brand_id = sandbox.manifest["brand_id"]
    tab.open(f"/console/brands/{brand_id}")
    brand = sandbox.admin("GET", f"/brands/{brand_id}")
    assert tab.page.inner_text("#serials").split() == [sandbox.manifest["cert_serial_no"]]
    assert sorted(tab.page.inner_text("#appids").split()) == sorted(brand["appids"])
    assert brand["platform_key_id"] in tab.page.inner_text("#platform-keys")
    assert "granted" in tab.page.inner_text("[data-field=permission]")
    logged = sandbox.admin("GET", f"/brands/{brand_id}/requests?limit=100")["data"]
    shown = [
        el.get_attribute("data-request-id")
        for el in tab.page.query_selector_all("#requests tr[data-request-id]")
    ]
    assert shown
    assert shown == [entry["request_id"] for entry in logged][: len(shown)]
    listed = sandbox.admin("GET", f"/brands/{brand_id}/user-packages")["data"]
    for package in listed:
        row = f"tr[data-package='{package['user_package_id']}'] [data-field=member_count]"
        assert tab.number(row) == package["member_count"]


def test_membership_lookup_answers_as_the_operator_api(tab: Tab, sandbox: Sandbox) -> None:
    package_id = sandbox.package_id
    appid = sandbox.manifest["bound_appids"][0]
    users = sandbox.users(600)
    member = next(
        u
        for u in users
        if sandbox.admin(
            "POST", f"/user-packages/{package_id}/members/check", {"user_id": u["user_id"]}
        )["member"]
    )
    outsider = users[-1]
    assert not sandbox.admin(
        "POST", f"/user-packages/{package_id}/members/check", {"user_id": outsider["user_id"]}
    )["member"]

    def ask(how: str, value: str, appid_value: str = "") -> str | None:
        tab.open(f"/console/packages/{package_id}")
        tab.page.select_option("#how", how)
        tab.page.fill("#appid", appid_value)
        tab.page.fill("#value", value)
        tab.page.click("#lookup button")
        return str(tab.page.get_attribute("#lookup-answer", "data-member"))

    assert ask("phone", member["phone"]) == "true"
    assert ask("md5_phone", md5(member["phone"]).upper()) == "true"
    assert ask("openid", member["openids"][appid], appid) == "true"
    assert ask("phone", outsider["phone"]) == "false"
    assert ask("openid", outsider["openids"][appid], appid) == "false"
    tab.open(f"/console/packages/{package_id}")
    tab.page.select_option("#how", "phone")
    tab.page.fill("#value", "12")
    tab.page.click("#lookup button")
    assert "11 digits" in tab.page.inner_text("[role=alert]")


def test_a_form_without_its_token_changes_nothing(tab: Tab, sandbox: Sandbox) -> None:
    before = sandbox.admin("GET", "/clock")["offset_seconds"]
    tab.open("/console/sandbox")
    tab.page.eval_on_selector("#clock input[name=csrf]", "e => e.remove()")
    tab.page.click("#clock button")
    assert "CSRF" in tab.page.inner_text("[role=alert]")
    assert sandbox.admin("GET", "/clock")["offset_seconds"] == before

    tab.open("/console/sandbox")
    tab.page.click("#clock button")
    tab.page.wait_for_url(f"{sandbox.base_url}/console/sandbox")
    assert sandbox.admin("GET", "/clock")["offset_seconds"] == before + 86400


def test_a_page_on_another_port_cannot_post_the_consoles_forms(tab: Tab, sandbox: Sandbox) -> None:
    """Same host, other port: same-site (the session cookie goes along) but not same-origin."""
    before = sandbox.admin("GET", "/clock")["offset_seconds"]
    tab.open("/console/sandbox")
    csrf = tab.page.get_attribute("#clock input[name=csrf]", "value")
    evil = f"http://127.0.0.1:{free_port()}/prize"
    page = (
        "<!doctype html><form id=f method=post "
        f"action='{sandbox.base_url}/console/sandbox/clock'>"
        f"<input name=seconds value=604800><input name=csrf value='{csrf}'></form>"
        "<script>document.getElementById('f').submit()</script>"
    )
    tab.page.route(evil, lambda route: route.fulfill(body=page, content_type="text/html"))
    with tab.page.expect_response(f"{sandbox.base_url}/console/sandbox/clock") as answer:
        tab.page.goto(evil)
    assert answer.value.status == 403
    assert sandbox.admin("GET", "/clock")["offset_seconds"] == before


def test_fault_rules_and_reset_from_the_sandbox_page(tab: Tab, sandbox: Sandbox) -> None:
    brand_id = sandbox.manifest["brand_id"]
    tab.open("/console/sandbox")
    tab.page.select_option("#fault-endpoint", "init_upload")
    tab.page.select_option("#fault-kind", "delay")
    tab.page.fill("#fault-times", "2")
    tab.page.fill("#fault-delay", "10")
    tab.page.click("#add-fault button[type=submit]")
    tab.page.wait_for_selector("#fault-rules")
    [rule] = sandbox.admin("GET", f"/brands/{brand_id}/faults")["data"]
    assert (rule["endpoint"], rule["kind"], rule["delay_ms"], rule["times"]) == (
        "init_upload",
        "delay",
        10,
        2,
    )
    row = f"tr[data-fault-id='{rule['fault_id']}']"
    assert tab.page.inner_text(f"{row} [data-field=remaining]") == "2 of 2"

    tab.page.click(f"{row} button")
    tab.page.wait_for_selector("#no-faults")
    assert sandbox.admin("GET", f"/brands/{brand_id}/faults")["data"] == []

    tab.page.click("#reset-form button")
    assert tab.page.url.endswith("/console/sandbox#faults"), "an unticked reset is not sent"
    tab.page.check("#reset-form input[name=confirm]")
    tab.page.click("#reset-form button")
    tab.page.wait_for_selector("text=packages emptied")
    for package in sandbox.manifest["user_packages"]:
        view = sandbox.admin("GET", f"/user-packages/{package['user_package_id']}")
        assert view["member_count"] == 0


@pytest.mark.parametrize(("page", "shows"), [("/docs", ".opblock"), ("/redoc", "h1")])
def test_api_docs_render_and_ask_nothing_of_another_host(
    browser: Any, sandbox: Sandbox, page: str, shows: str
) -> None:
    tab = Tab(browser, sandbox)
    tab.open(page)
    tab.page.wait_for_selector(shows, timeout=30_000)
    assert "userpkg" in tab.page.inner_text("body")
    tab.page.wait_for_timeout(500)
    assert tab.blocked == [], "the docs asked for something off this host"
    tab.context.close()
