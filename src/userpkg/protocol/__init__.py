"""The wire protocol both sides share: signing, verification, models, errors. Pure: no I/O."""

from userpkg.protocol.authorization import (
    ATTRIBUTES,
    SCHEME,
    Authorization,
    AuthorizationError,
    BrandCredential,
    parse_authorization,
)
from userpkg.protocol.errors import ApiProblem, ErrorBody, ErrorCode
from userpkg.protocol.keys import (
    KeyFormatError,
    load_certificate,
    load_private_key,
    load_public_key,
    public_key_pem,
    serial_text,
)
from userpkg.protocol.models import DataType, PackageType, ProcessState
from userpkg.protocol.responses import ResponseSigner, ResponseValidator, ResponseVerificationError
from userpkg.protocol.signing import (
    PROBE_PREFIX,
    RsaSigner,
    new_nonce,
    request_message,
    response_message,
    verify_signature,
)

__all__ = [
    "ATTRIBUTES",
    "PROBE_PREFIX",
    "SCHEME",
    "ApiProblem",
    "Authorization",
    "AuthorizationError",
    "BrandCredential",
    "DataType",
    "ErrorBody",
    "ErrorCode",
    "KeyFormatError",
    "PackageType",
    "ProcessState",
    "ResponseSigner",
    "ResponseValidator",
    "ResponseVerificationError",
    "RsaSigner",
    "load_certificate",
    "load_private_key",
    "load_public_key",
    "new_nonce",
    "parse_authorization",
    "public_key_pem",
    "request_message",
    "response_message",
    "serial_text",
    "verify_signature",
]
