"""Operator API gaps of issue 11, over real HTTP on both databases: certificates from X.509,
the request log (unattributed, sign information, filters, bound), one time format, health."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from userpkg import __version__
from userpkg.core.settings import Settings, SyncDelay

from .conftest import Vectors
from .databases import database_url
from .support import PART_SIZE, PREFIX, LiveServer, SigningBrand

RFC3339_SHANGHAI = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def cert_brand(server: LiveServer, vectors: Vectors) -> tuple[str, dict[str, Any]]:
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "cert brand"})
    added = server.admin.post(
        f"/admin/v1/brands/{brand['brand_id']}/certificates",
        json={"certificate_pem": vectors.pem("brand_certificate")},
    )
    assert added.status_code == 201, added.text
    return str(brand["brand_id"]), added.json()


def test_an_x509_certificate_registers_under_its_own_serial(
    server: LiveServer, vectors: Vectors
) -> None:
    cert = x509.load_pem_x509_certificate(vectors.pem("brand_certificate").encode())
    brand_id, added = cert_brand(server, vectors)
    assert int(added["serial_no"], 16) == cert.serial_number
    assert added["source"] == "certificate"
    assert added["certificate_sha256"] == colon_hex(cert.fingerprint(hashes.SHA256()))

    listed = server.admin_ok("GET", f"/admin/v1/brands/{brand_id}/certificates")
    assert [c["serial_no"] for c in listed["data"]] == [added["serial_no"]]
    assert RFC3339_SHANGHAI.match(listed["data"][0]["added_time"])
    assert "BEGIN" not in json.dumps(listed)

    # The brand signs with the certificate's private key under that serial: accepted.
    brand = server.admin_ok("GET", f"/admin/v1/brands/{brand_id}")
    key_id = brand["platform_key_id"]
    platform_pem = server.admin_ok("GET", f"/admin/v1/platform-keys/{key_id}")["public_key_pem"]
    signer = SigningBrand(
        server.base_url,
        brand_id,
        added["serial_no"],
        vectors.brand_private_key,
        key_id,
        platform_pem,
    )
    response = signer.merge("no-such-upload")
    assert response.json()["code"] != "SIGN_ERROR", response.text


def test_a_given_serial_must_match_the_certificate_as_a_number(
    server: LiveServer, vectors: Vectors
) -> None:
    cert_pem = vectors.pem("brand_certificate")
    serial = format(x509.load_pem_x509_certificate(cert_pem.encode()).serial_number, "X")
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "serial brand"})
    path = f"/admin/v1/brands/{brand['brand_id']}/certificates"

    wrong = server.admin.post(path, json={"certificate_pem": cert_pem, "serial_no": "ABCDEF"})
    assert wrong.status_code == 400
    assert wrong.json()["detail"]["field"] == "/serial_no"
    assert serial in wrong.json()["message"]
    assert server.admin_ok("GET", f"{path}")["total_count"] == 0

    same = server.admin.post(
        path, json={"certificate_pem": cert_pem, "serial_no": "00" + serial.lower()}
    )
    assert same.status_code == 201, same.text
    assert int(same.json()["serial_no"], 16) == int(serial, 16)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"public_key_pem": "PUBLIC"}, "/serial_no"),
        ({}, None),
        ({"serial_no": "AB", "public_key_pem": "not a pem"}, "/public_key_pem"),
        ({"serial_no": "AB", "certificate_pem": "-----BEGIN CERTIFICATE-----\nxx\n"}, None),
    ],
)
def test_unusable_certificate_input_is_refused_and_adds_nothing(
    server: LiveServer, vectors: Vectors, body: dict[str, str], field: str | None
) -> None:
    if body.get("public_key_pem") == "PUBLIC":
        body = {"public_key_pem": vectors.pem("brand_public_key")}
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "bad cert brand"})
    path = f"/admin/v1/brands/{brand['brand_id']}/certificates"
    response = server.admin.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "PARAM_ERROR"
    if field is not None:
        assert response.json()["detail"]["field"] == field
    assert server.admin_ok("GET", path)["total_count"] == 0


def test_a_public_key_with_its_serial_is_still_accepted(
    server: LiveServer, vectors: Vectors
) -> None:
    brand = server.admin_ok("POST", "/admin/v1/brands", {"name": "key brand"})
    path = f"/admin/v1/brands/{brand['brand_id']}/certificates"
    response = server.admin.post(
        path, json={"serial_no": "5A5A", "public_key_pem": vectors.pem("brand_public_key")}
    )
    assert response.status_code == 201, response.text
    listed = server.admin_ok("GET", path)["data"]
    assert [(c["serial_no"], c["source"], c["certificate_sha256"]) for c in listed] == [
        ("5A5A", "public_key", None)
    ]


def test_unknown_brand_requests_are_logged_apart(server: LiveServer) -> None:
    brand = server.new_brand()
    forged = SigningBrand(
        server.base_url,
        "NoSuchBrand42",
        brand.serial_no,
        brand.private_key,
        brand.platform_key_id,
        brand.platform_public_pem,
    )
    response = forged.merge("u1")
    assert response.json()["code"] == "SIGN_ERROR"
    request_id = response.headers["Request-ID"]

    found = server.admin_ok("GET", f"/admin/v1/requests/unattributed?request_id={request_id}")
    assert [(e["claimed_brand_id"], e["auth"], e["status"]) for e in found["data"]] == [
        ("NoSuchBrand42", "unknown brand", 401)
    ]
    assert RFC3339_SHANGHAI.match(found["data"][0]["time"])
    own = server.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}/requests?limit=1000")
    assert request_id not in {e["request_id"] for e in own["data"]}


def test_a_bad_signature_logs_the_services_string_to_sign_and_no_secret(
    server: LiveServer,
) -> None:
    brand = server.new_brand()
    body = json.dumps({"upload_id": "u1"}).encode()
    path = f"{PREFIX}/user-packages/00000000000000000001/expand"
    response = brand.send("POST", path, body, signed_body=b'{"upload_id":"u2"}')
    assert response.json()["code"] == "SIGN_ERROR"
    request_id = response.headers["Request-ID"]
    sent_signature = re.search(r'signature="([^"]+)"', response.request.headers["Authorization"])
    assert sent_signature is not None

    log = server.admin_ok(
        "GET", f"/admin/v1/brands/{brand.brand_id}/requests?request_id={request_id}"
    )
    [entry] = log["data"]
    assert entry["auth"] == "bad signature"
    shown = entry["sign_information"]["truncated_sign_message"]
    assert shown.startswith(f"POST\n{path}\n")
    assert '{"upload_id": "u1"}' in shown
    text = json.dumps(entry)
    assert sent_signature.group(1) not in text
    assert "PRIVATE" not in text
    assert "BEGIN" not in text


def test_request_log_filters_by_status_and_request_id(server: LiveServer) -> None:
    brand = server.new_brand()
    ok = brand.init_upload(b"x" * 10)
    assert ok.status_code == 200, ok.text
    bad = brand.merge("no-such-upload")
    assert bad.status_code >= 400
    base = f"/admin/v1/brands/{brand.brand_id}/requests"
    by_status = server.admin_ok("GET", f"{base}?status={bad.status_code}")["data"]
    assert [e["request_id"] for e in by_status] == [bad.headers["Request-ID"]]
    by_id = server.admin_ok("GET", f"{base}?request_id={ok.headers['Request-ID']}")["data"]
    assert [(e["status"], e["code"]) for e in by_id] == [(200, None)]
    refused = server.admin.get(f"{base}?status=abc")
    assert (refused.status_code, refused.json()["code"]) == (400, "PARAM_ERROR")


def test_every_operator_time_is_rfc3339_in_shanghai(server: LiveServer) -> None:
    brand = server.new_brand()
    package = server.new_package(brand.brand_id)
    upload_id = brand.upload(b"nobody-with-this-openid-xxxx\n", PART_SIZE)
    assert brand.expand(package, upload_id).status_code == 200
    times = [
        server.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}")["create_time"],
        server.admin_ok("GET", "/admin/v1/brands?limit=1")["data"][0]["create_time"],
        server.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}/certificates")["data"][0][
            "added_time"
        ],
        server.admin_ok("GET", f"/admin/v1/user-packages/{package}")["create_time"],
        server.admin_ok("GET", f"/admin/v1/user-packages/{package}/tasks")["data"][0][
            "submit_time"
        ],
        server.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}/requests")["data"][0]["time"],
        server.admin_ok("GET", "/admin/v1/clock")["now"],
    ]
    for shown in times:
        assert RFC3339_SHANGHAI.match(shown), shown


def test_health_and_readiness_report_version_database_and_worker(
    server: LiveServer, backend: str
) -> None:
    for path, status in (("/healthz", "ok"), ("/readyz", "ready")):
        report = httpx.get(f"{server.base_url}{path}").json()
        assert report["status"] == status
        assert report["version"] == __version__
        assert report["database"] == {
            "kind": "sqlite" if backend == "sqlite" else "postgresql",
            "state": "ok",
        }
        assert report["worker"]["processing_in_process"] is True
        assert report["worker"]["tasks_queued"] >= 0


def test_metrics_show_bytes_tasks_and_package_sizes(server: LiveServer) -> None:
    def scrape() -> str:
        return httpx.get(f"{server.base_url}/metrics").text

    def received(text: str) -> float:
        found = re.search(r'^userpkg_received_bytes_total\{api="brand"\} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    before = received(scrape())
    brand = server.new_brand()
    package = server.new_package(brand.brand_id)
    data = b"metrics-openid-not-known-xxxx\n" * 3
    upload_id = brand.upload(data, PART_SIZE)
    assert brand.expand(package, upload_id).status_code == 200
    text = scrape()
    assert received(text) - before >= len(data)
    assert re.search(r"^userpkg_tasks\{state=\"USER_PACKAGE_PROCESS_STATE_\w+\"\} \d", text, re.M)
    assert re.search(
        rf'^userpkg_package_members\{{brand_id="{brand.brand_id}",'
        rf'user_package_id="{package}"\}} 0\.0$',
        text,
        re.M,
    )
    assert re.search(r"^userpkg_task_queue_oldest_seconds \d", text, re.M)


@pytest.fixture
def small_log(tmp_path: Path, backend: str) -> Iterator[LiveServer]:
    with database_url(backend) as db_url:
        live = LiveServer(
            Settings(
                data_dir=tmp_path,
                db_url=db_url,
                sandbox=True,
                sync_delay=SyncDelay(seconds=0),
                request_log_keep=3,
                rate_per_second=1000,
                rate_burst=1000,
            )
        )
        yield live
        live.stop()


def test_the_request_log_keeps_a_bounded_number_per_brand_and_unattributed(
    small_log: LiveServer,
) -> None:
    brand = small_log.new_brand()
    for _ in range(5):
        brand.merge("nothing")
        httpx.post(f"{small_log.base_url}{PREFIX}/uploads/x", headers={"Authorization": "garbage"})
    assert Settings().request_log_keep == 1000
    own = small_log.admin_ok("GET", f"/admin/v1/brands/{brand.brand_id}/requests?limit=100")
    apart = small_log.admin_ok("GET", "/admin/v1/requests/unattributed?limit=100")
    assert (len(own["data"]), len(apart["data"])) == (3, 3)
    assert {e["auth"] for e in apart["data"]} == {"bad Authorization header"}
