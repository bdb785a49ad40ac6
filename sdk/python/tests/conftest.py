"""Fixtures for the client library's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wire import Wire, serving


@pytest.fixture(scope="session")
def _server() -> Iterator[Wire]:
    with serving() as wire:
        yield wire


@pytest.fixture
def wire(_server: Wire) -> Wire:
    """The recording server, with nothing recorded yet."""
    _server.take()
    return _server
