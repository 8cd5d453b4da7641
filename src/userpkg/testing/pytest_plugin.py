"""The `userpkg_sandbox` pytest fixture, registered through the `pytest11` entry point."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from userpkg.testing.sandbox import Sandbox, sandbox


@pytest.fixture
def userpkg_sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox service for one test, stopped afterwards (see `userpkg.testing`)."""
    with sandbox() as running:
        yield running
