"""A request signed by hand with openssl and sent with curl, as in the public curl guide."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import PART_SIZE, Vectors
from .support import PREFIX, LiveServer

SCRIPT = r"""
set -euo pipefail
ts=$(date +%s)
nonce=$(openssl rand -hex 16)
body="{\"upload_id\":\"$UPLOAD\"}"
url="$PREFIX/user-packages/$PACKAGE/expand"
signature=$(printf 'POST\n%s\n%s\n%s\n%s\n' "$url" "$ts" "$nonce" "$body" \
  | openssl dgst -sha256 -sign "$KEY" | openssl base64 -A)
auth="WECHATPAY-BRAND-SHA256-RSA2048 brand_id=\"$BRAND\",nonce_str=\"$nonce\""
auth="$auth,timestamp=\"$ts\",serial_no=\"$SERIAL\",signature=\"$signature\""
for attempt in first replay; do
  curl -s -X POST "$BASE$url" \
    -H "Authorization: $auth" -H "Content-Type: application/json" \
    -H "Accept: application/json" -H "Wechatpay-Serial: $PLATFORM" \
    -d "$body" -w "\n%{http_code}\n"
done
"""


@pytest.mark.skipif(
    not (shutil.which("openssl") and shutil.which("curl") and shutil.which("bash")),
    reason="needs openssl, curl and bash on PATH",
)
def test_hand_signed_request_is_accepted_and_its_replay_refused(
    server: LiveServer, vectors: Vectors, tmp_path: Path
) -> None:
    brand = server.new_brand(vectors.brand_private_key, vectors.data["cert_serial_no"])
    package = server.new_package(brand.brand_id)
    upload_id = brand.upload(b"hello openssl\n" * 100, PART_SIZE)
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "BASE": server.base_url,
        "PREFIX": PREFIX,
        "PACKAGE": package,
        "UPLOAD": upload_id,
        "BRAND": brand.brand_id,
        "SERIAL": brand.serial_no,
        "PLATFORM": brand.platform_key_id,
        "KEY": str(vectors.directory / vectors.data["files"]["brand_private_key"]),
    }
    out = subprocess.run(
        ["bash", "-c", SCRIPT], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    first_body, first_status, replay_body, replay_status = out[0], out[1], out[2], out[3]
    assert first_status == "200", first_body
    assert '"state":"USER_PACKAGE_PROCESS_STATE_PROCESSING"' in first_body
    assert replay_status == "401", replay_body
    assert "replay" in replay_body
