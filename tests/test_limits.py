"""The server's limits, seen from a raw socket against a real `userpkg serve` process.

Header floods, slow clients, garbage request lines, oversized and abandoned bodies: each is
refused or survived with a contract-shaped answer (JSON code/message, Request-ID, signed on
brand paths), never a 5xx, and the service keeps answering everyone else meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.databases import database_url
from tests.processes import ServiceProcess
from tests.support import PREFIX, Operator, SigningBrand
from userpkg.protocol import ResponseValidator, load_public_key
from userpkg.protocol.multipart import encode_part_upload

SPEC_CODES = {
    "PARAM_ERROR",
    "INVALID_REQUEST",
    "SIGN_ERROR",
    "NO_AUTH",
    "NOT_FOUND",
    "RATELIMIT_EXCEEDED",
    "SYSTEM_ERROR",
}


@dataclass
class Served:
    process: ServiceProcess
    operator: Operator
    brand: SigningBrand

    @property
    def port(self) -> int:
        return self.process.port

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")

    def statuses(self) -> dict[str, float]:
        """Requests counted per status in /metrics."""
        text = httpx.get(f"{self.process.base_url}/metrics").text
        counts: dict[str, float] = {}
        for status, value in re.findall(
            r'^userpkg_http_requests_total\{[^}]*status="(\d+)"[^}]*\} (\S+)', text, re.M
        ):
            counts[status] = counts.get(status, 0.0) + float(value)
        return counts


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with database_url(str(request.param)) as db_url:
        data = tmp_path_factory.mktemp("limits")
        token = secrets.token_urlsafe(16)
        args = ["serve", "--data", str(data), "--sync-delay", "0s", "--rate-limit", "1000"]
        args += ["--rate-burst", "1000", "--header-timeout", "1", "--body-timeout", "1"]
        if db_url is not None:
            args += ["--db", db_url]
        process = ServiceProcess(args, data / "serve.log", env={"USERPKG_ADMIN_TOKEN": token})
        try:
            process.wait_healthy()
            operator = Operator(process.base_url, token)
            yield Served(process, operator, operator.new_brand())
        finally:
            process.stop()


def raw_exchange(
    port: int, head: bytes, body_chunks: tuple[bytes, ...] = (), wait: float = 5
) -> bytes:
    """Send bytes from a thread (the server may stop reading) and read the answer until close."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(wait)

    def write() -> None:
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    received = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    except TimeoutError:
        pass
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    return received


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), raw[:200]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_contract(
    served: Served, raw: bytes, status: int, *, signed: bool = True
) -> dict[str, str]:
    """A contract answer: the status, JSON code/message, Request-ID, a verifiable signature."""
    code, headers, body = parse(raw)
    assert code == status, raw[:500]
    assert headers.get("content-type") == "application/json"
    assert headers.get("request-id")
    problem = json.loads(body)
    assert problem["code"] in SPEC_CODES
    assert problem["message"]
    if signed:
        key_id = headers["wechatpay-serial"]
        pem = served.operator.admin_ok("GET", f"/admin/v1/platform-keys/{key_id}")["public_key_pem"]
        ResponseValidator(key_id, load_public_key(pem)).validate(headers, body)
    return dict(problem)


def test_a_header_flood_is_refused_at_the_limit_while_others_are_served(served: Served) -> None:
    flood = b"GET " + PREFIX.encode() + b"/uploads/x/1 HTTP/1.1\r\nHost: t\r\nX-Fill: "
    result: dict[str, bytes] = {}
    flooder = threading.Thread(
        target=lambda: result.update(raw=raw_exchange(served.port, flood + b"a" * (1 << 20)))
    )
    flooder.start()
    started = time.monotonic()
    assert httpx.get(f"{served.process.base_url}/healthz", timeout=5).status_code == 200
    assert time.monotonic() - started < 2
    flooder.join(10)
    problem = assert_contract(served, result["raw"], 431)
    assert problem["code"] == "INVALID_REQUEST"
    assert "32768 bytes" in problem["message"]


