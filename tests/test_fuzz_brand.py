"""A signed fuzzer for the brand API: correctly signed requests with hostile content.

Random methods, paths, part numbers, bodies, content types and extra headers, each signed
the documented way. Whatever is sent, the answer is never a 5xx, is signed and verifies with
the brand's platform key, carries a Request-ID, and an error's code is one of SPEC §6.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import PREFIX, World
from userpkg.protocol.multipart import encode_part_upload

CODES = {
    "PARAM_ERROR",
    "INVALID_REQUEST",
    "SIGN_ERROR",
    "NO_AUTH",
    "NOT_FOUND",
    "RATELIMIT_EXCEEDED",
    "SYSTEM_ERROR",
}
SEGMENT = st.text(
    alphabet=st.sampled_from("abcdefABCDEF0123456789-_.~%!$&'()*+,;=:@"), min_size=0, max_size=40
)
NUMBER = st.one_of(
    st.integers(min_value=-3, max_value=10_001).map(str),
    st.sampled_from(["01", "1.0", "+1", "0x1", "１", "¹", "", "99999999999999999999"]),
    SEGMENT,
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FILE_INFO_FIELDS = ["filename", "digest", "file_size", "package_type", "data_type", "description"]


@st.composite
def init_bodies(draw: st.DrawFn) -> bytes:
    """An init_upload body: valid, then some fields bent or replaced by random values."""
    data = draw(st.binary(max_size=200))
    info: dict[str, Any] = {
        "filename": "f.csv",
        "digest": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
        "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
        "description": "fuzz",
    }
    for name in draw(st.lists(st.sampled_from(FILE_INFO_FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            del info[name]
        else:
            info[name] = draw(JSON_VALUE)
    return json.dumps({"user_package_file_info": info}).encode()


def bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        JSON_VALUE.map(lambda value: json.dumps(value).encode()),
        init_bodies(),
        st.sampled_from([b"", b"{}", b"null", b"[]", b'{"upload_id": ""}', b"\xef\xbb\xbf{}"]),
    )


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "b" * 300,
        "application/x-www-form-urlencoded",
        None,
    ]
)
HEADER_NAMES = st.sampled_from(
    [
        "Accept",
        "Wechatpay-Serial",
        "Content-Length",
        "Transfer-Encoding",
        "X-Forwarded-For",
        "Content-Encoding",
        "Expect",
        "Host",
        "Idempotency-Key",
    ]
)
HEADER_VALUES = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
).map(str.strip)


def check_answer(world: World, response: Any) -> None:
    assert response.status_code < 500, response.text
    assert response.headers.get("request-id")
    answer = world.brand.verified(response)
    if response.status_code >= 400:
        assert answer["code"] in CODES, answer
        assert isinstance(answer["message"], str)
        assert answer["message"]


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    template=st.sampled_from(
        ["/uploads", "/uploads/{a}", "/uploads/{a}/{n}", "/user-packages/{a}/expand", "/{a}", ""]
    ),
    segment=SEGMENT,
    number=NUMBER,
    body=bodies(),
    content_type=CONTENT_TYPES,
    extra=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=2),
)
def test_signed_requests_with_random_content_never_fail(
    world: World,
    method: str,
    template: str,
    segment: str,
    number: str,
    body: bytes,
    content_type: str | None,
    extra: dict[str, str],
) -> None:
    path = PREFIX + template.format(a=segment, n=number)
    for name in ("Content-Length", "Transfer-Encoding", "Expect", "Content-Encoding"):
        extra.pop(name, None)
    response = world.brand.send(method, path, body, content_type=content_type, headers=extra)
    if method != "HEAD":
        check_answer(world, response)
    else:
        assert response.status_code < 500


@FUZZ
@given(
    number=NUMBER,
    meta=st.one_of(bodies(), st.just(None)),
    data=st.binary(max_size=2048),
    sign_meta=st.booleans(),
)
def test_signed_part_uploads_with_random_numbers_and_parts_never_fail(
    world: World, number: str, meta: bytes | None, data: bytes, sign_meta: bool
) -> None:
    opened = world.brand.verified(world.brand.init_upload(b"x" * 3000))
    upload_id = opened["upload_id"]
    real_meta = json.dumps(
        {"filename": f"p{number}.csv", "digest": hashlib.sha256(data).hexdigest()}
    ).encode()
    part_meta = meta if meta is not None else real_meta
    content_type, body = encode_part_upload(part_meta, data)
    response = world.brand.send(
        "PUT",
        f"{PREFIX}/uploads/{upload_id}/{number}",
        body,
        signed_body=part_meta if sign_meta else body,
        content_type=content_type,
    )
    check_answer(world, response)
