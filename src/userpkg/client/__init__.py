"""The brand-side SDK: signed requests, verified responses, uploads done right."""

import logging

from userpkg.client.client import AsyncBrandClient, BrandClient
from userpkg.client.credentials import Credentials
from userpkg.client.errors import ApiError, SignatureError, TransportFailure

_httpx = logging.getLogger("httpx")
if _httpx.level == logging.NOTSET:
    _httpx.setLevel(logging.WARNING)  # its INFO lines carry full URLs, upload ids included

__all__ = [
    "ApiError",
    "AsyncBrandClient",
    "BrandClient",
    "Credentials",
    "SignatureError",
    "TransportFailure",
]
