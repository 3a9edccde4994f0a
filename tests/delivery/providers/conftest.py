"""Fixtures for provider tests: a local SendGrid API server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sendgrid_server import SendGridServer


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridServer]:
    """A fresh server per test (valid key `tests.sendgrid_server.API_KEY`), stopped afterwards."""
    with SendGridServer(forbidden_keys=frozenset({"SG.no-mail-send"})) as server:
        yield server
