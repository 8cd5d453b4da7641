"""Strict parsing of the Authorization header: each mistake is named in the error."""

from __future__ import annotations

import pytest

from userpkg.protocol import (
    ATTRIBUTES,
    SCHEME,
    Authorization,
    AuthorizationError,
    parse_authorization,
)

GOOD = Authorization("1000001", "N" * 32, "1764201603", "ABCDEF", "c2lnbmF0dXJl+/==")


def test_any_attribute_order_is_accepted() -> None:
    for order in (ATTRIBUTES, tuple(reversed(ATTRIBUTES))):
        assert parse_authorization(GOOD.header(order)) == GOOD


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (None, "missing"),
        ("", "missing"),
        ("WECHATPAY2-SHA256-RSA2048 " + GOOD.header().split(" ", 1)[1], "scheme"),
        ("Bearer abc", "scheme"),
        (SCHEME, "no attributes"),
        (SCHEME + " ", "no attributes"),
        (GOOD.header().replace('",', '", '), "spaces"),
        (GOOD.header().replace('"', "'"), "single quotes"),
        (GOOD.header().replace(',serial_no="ABCDEF"', ""), "serial_no"),
        (GOOD.header() + ',nonce_str="again"', "more than once"),
        (GOOD.header() + ',extra="1"', "unknown attribute 'extra'"),
        (GOOD.header() + ",", "ends with a ','"),
        (GOOD.header().replace('brand_id="1000001"', 'brand_id=""'), "'brand_id' is empty"),
        (GOOD.header().replace('",nonce', '";nonce'), "expected ','"),
        (GOOD.header().replace('brand_id="1000001"', "brand_id=1000001"), 'key="value"'),
        (SCHEME + "  " + GOOD.header().split(" ", 1)[1], "spaces"),
    ],
)
def test_malformed_headers_are_rejected_with_a_reason(header: str | None, named: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        parse_authorization(header)
    assert named in str(caught.value)


def test_repr_hides_the_signature() -> None:
    assert GOOD.signature not in repr(GOOD)
