"""Key loading names the usual mix-ups instead of failing with a parser error."""

from __future__ import annotations

import pytest

from userpkg.protocol import KeyFormatError, load_certificate, load_private_key, load_public_key

from .conftest import Vectors


def test_each_kind_loads(vectors: Vectors) -> None:
    private = load_private_key(vectors.pem("brand_private_key"))
    public = load_public_key(vectors.pem("brand_public_key"))
    serial, cert_key = load_certificate(vectors.pem("brand_certificate"))
    assert private.public_key().public_numbers() == public.public_numbers()
    assert cert_key.public_numbers() == public.public_numbers()
    assert serial == vectors.data["cert_serial_no"]


@pytest.mark.parametrize(
    ("file", "said"),
    [("brand_certificate", "X.509 certificate"), ("brand_public_key", "a public key")],
)
def test_private_key_loader_names_what_it_was_given(vectors: Vectors, file: str, said: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        load_private_key(vectors.pem(file))
    assert said in str(caught.value)
    assert "BEGIN PRIVATE KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("file", "said"),
    [("brand_private_key", "a private key"), ("brand_certificate", "X.509 certificate")],
)
def test_public_key_loader_names_what_it_was_given(vectors: Vectors, file: str, said: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        load_public_key(vectors.pem(file))
    assert said in str(caught.value)


def test_certificate_loader_rejects_a_private_key(vectors: Vectors) -> None:
    with pytest.raises(KeyFormatError, match="a private key"):
        load_certificate(vectors.pem("brand_private_key"))


@pytest.mark.parametrize("text", ["", "not a key", b"\x00\x01"])
def test_no_pem_block_is_said_plainly(text: str | bytes) -> None:
    with pytest.raises(KeyFormatError, match="no PEM block"):
        load_private_key(text)


def test_truncated_pem_is_a_key_format_error(vectors: Vectors) -> None:
    pem = vectors.pem("brand_private_key")
    with pytest.raises(KeyFormatError, match="could not be read"):
        load_private_key(pem[: len(pem) // 2] + "\n-----END PRIVATE KEY-----\n")


def test_encrypted_key_gets_a_decrypt_hint() -> None:
    pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
    with pytest.raises(KeyFormatError, match="encrypted"):
        load_private_key(pem)