def test_a_request_target_over_the_limit_gets_a_contract_answer(served: Served) -> None:
    raw = raw_exchange(
        served.port, b"GET /brand/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    assert_contract(served, raw, 431)


def test_raw_non_ascii_bytes_in_the_path_get_a_signed_400(served: Served) -> None:
    raw = raw_exchange(served.port, b"GET /brand/\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n")
    problem = assert_contract(served, raw, 400)
    assert "ASCII" in problem["message"]


def test_headers_sent_slowly_are_cut_off_with_408(served: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.settimeout(5)
    started = time.monotonic()
    sock.sendall(b"GET /brand/marketing HTTP/1.1\r\n")
    received = b""
    try:
        for i in range(20):
            sock.sendall(b"X-Slow-%d: 1\r\n" % i)
            time.sleep(0.25)
    except OSError:
        pass
    try:
        while data := sock.recv(65536):
            received += data
    except (TimeoutError, ConnectionResetError):
        pass
    sock.close()
    assert time.monotonic() - started < 4
    problem = assert_contract(served, received, 408)
    assert "within 1 seconds" in problem["message"]


def test_many_idle_connections_are_all_closed_by_the_header_timeout(served: Served) -> None:
    socks = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(50)]
    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nX-A: 1\r\n")
        sock.settimeout(4)
    closed = 0
    for sock in socks:
        try:
            while sock.recv(65536):
                pass
            closed += 1
        except TimeoutError:
            pass
        except ConnectionResetError:
            closed += 1
        sock.close()
    assert closed == 50


def test_a_body_that_stalls_is_dropped_as_client_closed_not_500(served: Served) -> None:
    before = served.statuses()
    token = served.operator.admin.headers["Authorization"].encode()
    head = b"POST /admin/v1/brands HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    head += b"Authorization: " + token + b"\r\nContent-Length: 100\r\n\r\n{"
    started = time.monotonic()
    raw = raw_exchange(served.port, head, wait=5)
    assert time.monotonic() - started < 4
    assert raw == b""
    after = served.statuses()
    assert after.get("500", 0) == before.get("500", 0)
    assert after.get("499", 0) == before.get("499", 0) + 1


@pytest.mark.parametrize("endpoint", ["init_upload", "upload_part"])
def test_a_client_leaving_mid_body_is_499_without_a_traceback(
    served: Served, endpoint: str
) -> None:
    path = f"{PREFIX}/uploads" if endpoint == "init_upload" else f"{PREFIX}/uploads/1/1"
    method = b"POST" if endpoint == "init_upload" else b"PUT"
    kind = b"application/json" if endpoint == "init_upload" else b"multipart/form-data; boundary=b"
    before = served.statuses()
    auth = served.brand.credential.authorize(method.decode(), path, b"x" * 5000).header()
    head = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nContent-Type: " + kind
    head += b"\r\nAuthorization: " + auth.encode() + b"\r\nContent-Length: 5000\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", served.port))
    part = b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
    sock.sendall(head + (b"x" if endpoint == "init_upload" else part) + b"x" * 100)
    time.sleep(0.3)
    sock.close()
    deadline = time.monotonic() + 5
    while served.statuses().get("499", 0) == before.get("499", 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    after = served.statuses()
    assert after.get("499", 0) == before.get("499", 0) + 1
    assert after.get("500", 0) == before.get("500", 0)
    assert "Traceback" not in served.log()
    assert "unhandled error" not in served.log()


def test_a_multipart_boundary_over_256_characters_is_a_400_not_a_500(served: Served) -> None:
    boundary = "b" * 300
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="file_meta"\r\n\r\n{{}}\r\n'
    response = served.brand.send(
        "PUT",
        f"{PREFIX}/uploads/1/1",
        body.encode(),
        signed_body=b"",
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400, response.text
    problem = served.brand.verified(response)
    assert problem["code"] == "PARAM_ERROR"
    assert "retrying" not in problem["message"]
    assert "Traceback" not in served.log()


def test_a_non_ascii_digit_user_id_is_404(served: Served) -> None:
    response = served.operator.admin.get("/admin/v1/users/%C2%B9")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "NOT_FOUND"


def test_an_oversized_operator_body_is_refused_from_content_length_before_reading(
    served: Served,
) -> None:
    token = served.operator.admin.headers["Authorization"].encode()
    head = (
        b"POST /admin/v1/brands HTTP/1.1\r\nHost: t\r\nAuthorization: "
        + token
        + b"\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    )
    started = time.monotonic()
    problem = assert_contract(served, raw_exchange(served.port, head, wait=3), 413, signed=False)
    assert time.monotonic() - started < 2.5
    assert "16777216 bytes" in problem["message"]


def test_a_chunked_operator_body_stops_being_read_past_the_limit(served: Served) -> None:
    token = served.operator.admin.headers["Authorization"].encode()
    head = (
        b"POST /admin/v1/brands HTTP/1.1\r\nHost: t\r\nAuthorization: "
        + token
        + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
    raw = raw_exchange(served.port, head, (chunk,) * 64, wait=5)
    assert_contract(served, raw, 413, signed=False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{PREFIX}/uploads"),
        ("DELETE", f"{PREFIX}/uploads/1/1"),
        ("POST", f"{PREFIX}/uploads/"),
        ("POST", f"{PREFIX}/uploads%2F"),
    ],
)
def test_wrong_methods_and_slashes_get_a_signed_404_and_no_redirect(
    served: Served, method: str, path: str
) -> None:
    response = served.brand.send(method, path, b"{}", headers={"Host": "evil.example"})
    assert response.status_code == 404, response.text
    assert "location" not in response.headers
    assert served.brand.verified(response)["code"] == "NOT_FOUND"
    assert response.headers["request-id"]


H2C = (
    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
    "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
)
"""What Java's java.net.http.HttpClient adds to every request on http:// (it asks for HTTP/2)."""


def signed_head(brand: SigningBrand, method: str, path: str, body: bytes, signed: bytes) -> str:
    auth = brand.credential.authorize(method, path, signed).header()
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
        f"Wechatpay-Serial: {brand.platform_key_id}\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{H2C}"
    )


def answers(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses on one connection, split by their Content-Length."""
    found = []
    while raw:
        code, headers, rest = parse(raw)
        length = int(headers["content-length"])
        found.append((code, headers, rest[:length]))
        raw = rest[length:]
    return found


def test_an_upgrade_to_h2c_is_ignored_and_the_body_still_read(served: Served) -> None:
    """Java's HttpClient on http:// sends `Upgrade: h2c` with the body: HTTP/1.1 lets a server
    ignore the upgrade, not the body (it used to be dropped, so every signature failed)."""
    brand = served.brand
    data = b"oH2cOpenid" + secrets.token_hex(9).encode() + b"\n"
    init = json.dumps(
        {
            "user_package_file_info": {
                "filename": f"h2c_{secrets.token_hex(4)}.csv",
                "digest": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
                "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
                "description": "sent the way Java's HttpClient sends it",
            }
        }
    ).encode()
    head = signed_head(brand, "POST", f"{PREFIX}/uploads", init, init)
    then = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    raw = raw_exchange(
        served.port, f"{head}Content-Type: application/json\r\n\r\n".encode(), (init + then,)
    )
    (code, headers, body), (after, _, _) = answers(raw)
    assert code == 200, body
    brand.validator.validate(headers, body)
    assert after == 200, "the request pipelined after it is answered too"

    upload_id = json.loads(body)["upload_id"]
    meta = json.dumps({"filename": "p1.csv", "digest": hashlib.sha256(data).hexdigest()}).encode()
    content_type, multipart = encode_part_upload(meta, data)
    path = f"{PREFIX}/uploads/{upload_id}/1"
    head = signed_head(brand, "PUT", path, multipart, meta) + "Connection: close\r\n"
    half = len(multipart) // 2
    raw = raw_exchange(
        served.port,
        f"{head}Content-Type: {content_type}\r\n\r\n".encode(),
        (multipart[:half], multipart[half:]),
    )
    [(code, headers, body)] = answers(raw)
    assert code == 200, body
    assert brand.verified(brand.merge(upload_id))["file_size"] == len(data)


def test_an_upgrade_with_a_chunked_body_is_a_contract_400(served: Served) -> None:
    head = signed_head(served.brand, "POST", f"{PREFIX}/uploads", b"", b"{}")
    head = head.replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n")
    raw = raw_exchange(served.port, f"{head}\r\n2\r\n{{}}\r\n0\r\n\r\n".encode())
    problem = assert_contract(served, raw, 400)
    assert "Upgrade" in problem["message"]
