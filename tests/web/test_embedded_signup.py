"""Sign-up from the organisation's own site, on both databases: the pasted form (no script, no CSRF token) and
POST /api/signup across origins, allowed only for OUTREACH_SIGNUP_ORIGINS, with the limits per address and per
client network shared by every process."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.db.models import SignupRequest, Subscriber
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.settings import load_settings
from tests.builders import Clock, make_campaign
from tests.web.admin_support import HASH, sign_in
from tests.web.pages import NOW, SECRET
from web.app import create_app

SITE = "https://www.agape.example"
OTHER = "https://evil.example"


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


def make_app(db_url, session_factory, provider, tmp_path, origins: str = SITE):
    settings = load_settings(
        database_url=db_url,
        outbox_dir=tmp_path / "outbox",
        secret_key=SECRET,
        base_url="http://localhost:8000",
        signup_origins=origins,
    )
    return create_app(settings, session_factory, provider, Clock(NOW))


@pytest.fixture
def app(db_url, session_factory, provider, tmp_path):
    make_campaign(session_factory, status="running")
    return make_app(db_url, session_factory, provider, tmp_path)


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


def people(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Subscriber))


def embedded(client, origin: str | None = SITE, **fields: str):
    data = {"email": "maria@example.com", "name": "Maria", "timezone": "America/Chicago", "campaign": "test", **fields}
    headers = {"Origin": origin} if origin else {}
    return client.post("/signup/embedded", data=data, headers=headers)


def test_the_pasted_form_signs_up_from_the_allowed_site_and_lands_on_our_page(client, session_factory, provider):
    answer = embedded(client)
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert f'href="{SITE}"' in answer.text and "Back to www.agape.example" in answer.text
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        request = s.scalar(select(SignupRequest))
    assert (sub.email, sub.status, sub.timezone) == ("maria@example.com", "pending", "America/Chicago")
    assert request.source == "embedded form"
    assert len(provider.batches) == 1  # the confirmation email, nothing more


def test_a_form_or_script_on_another_site_is_refused_and_nothing_is_recorded(client, session_factory, provider):
    form = embedded(client, OTHER)
    assert form.status_code == 403 and "OUTREACH_SIGNUP_ORIGINS" in form.text
    api = client.post("/api/signup", json={"email": "maria@example.com"}, headers={"Origin": OTHER})
    assert api.status_code == 403 and "access-control-allow-origin" not in api.headers
    preflight = client.options("/api/signup", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    assert people(session_factory) == 0 and provider.batches == []


def test_the_allowed_sites_script_gets_cors_headers_on_every_answer(client):
    preflight = client.options(
        "/api/signup",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert preflight.headers["access-control-allow-headers"] == "Content-Type"
    assert preflight.headers["vary"] == "Origin"
    ok = client.post("/api/signup", json={"email": "ann@example.com", "campaign": "test"}, headers={"Origin": SITE})
    assert ok.status_code == 202 and ok.headers["access-control-allow-origin"] == SITE
    bad = client.post("/api/signup", json={"email": "not an address"}, headers={"Origin": SITE})
    assert (
        bad.status_code == 400 and bad.json()["field"] == "email" and bad.headers["access-control-allow-origin"] == SITE
    )
    # Not on other paths: the admin and the pages are never readable from another site.
    assert "access-control-allow-origin" not in client.get("/signup", headers={"Origin": SITE}).headers


def test_a_server_without_an_origin_header_is_not_a_browser_on_another_site(client, session_factory):
    assert client.post("/api/signup", json={"email": "ann@example.com", "campaign": "test"}).status_code == 202
    assert embedded(client, None).status_code == 200
    assert people(session_factory) == 2


def test_the_robot_trap_answers_like_anyone_and_records_nothing(client, session_factory, provider):
    answer = embedded(client, website="http://spam.example")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert people(session_factory) == 0 and provider.batches == []


def test_a_mistyped_field_opens_our_form_with_what_was_typed_and_the_reason(client, session_factory):
    answer = embedded(client, email="maria@", name="Maria")
    assert answer.status_code == 400
    assert "Please enter a valid email address" in answer.text and 'value="maria@"' in answer.text
    assert 'name="csrf_token"' in answer.text  # sent again from our page, with its own token
    assert people(session_factory) == 0


def test_one_address_gets_one_confirmation_an_hour_however_it_is_asked(client, provider):
    for _ in range(3):
        assert embedded(client).status_code == 200
    assert (
        client.post(
            "/api/signup", json={"email": "MARIA@example.com", "campaign": "test"}, headers={"Origin": SITE}
        ).status_code
        == 202
    )
    assert len(provider.batches) == 1


def test_one_network_is_limited_across_two_web_processes_counting_ipv6_by_64(
    db_url, session_factory, provider, tmp_path
):
    make_campaign(session_factory, status="running")
    one, two = (
        TestClient(make_app(db_url, session_factory, provider, tmp_path), client=(f"2001:db8:1:2::{n}", 5000))
        for n in (1, 2)
    )  # two processes, two addresses in one /64
    answers = [
        (one if i % 2 else two).post(
            "/signup/embedded", data={"email": f"p{i}@example.com", "campaign": "test"}, headers={"Origin": SITE}
        )
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "retry-after" in answers[-1].headers
    elsewhere = TestClient(make_app(db_url, session_factory, provider, tmp_path), client=("2001:db8:1:3::1", 5000))
    assert elsewhere.post("/signup/embedded", data={"email": "q@example.com", "campaign": "test"}).status_code == 200


def test_the_admin_page_gives_the_form_to_paste_for_an_open_campaign(db_url, session_factory, provider, tmp_path):
    make_campaign(session_factory, status="running")
    settings = load_settings(
        database_url=db_url,
        outbox_dir=tmp_path / "outbox",
        secret_key=SECRET,
        base_url="http://localhost:8000",
        admin_password_hash=HASH,
    )
    admin = TestClient(create_app(settings, session_factory, provider, Clock(NOW)), base_url="http://localhost:8000")
    assert sign_in(admin).status_code == 303
    page = admin.get("/admin/signup-form")
    assert page.status_code == 200 and 'id="no-origins"' in page.text  # says what to set before it can work
    code = html.unescape(page.text.split('id="snippet-code"', 1)[1].split("</textarea>", 1)[0])
    assert '<form class="outreach-signup" method="post" action="http://localhost:8000/signup/embedded">' in code
    assert '<input type="hidden" name="campaign" value="test">' in code and 'name="website"' in code
    assert "<script" not in code
    assert 'class="embed-preview" inert' in page.text  # the preview sends nothing


def test_after_a_mistake_our_form_sends_the_corrected_address_from_here(client, session_factory, provider):
    mistake = embedded(client, email="maria@", name="Maria")
    token = re.search(r'name="csrf_token" value="([^"]+)"', mistake.text).group(1)
    fixed = client.post(
        "/signup",
        data={
            "email": "maria@example.com",
            "name": "Maria",
            "timezone": "America/Chicago",
            "campaign": "test",
            "csrf_token": token,
        },
    )
    assert fixed.status_code == 200 and "Check your inbox" in fixed.text
    assert people(session_factory) == 1 and len(provider.batches) == 1
