"""The campaign admin pages over HTTP: sign-in and CSRF on every action, refusals shown as pages, the sandboxed
email frame. SQLite only: the domain behind the pages is tested on both databases in the other files here."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.db.models import AuditEntry, Campaign, StepRow
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT
from tests.builders import Clock
from tests.web.admin_support import admin_app, form_token, signed_in_client

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(db_url, session_factory, tmp_path, brand):
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW, actor="ana")
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW), provider=RecordingProvider())


@pytest.fixture
def client(app) -> TestClient:
    return signed_in_client(app)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/campaigns",
        "/admin/campaigns/baclofen/manage",
        "/admin/campaigns/baclofen/steps/2",
        "/admin/campaigns/baclofen/steps/2/email",
        "/admin/campaigns/baclofen/diff",
    ],
)
def test_every_page_needs_a_signed_in_admin(app, path):
    anonymous = TestClient(app, base_url="https://testserver", follow_redirects=False)
    answer = anonymous.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"


def test_actions_need_the_forms_csrf_token_and_change_nothing_without_it(client, session_factory):
    for path, data in (
        ("/admin/campaigns/baclofen/archive", {}),
        ("/admin/campaigns/baclofen/steps/2", {"subject": "Changed"}),
    ):
        assert client.post(path, data={**data, "csrf": "forged"}, follow_redirects=False).status_code == 403
        assert client.post(path, data=data, follow_redirects=False).status_code == 403
    with session_factory() as s:
        assert (s.scalar(select(Campaign.status)), s.scalar(select(Campaign.current_version))) == ("draft", 1)


def test_an_edit_from_the_form_makes_one_version_with_only_what_changed(client, session_factory):
    page = client.get("/admin/campaigns/baclofen/manage")
    subject = re.search(r'id="step-4".*?name="subject" value="([^"]+)"', page.text, re.S).group(1)
    answer = client.post(
        "/admin/campaigns/baclofen/steps/4",
        follow_redirects=False,
        data={"csrf": form_token(page.text), "subject": subject, "preheader": "A shorter preheader", "delay_days": "2"},
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=edited&step=4&v=2#step-4")
    with session_factory() as s:
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (audit.actor, audit.action) == ("admin", "edited")
    assert "preheader" in audit.detail and "subject" not in audit.detail and "delay" not in audit.detail


def test_a_refusal_is_shown_on_the_page_with_its_reason(client):
    page = client.get("/admin/campaigns/baclofen/manage")
    answer = client.post(
        "/admin/campaigns/baclofen/steps/3",
        data={"csrf": form_token(page.text), "subject": "x" * 170, "preheader": "p", "delay_days": "2"},
    )
    assert answer.status_code == 400  # a wrong field; a move that cannot be made is a 409
    assert "The subject is 170 characters; keep it to 150" in answer.text
    answer = client.post("/admin/campaigns/baclofen/resume", data={"csrf": form_token(page.text)})
    assert answer.status_code == 409 and "only a paused campaign can be resumed" in answer.text


def test_the_email_frame_is_sandboxed_and_shows_the_sample_subscriber(client, session_factory):
    frame = client.get("/admin/campaigns/baclofen/steps/2/email")
    csp = frame.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Hi Sam" in frame.text and "%%" not in frame.text
    page = client.get("/admin/campaigns/baclofen/steps/2")
    assert re.search(r'<iframe sandbox src="/admin/campaigns/baclofen/steps/2/email\?version=1"', page.text)
    with session_factory() as s:
        text = s.scalar(select(StepRow.text).where(StepRow.number == 2))
    first_line = next(line for line in text.splitlines() if line.strip())
    assert first_line in page.text  # the text version is on the page
    assert client.get("/admin/campaigns/baclofen/steps/12").status_code == 404
