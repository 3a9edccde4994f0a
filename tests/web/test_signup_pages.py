"""Sign-up (form and JSON), double opt-in confirmation, and the rate limit, over HTTP on the real app."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from campaigns.db.models import Enrollment, Subscriber
from campaigns.delivery.suppression import suppress
from tests.web.pages import (
    ADDRESS,
    NOW,
    SQLITE_ONLY,
    TOKENS,
    add_subscriber,
    bad_tokens,
    csrf,
    snapshot,
    subscriber,
)

pytestmark = SQLITE_ONLY


def sign_up(client, address: str = ADDRESS, name: str = "Maria Lopez", tz: str = "Europe/Madrid", **extra):
    form = client.get("/signup")
    assert form.status_code == 200
    data = {"email": address, "name": name, "timezone": tz, "campaign": "test", "csrf_token": csrf(form.text)}
    return client.post("/signup", data={**data, **extra})


def confirm_path(provider, n: int = -1) -> str:
    """The confirm link of the n-th confirmation email the provider was asked to send."""
    batch = provider.batches[n]
    html, text = batch.content.fill(batch.recipients[0].values)
    found = re.search(r"http://localhost:8000(/c/[\w.-]+)", text)
    assert found and found.group(1) in html, "the confirmation email carries the confirm link in both parts"
    return found.group(1)


def confirm(client, path: str):
    """Open a confirmation link and press its page's button, as a person does."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf(page.text)})


def count_subscribers(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Subscriber))


def test_form_has_labelled_fields_a_guessable_time_zone_and_no_inline_script(client, campaign_id):
    page = client.get("/signup")
    assert page.status_code == 200
    for field in ("email", "name", "timezone"):
        assert f'<label for="{field}"' in page.text and f'id="{field}"' in page.text
    assert 'data-guess="true"' in page.text and '<option value="America/New_York" selected>' in page.text
    assert '<script src="/static/js/timezone.js" defer></script>' in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
    assert "outreach_csrf=" in page.headers["set-cookie"]
    assert client.get("/static/js/timezone.js").status_code == 200


def test_sign_up_makes_a_pending_subscriber_and_sends_the_confirmation(
    client, session_factory, web_provider, campaign_id
):
    answer = sign_up(client, "Maria.Lopez@Example.com")
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text and "maria" not in answer.text.lower().split("<main", 1)[1]
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.email, sub.status, sub.timezone, sub.consent_at) == (
            "Maria.Lopez@example.com",
            "pending",
            "Europe/Madrid",
            None,
        )
        assert s.scalar(select(func.count()).select_from(Enrollment)) == 0  # enrolled only on confirmation
    [batch] = web_provider.batches
    assert batch.recipients[0].email == "Maria.Lopez@example.com"
    assert batch.content.subject == "Please confirm your subscription"
    assert confirm_path(web_provider).startswith("/c/")


def test_confirmation_activates_records_consent_and_enrolls_once(client, session_factory, web_provider, campaign_id):
    sign_up(client)
    path = confirm_path(web_provider)
    nothing_yet = snapshot(session_factory)
    page = client.get(path)  # what a mail scanner or a link preview does: nothing changes
    assert page.status_code == 200 and "Yes, send me the emails" in page.text and '<form method="post">' in page.text
    assert client.head(path).status_code == 200 and snapshot(session_factory) == nothing_yet
    first = client.post(path, data={"csrf_token": csrf(page.text)})
    assert first.status_code == 200 and "Thank you, Maria" in first.text
    sub = subscriber(session_factory, 1)
    assert (sub.status, sub.consent_at, sub.consent_source, sub.consent_ip) == (
        "active",
        NOW,
        "signup form",
        "testclient",
    )
    with session_factory() as s:
        [enrollment] = s.scalars(select(Enrollment)).all()
    assert (enrollment.campaign_id, enrollment.next_step, enrollment.next_due_at, enrollment.status) == (
        campaign_id,
        1,
        None,
        "active",
    )
    before = snapshot(session_factory)
    again = client.get(path)
    assert again.status_code == 409 and "used already" in again.text
    assert client.post(path, data={"csrf_token": csrf(page.text)}).status_code == 409
    assert snapshot(session_factory) == before


def test_a_confirmation_needs_the_pages_csrf_token(client, session_factory, web_provider, campaign_id):
    sign_up(client)
    path = confirm_path(web_provider)
    before = snapshot(session_factory)
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    assert client.post(path).status_code == 403
    assert snapshot(session_factory) == before


def test_repeated_sign_ups_never_duplicate_and_answer_the_same(client, session_factory, web_provider, campaign_id):
    first = sign_up(client)
    second = sign_up(client, ADDRESS.upper().replace("EXAMPLE.COM", "example.com"))
    assert count_subscribers(session_factory) == 1
    assert _main(first.text) == _main(second.text)
    assert len(web_provider.batches) == 1  # one confirmation email an hour per address (three a day)


