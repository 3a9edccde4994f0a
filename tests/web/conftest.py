"""Fixtures for the public pages: the real app (create_app) on a throwaway SQLite database from the shared
fixtures, a recording provider, a settable clock and a TestClient.

Page tests restrict the shared `db_url` to SQLite with `pytestmark = SQLITE_ONLY` (see tests/web/pages.py); the
domain functions behind them are tested on both databases in tests/audience/test_signup.py and its neighbours.
Names are prefixed `web_`/`pages_` so they do not collide with other tests in this folder.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from campaigns.delivery.providers.base import RecordingProvider
from campaigns.settings import load_settings
from tests.builders import Clock, make_campaign
from tests.web.pages import NOW, SECRET
from web.app import create_app


@pytest.fixture
def web_settings(db_url, tmp_path):
    return load_settings(
        database_url=db_url, outbox_dir=tmp_path / "outbox", secret_key=SECRET, base_url="http://localhost:8000"
    )


@pytest.fixture
def web_clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def web_provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def web_app(web_settings, session_factory, web_provider, web_clock):
    return create_app(web_settings, session_factory, web_provider, web_clock)


@pytest.fixture
def client(web_app) -> TestClient:
    # No redirects followed: tests check the status and Location of each answer themselves.
    with TestClient(web_app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def campaign_id(session_factory) -> int:
    return make_campaign(session_factory, status="running")
