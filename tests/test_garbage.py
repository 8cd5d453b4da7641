"""No input of any shape gets a 500: every bad request is a signed 4xx in the API's format."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import PREFIX, LiveServer, SigningBrand


@pytest.fixture(scope="module")
def brand(server: LiveServer) -> SigningBrand:
    return server.new_brand()


@pytest.fixture(scope="module")
def upload_id(server: LiveServer, brand: SigningBrand) -> str:
    return str(brand.verified(brand.init_upload(b"a" * 2000))["upload_id"])


def client_error(brand: SigningBrand, response: object) -> dict[str, object]:
    body = brand.verified(response)  # type: ignore[arg-type]
    status = response.status_code  # type: ignore[attr-defined]
    assert 400 <= status < 500, (status, body)
    assert isinstance(body["code"], str)
    assert isinstance(body["message"], str)
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b"\xff\xfe\x00",
        b'{"user_package_file_info": "x"}',
        b'{"user_package_file_info": {"file_size": 1e400}}',
        b'{"user_package_file_info": {"file_size": -1}}',
        b'{"user_package_file_info": {"file_size": 123456789012345678901234567890}}',
        b'{"user_package_file_info": {"filename": ["a"]}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        json.dumps({"user_package_file_info": {"description": "\ud800" * 20}}).encode(),
    ],
)
def test_garbage_init_bodies(server: LiveServer, brand: SigningBrand, body: bytes) -> None:
    assert (
        client_error(brand, brand.send("POST", f"{PREFIX}/uploads", body))["code"] == "PARAM_ERROR"
    )


def _multipart(*parts: tuple[str, bytes], boundary: str = "BOUNDARY", close: bool = True) -> bytes:
    out = b""
    for name, data in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += data + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


META = b'{"filename":"p.csv","digest":"' + b"0" * 64 + b'"}'


@pytest.mark.parametrize(
    ("body", "signed", "content_type", "said"),
    [
        (_multipart(("file", b"abc")), b"", None, "file_meta"),
        (_multipart(("file_meta", META)), META, None, "no file part"),
        (_multipart(("file_meta", META), ("file", b"abc"), close=False), META, None, "truncated"),
        (
            _multipart(("file_meta", META), ("file_meta", META), ("file", b"x")),
            META,
            None,
            "twice",
        ),
        (_multipart(("file_meta", b"{not json"), ("file", b"x")), b"{not json", None, "JSON"),
        (b"garbage", b"", "multipart/form-data; boundary=BOUNDARY", "malformed"),
        (b"", b"", "multipart/form-data; boundary=BOUNDARY", "truncated"),
    ],
)
def test_garbage_part_uploads(
    server: LiveServer,
    brand: SigningBrand,
    upload_id: str,
    body: bytes,
    signed: bytes,
    content_type: str | None,
    said: str,
) -> None:
    response = brand.send(
        "PUT",
        f"{PREFIX}/uploads/{upload_id}/1",
        body,
        signed_body=signed,
        content_type=content_type or "multipart/form-data; boundary=BOUNDARY",
    )
    assert said in str(client_error(brand, response)["message"])


def test_oversized_file_meta_is_413(
    server: LiveServer, brand: SigningBrand, upload_id: str
) -> None:
    meta = b"x" * 9000
    response = brand.send(
        "PUT",
        f"{PREFIX}/uploads/{upload_id}/1",
        _multipart(("file_meta", meta), ("file", b"x")),
        signed_body=meta,
        content_type="multipart/form-data; boundary=BOUNDARY",
    )
    assert response.status_code == 413
    assert "file_meta is larger than 8192 bytes" in str(client_error(brand, response)["message"])


def test_multipart_without_boundary(
    server: LiveServer, brand: SigningBrand, upload_id: str
) -> None:
    response = brand.send(
        "PUT", f"{PREFIX}/uploads/{upload_id}/1", b"x", content_type="multipart/form-data"
    )
    body = client_error(brand, response)
    assert body["code"] == "PARAM_ERROR"
    assert "boundary" in str(body["message"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.sampled_from(["user_package_file_info", "upload_id", "x"]), json_values
    )
)
def test_random_json_never_crashes(
    server: LiveServer, brand: SigningBrand, payload: dict[str, object]
) -> None:
    body = json.dumps(payload).encode()
    for path in (f"{PREFIX}/uploads", f"{PREFIX}/user-packages/{'1' * 20}/expand"):
        client_error(brand, brand.send("POST", path, body))