def test_a_known_address_gets_the_same_answer_and_no_second_email(client, session_factory, web_provider, campaign_id):
    add_subscriber(session_factory, campaign_id)  # active and already enrolled
    known = sign_up(client)
    unknown = sign_up(client, "someone.new@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _main(known.text) == _main(unknown.text)
    assert [b.recipients[0].email for b in web_provider.batches] == ["someone.new@example.com"]


def test_a_complained_address_is_never_mailed_and_not_revealed(client, session_factory, web_provider, campaign_id):
    with session_factory.begin() as s:
        suppress(s, ADDRESS, "complaint", "sendgrid", NOW)
    answer = sign_up(client)
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert web_provider.batches == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "not-an-address", "valid email address"),
        ("timezone", "Mars/Olympus_Mons", "time zone"),
        ("name", "x" * 201, "under 200 characters"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_stored(
    client, session_factory, web_provider, campaign_id, field, value, message
):
    answer = sign_up(client, **{field: value})
    assert answer.status_code == 400
    assert message in answer.text and f'id="{field}-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert count_subscribers(session_factory) == 0 and web_provider.batches == []


@pytest.mark.parametrize("case", ["missing", "forged", "other page", "no cookie"])
def test_sign_up_without_a_valid_csrf_token_is_refused(client, session_factory, web_provider, campaign_id, case):
    token = csrf(client.get("/signup").text)
    other = csrf(client.get(f"/u/{TOKENS.make('unsubscribe', add_subscriber(session_factory, None))}").text)
    data = {"email": "new@example.com", "timezone": "UTC", "campaign": "test"}
    if case == "forged":
        data["csrf_token"] = token[:-4] + "AAAA"
    elif case == "other page":
        data["csrf_token"] = other  # made for another form
    elif case == "no cookie":
        data["csrf_token"] = token
        client.cookies.clear()
    answer = client.post("/signup", data=data)
    assert answer.status_code == 403 and "reload" in answer.text
    assert count_subscribers(session_factory) == 1 and web_provider.batches == []  # only the one added above


def test_sign_ups_are_rate_limited_per_ip(client, session_factory, campaign_id):
    for i in range(5):
        assert sign_up(client, f"person{i}@example.com").status_code == 200
    refused = sign_up(client, "person5@example.com")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many attempts" in refused.text
    assert count_subscribers(session_factory) == 5


def test_json_sign_up_for_embedding(client, session_factory, web_provider, campaign_id):
    answer = client.post("/api/signup", json={"email": ADDRESS, "name": "Maria", "timezone": "Asia/Tokyo"})
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    again = client.post("/api/signup", json={"email": ADDRESS, "timezone": "Asia/Tokyo", "campaign": "test"})
    assert again.json() == answer.json() and count_subscribers(session_factory) == 1
    assert confirm(client, confirm_path(web_provider)).status_code == 200
    sub = subscriber(session_factory, 1)
    assert (sub.status, sub.consent_source, sub.timezone) == ("active", "api", "Asia/Tokyo")


def test_json_sign_up_names_a_bad_field(client, session_factory, campaign_id):
    answer = client.post("/api/signup", json={"email": ADDRESS, "timezone": "Nowhere/Land"})
    assert answer.status_code == 400 and answer.json()["field"] == "timezone"
    missing = client.post("/api/signup", json={"timezone": "UTC"})
    assert missing.status_code == 400 and "error" in missing.json()
    not_json = client.post("/api/signup", data={"email": ADDRESS, "timezone": "UTC"})
    assert not_json.status_code == 400
    assert count_subscribers(session_factory) == 0


def test_sign_up_without_an_open_campaign_is_a_404_page(client, session_factory):
    answer = client.get("/signup")
    assert answer.status_code == 404 and "not open" in answer.text


@pytest.mark.parametrize("kind", ["forged", "altered", "garbage", "expired", "wrong purpose"])
def test_a_bad_confirm_link_changes_nothing(client, session_factory, web_provider, campaign_id, kind):
    sign_up(client)
    sid = subscriber(session_factory, 1).id
    before = snapshot(session_factory)
    answer = client.get(f"/c/{bad_tokens('confirm', sid, wrong_purpose='unsubscribe')[kind]}")
    assert answer.status_code == 400 and "This link does not work" in answer.text
    assert ("expired" in answer.text) == (kind == "expired")
    assert snapshot(session_factory) == before


def test_a_confirm_link_for_an_unknown_request_does_not_work(client, session_factory, campaign_id):
    answer = client.get(f"/c/{TOKENS.make_confirm(999, 12345)}")
    assert answer.status_code == 400 and "no longer valid" in answer.text


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_page_footer_gives_the_home_countrys_crisis_lines_and_the_fallback(client, campaign_id):
    page = client.get("/signup").text
    assert "If you are in crisis in the United States, call or text 988 (988 Suicide &amp; Crisis Lifeline)" in page
    assert "Elsewhere, call your local emergency number." in page


def test_the_confirmation_email_has_the_crisis_lines_of_the_zone_given(client, campaign_id, web_provider):
    assert sign_up(client, tz="Europe/London").status_code in (200, 303)
    batch = web_provider.batches[-1]
    html, text = batch.content.fill(batch.recipients[0].values)
    assert "Samaritans" in text and 'href="tel:116123"' in html
    assert "&amp;" not in text
