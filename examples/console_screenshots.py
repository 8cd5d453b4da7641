"""Take the console screenshots in docs/ with Debian's Chromium, from a fresh sandbox.

    .venv/bin/python examples/console_screenshots.py docs

Starts `userpkg serve --sandbox` in a temporary directory, signs in, uploads a few CSVs from
the browser (so the chart has points and the funnel has losses), sends one badly signed
request (so the request log shows a failed check), adds two fault rules, and saves
console-*.png. Only 127.0.0.1 is reachable from the browser.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, sync_playwright


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def upload(page: Page, base: str, package_id: str, data_type: str, csv: Path) -> None:
    page.goto(f"{base}/console/sandbox")
    page.select_option("#package_id", package_id)
    page.select_option("#data_type", data_type)
    page.set_input_files("#file", str(csv))
    page.click("#upload button[type=submit]")
    page.wait_for_url("**/console/sandbox/jobs/*")
    page.wait_for_selector("#job-phase:text-matches('done|failed')", timeout=120_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="userpkg-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "userpkg", "serve", "--sandbox", "--sandbox-users", "5000"]
    command += ["--data", str(work / "data"), "--port", str(port), "--log-level", "WARNING"]
    serve = subprocess.Popen(command)  # noqa: S603 (our own interpreter and arguments)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        manifest = json.loads((work / "data/sandbox/sandbox.json").read_text())
        token = (work / "data/admin-token").read_text().strip()
        admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        users = admin.get("/admin/v1/users?limit=1000").json()["data"]
        appid = manifest["bound_appids"][0]
        openids = [u["openids"][appid] for u in users]
        files = []
        for number, (start, end) in enumerate([(0, 300), (200, 650), (600, 1000)]):
            path = work / f"members-{number}.csv"
            lines = [*openids[start:end], "", "not-an-openid", openids[start]]
            path.write_text("\n".join(lines) + "\n")
            files.append(path)
        phones = work / "phones.csv"
        phones.write_text(
            "\n".join(
                hashlib.md5(u["phone"].encode(), usedforsecurity=False).hexdigest()
                for u in users[:400]
            )
            + "\n"
        )
        packages = [p["user_package_id"] for p in manifest["user_packages"]]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 860})

            def only_local(route: Route) -> None:
                local = urlsplit(route.request.url).hostname == "127.0.0.1"
                route.continue_() if local else route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.goto(f"{base}/")
            args.out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out / "console-sign-in.png")
            page.fill("#token", token)
            page.click("form[action='/console/sign-in'] button")
            page.wait_for_url(f"{base}/console/")
            for path in files:
                upload(page, base, packages[0], "USER_PACKAGE_DATA_TYPE_OPENID", path)
                time.sleep(1.1)
            upload(page, base, packages[1], "USER_PACKAGE_DATA_TYPE_MD5_PHONE", phones)
            nonce = hashlib.sha256(str(time.time()).encode()).hexdigest()[:32]
            forged = (
                f'WECHATPAY-BRAND-SHA256-RSA2048 brand_id="{manifest["brand_id"]}",'
                f'nonce_str="{nonce}",signature="AAAA",timestamp="{int(time.time())}",'
                f'serial_no="{manifest["cert_serial_no"]}"'
            )
            httpx.post(
                f"{base}/brand/marketing/user-package/uploads",
                content=b"{}",
                headers={"Authorization": forged, "Content-Type": "application/json"},
            )
            for rule in (
                {"endpoint": "expand", "kind": "error", "status": 503, "times": 2},
                {"endpoint": "upload_part", "kind": "delay", "delay_ms": 1500},
            ):
                admin.post(f"/admin/v1/brands/{manifest['brand_id']}/faults", json=rule)
            time.sleep(0.5)
            shots = {
                "overview": "/console/",
                "package": f"/console/packages/{packages[0]}",
                "brand": f"/console/brands/{manifest['brand_id']}",
                "sandbox": "/console/sandbox",
            }
            for name, path in shots.items():
                page.goto(base + path)
                page.screenshot(path=args.out / f"console-{name}.png", full_page=name != "brand")
            browser.close()
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    for shot in sorted(args.out.glob("console-*.png")):
        print(f"{shot}  {shot.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
