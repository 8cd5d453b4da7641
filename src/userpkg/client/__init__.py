"""The brand-side SDK: signed requests, verified responses, uploads done right."""

from userpkg.client.client import AsyncBrandClient, BrandClient
from userpkg.client.credentials import Credentials
from userpkg.client.errors import ApiError, SignatureError, TransportFailure

__all__ = [
    "ApiError",
    "AsyncBrandClient",
    "BrandClient",
    "Credentials",
    "SignatureError",
    "TransportFailure",
]
