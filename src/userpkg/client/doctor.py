"""`userpkg doctor`: is this machine set up to talk to the service? (SPEC §9)

Offline first (each key file is what its field expects), then one signed request that
changes nothing (an expand of a package that does not exist): the host answers, the service
accepts our signature for `cert_serial_no`, it signs with `platform_public_key_id` and the
key we hold verifies it, and our clock agrees with its `Wechatpay-Timestamp`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from userpkg.client.client import PREFIX
from userpkg.client.credentials import Credentials, CredentialsError
from userpkg.protocol import BrandCredential, RsaSigner, response_message, verify_signature
from userpkg.protocol.responses import MAX_SKEW_SECONDS

PROBE_PACKAGE = "0" * 20
PROBE_UPLOAD = "userpkg-doctor-probe"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def examine(creds: Credentials, timeout: float = 10.0) -> list[Check]:
    checks: list[Check] = []
    private_key = platform_key = None
    try:
        private_key = creds.private_key()
        checks.append(Check("private key", True, f"{creds.private_key_path} is an RSA private key"))
    except CredentialsError as exc:
        checks.append(Check("private key", False, str(exc), "point private_key_path at it"))
    try:
        platform_key = creds.platform_public_key()
        checks.append(
            Check(
                "platform public key",
                True,
                f"{creds.platform_public_key_path} is an RSA public key",
            )
        )
    except CredentialsError as exc:
        checks.append(
            Check(
                "platform public key",
                False,
                str(exc),
                "point platform_public_key_path at the platform public key (PUB_KEY_ID_…)",
            )
        )
    url = creds.base_url + f"{PREFIX}/user-packages/{PROBE_PACKAGE}/expand"
    body = json.dumps({"upload_id": PROBE_UPLOAD}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Wechatpay-Serial": creds.platform_public_key_id,
    }
    if private_key is not None:
        signer = BrandCredential(creds.brand_id, creds.cert_serial_no, RsaSigner(private_key))
        path = url[len(creds.base_url) :]
        headers["Authorization"] = signer.authorize("POST", path, body).header()
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        checks.append(
            Check(
                "host",
                False,
                f"no answer from {creds.base_url} ({exc})",
                "check base_url (scheme, host, port) and that the service is running",
            )
        )
        return checks
    checks.append(Check("host", True, f"{creds.base_url} answers (HTTP {response.status_code})"))
    checks.extend(_answer(creds, response, platform_key, signed=private_key is not None))
    return checks


def _answer(
    creds: Credentials, response: httpx.Response, platform_key: Any, *, signed: bool
) -> list[Check]:
    checks: list[Check] = []
    stamp = response.headers.get("Wechatpay-Timestamp", "")
    if stamp.isdigit():
        skew = time.time() - int(stamp)
        checks.append(
            Check(
                "clock",
                abs(skew) < MAX_SKEW_SECONDS,
                f"local clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} "
                "the service's Wechatpay-Timestamp",
                None if abs(skew) < MAX_SKEW_SECONDS else "set the clock right (NTP)",
            )
        )
    else:
        checks.append(
            Check(
                "clock",
                False,
                "the answer has no Wechatpay-Timestamp header",
                "is base_url the brand API host?",
            )
        )
    serial = response.headers.get("Wechatpay-Serial", "")
    if serial == creds.platform_public_key_id:
        checks.append(Check("platform_public_key_id", True, f"the service signs with {serial}"))
        signature = response.headers.get("Wechatpay-Signature", "")
        nonce = response.headers.get("Wechatpay-Nonce", "")
        if platform_key is not None:
            good = verify_signature(
                platform_key, response_message(stamp, nonce, response.content), signature
            )
            checks.append(
                Check(
                    "response signature",
                    good,
                    "the service's signature verifies with platform_public_key_path"
                    if good
                    else "the signature does not verify with platform_public_key_path",
                    None if good else f"platform_public_key_path must hold the key {serial}",
                )
            )
    elif signed:
        checks.append(
            Check(
                "platform_public_key_id",
                False,
                f"the service signs with {serial or 'no key id'}, not "
                f"{creds.platform_public_key_id}",
                f"set platform_public_key_id = {serial!r} and platform_public_key_path to "
                "that key's file",
            )
        )
    else:
        # Unsigned, the service cannot tell whose request it is, so its key says nothing
        # about the brand's: only that the id named is not one of its keys.
        checks.append(
            Check(
                "platform_public_key_id",
                False,
                f"the service has no platform key {creds.platform_public_key_id}",
                "set platform_public_key_id to your brand's platform key id (PUB_KEY_ID_…); "
                "run doctor again once the private key loads, and it names the right one",
            )
        )
    if not signed:
        return checks
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        data = {}
    if response.status_code == 401:
        message = str(data.get("message", ""))
        fix = "check brand_id, cert_serial_no and private_key_path"
        if "serial_no" in message:
            fix = "set cert_serial_no to the serial number of a certificate registered for brand_id"
        elif "brand" in message:
            fix = "check brand_id"
        elif "timestamp" in message:
            fix = "set the clock right (NTP)"
        elif "signature" in message:
            fix = (
                "private_key_path does not belong to the certificate cert_serial_no: use the "
                "private key of that certificate"
            )
        checks.append(Check("signed request", False, f"refused: {message}", fix))
    else:
        checks.append(
            Check(
                "signed request",
                True,
                f"the service accepted a request signed with private_key_path for "
                f"{creds.cert_serial_no} (brand {creds.brand_id})",
            )
        )
    return checks


def sources(creds: Credentials) -> dict[str, dict[str, str]]:
    shown: dict[str, dict[str, str]] = {}
    for name in (
        "base_url",
        "brand_id",
        "cert_serial_no",
        "private_key_path",
        "platform_public_key_id",
        "platform_public_key_path",
    ):
        value = getattr(creds, name)
        shown[name] = {
            "value": str(value) if isinstance(value, Path | str) else repr(value),
            "source": creds.sources.get(name, "?"),
        }
    return shown
