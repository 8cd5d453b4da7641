"""Request bodies: nulls, 4-byte characters and type errors become PARAM_ERROR naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from userpkg.protocol import ApiProblem, DataType, ErrorCode, PackageType
from userpkg.protocol.models import ExpandRequest, InitUploadRequest
from userpkg.protocol.validation import parse_request

DIGEST = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"


def info(**changes: Any) -> dict[str, Any]:
    base = {
        "filename": "members_2026_11.csv",
        "digest": DIGEST,
        "file_size": 4,
        "package_type": "USER_PACKAGE_TYPE_TARGETED_EXPOSURE",
        "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
        "description": "members who bought twice in 2026",
    }
    base.update(changes)
    return {"user_package_file_info": {k: v for k, v in base.items() if v is not ...}}


def problem(raw: bytes) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        parse_request(InitUploadRequest, raw)
    assert caught.value.code is ErrorCode.PARAM_ERROR
    assert caught.value.status == 400
    return caught.value


def test_valid_body_parses_and_digest_is_lower_cased() -> None:
    req = parse_request(InitUploadRequest, json.dumps(info(extra_field=1)).encode())
    assert req.user_package_file_info.digest == DIGEST.lower()
    assert req.user_package_file_info.package_type is PackageType.TARGETED_EXPOSURE
    assert req.user_package_file_info.data_type is DataType.OPENID


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filename": None}, "/user_package_file_info/filename"),
        ({"filename": ...}, "/user_package_file_info/filename"),
        ({"filename": "a.txt"}, "/user_package_file_info/filename"),
        ({"filename": "a b.csv"}, "/user_package_file_info/filename"),
        ({"filename": "x" * 125 + ".csv"}, "/user_package_file_info/filename"),
        ({"digest": "abc"}, "/user_package_file_info/digest"),
        ({"digest": "g" * 64}, "/user_package_file_info/digest"),
        ({"file_size": "4"}, "/user_package_file_info/file_size"),
        ({"file_size": 4.0}, "/user_package_file_info/file_size"),
        ({"file_size": True}, "/user_package_file_info/file_size"),
        ({"file_size": 0}, "/user_package_file_info/file_size"),
        ({"package_type": "TARGETED"}, "/user_package_file_info/package_type"),
        ({"data_type": "USER_PACKAGE_DATA_TYPE_UNIONID"}, "/user_package_file_info/data_type"),
        ({"description": "too short"}, "/user_package_file_info/description"),
        ({"description": "d" * 129}, "/user_package_file_info/description"),
        ({"description": "members who bought 😀 twice"}, "/user_package_file_info/description"),
    ],
)
def test_field_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    err = problem(json.dumps(info(**changes), ensure_ascii=False).encode())
    assert err.detail is not None
    assert err.detail["field"] == field
    assert field in err.message


def test_description_counts_characters_not_bytes() -> None:
    text = "风险用户人群包，二零二六年十一月导入"
    req = parse_request(InitUploadRequest, json.dumps(info(description=text)).encode())
    assert req.user_package_file_info.description == text


def test_escaped_four_byte_character_is_rejected_too() -> None:
    err = problem(json.dumps(info(description="members who bought \U0001f600 twice")).encode())
    assert "4-byte" in err.message


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"", "empty"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON object"),
        (b"null", "null"),
        (b'{"user_package_file_info": NaN}', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b'{"user_package_file_info": 1' + b"0" * 5000 + b"}", "not valid JSON"),
        (b'{"user_package_file_info": []}', "/user_package_file_info"),
    ],
)
def test_garbage_bodies_are_param_errors(raw: bytes, said: str) -> None:
    assert said in problem(raw).message


def test_huge_file_size_is_a_field_error_not_a_crash() -> None:
    err = problem(json.dumps(info(file_size=10**40)).encode())
    assert err.detail is not None
    assert err.detail["field"] == "/user_package_file_info/file_size"


def test_expand_request_upload_id_rules() -> None:
    assert parse_request(ExpandRequest, b'{"upload_id":"abc_-1"}').upload_id == "abc_-1"
    for bad in (b'{"upload_id":""}', b'{"upload_id":"a/b"}', b'{"upload_id":5}', b"{}"):
        with pytest.raises(ApiProblem) as caught:
            parse_request(ExpandRequest, bad)
        assert caught.value.detail == {"location": "body", "field": "/upload_id"}
