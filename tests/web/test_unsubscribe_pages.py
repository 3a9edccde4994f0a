"""Unsubscribe: the page (GET never unsubscribes), RFC 8058 one-click POST, the button, and resubscribe."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaigns.db.models import Enrollment
from campaigns.delivery import state as ds
from tests.web.pages import (
    ADDRESS,
    NOW,
    SENT_AND_PENDING,
    SQLITE_ONLY,
    TOKENS,
    add_subscriber,
    bad_tokens,
    csrf,
    delivery_statuses,
    snapshot,
    subscriber,
    suppression,
)

pytestmark = SQLITE_ONLY


def test_the_page_shows_one_button_and_a_get_changes_nothing(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id, deliveries=(ds.QUEUED,))
    before = snapshot(session_factory)
    page = client.get(f"/u/{TOKENS.make('unsubscribe', sid, campaign_id)}")
    assert page.status_code == 200
    assert "Hi Maria" in page.text and page.text.count("<button") == 1 and 'value="unsubscribe"' in page.text
    assert '<form method="post">' in page.text  # posts back to the same URL
    assert snapshot(session_factory) == before


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_rfc8058_one_click_post_unsubscribes_at_once(client, session_factory, campaign_id, encoding):
    sid = add_subscriber(session_factory, campaign_id, deliveries=SENT_AND_PENDING)
    url = f"/u/{TOKENS.make('unsubscribe', sid, campaign_id)}"
    client.cookies.clear()  # a mailbox provider has none
    if encoding == "urlencoded":
        answer = client.post(
            url, content=b"List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    else:
        answer = client.post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert answer.status_code == 200
    assert "location" not in answer.headers and "set-cookie" not in answer.headers
    assert len(answer.content) < 100
    sub = subscriber(session_factory, sid)
    assert (sub.status, sub.unsubscribed_at, sub.unsubscribe_source) == ("unsubscribed", NOW, "one-click")
    # queued and claimed-but-unsent are cancelled; what may already have left is left to settle
    assert delivery_statuses(session_factory, sid) == [ds.ACCEPTED, ds.SUBMITTING, ds.CANCELLED, ds.CANCELLED]
    with session_factory() as s:
        assert s.scalar(select(Enrollment.status)) == "stopped"
    assert suppression(session_factory).reason == "unsubscribed"


def test_one_click_twice_keeps_the_first_record(client, session_factory, web_clock, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    url = f"/u/{TOKENS.make('unsubscribe', sid)}"
    client.post(url, data={"List-Unsubscribe": "One-Click"})
    web_clock.at = NOW.replace(hour=18)
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert subscriber(session_factory, sid).unsubscribed_at == NOW


def test_the_button_unsubscribes_and_offers_to_resubscribe(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id, deliveries=(ds.ACCEPTED, ds.QUEUED))
    url = f"/u/{TOKENS.make('unsubscribe', sid, campaign_id)}"
    left = client.post(url, data={"action": "unsubscribe", "csrf_token": csrf(client.get(url).text)})
    assert left.status_code == 200 and "You are unsubscribed" in left.text
    assert 'value="resubscribe"' in left.text
    sub = subscriber(session_factory, sid)
    assert (sub.status, sub.unsubscribe_source) == ("unsubscribed", "page")
    assert delivery_statuses(session_factory, sid) == [ds.ACCEPTED, ds.CANCELLED]

    back = client.post(url, data={"action": "resubscribe", "csrf_token": csrf(left.text)})
    assert back.status_code == 200 and "Welcome back" in back.text
    sub = subscriber(session_factory, sid)
    assert (sub.status, sub.unsubscribed_at, sub.unsubscribe_source) == ("active", None, None)
    assert suppression(session_factory) is None
    with session_factory() as s:
        enrollment = s.scalar(select(Enrollment))
    # back at the step it stopped at; the cancelled email is forgotten so the tick can make it again
    assert (enrollment.status, enrollment.next_step) == ("active", 2)
    assert delivery_statuses(session_factory, sid) == [ds.ACCEPTED]


def test_the_unsubscribed_page_offers_resubscribe_after_a_reload(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    url = f"/u/{TOKENS.make('unsubscribe', sid)}"
    client.post(url, data={"List-Unsubscribe": "One-Click"})
    page = client.get(url)
    assert "You are unsubscribed" in page.text and 'value="resubscribe"' in page.text


def test_resubscribe_is_refused_after_a_complaint(client, web_app, session_factory, campaign_id):
    from campaigns.delivery.suppression import suppress

    sid = add_subscriber(session_factory, campaign_id, status="unsubscribed")
    with session_factory.begin() as s:
        suppress(s, ADDRESS, "complaint", "sendgrid", NOW)
    url = f"/u/{TOKENS.make('unsubscribe', sid)}"
    page = client.get(url)
    assert 'value="resubscribe"' not in page.text
    # the page has no form any more; a hand-made POST with a valid CSRF token is refused by the domain
    token = web_app.state.context.csrf.token(client.cookies["outreach_csrf"], url)
    answer = client.post(url, data={"action": "resubscribe", "csrf_token": token})
    assert answer.status_code == 409
    assert subscriber(session_factory, sid).status == "unsubscribed"


@pytest.mark.parametrize("case", ["missing", "forged", "from another subscriber's page"])
def test_the_button_without_a_valid_csrf_token_changes_nothing(client, session_factory, campaign_id, case):
    sid = add_subscriber(session_factory, campaign_id)
    other = add_subscriber(session_factory, None, address="other@example.com")
    url = f"/u/{TOKENS.make('unsubscribe', sid)}"
    token = csrf(client.get(url).text)
    data = {"action": "unsubscribe"}
    if case == "forged":
        data["csrf_token"] = "x" + token[1:]
    elif case != "missing":
        data["csrf_token"] = csrf(client.get(f"/u/{TOKENS.make('unsubscribe', other)}").text)
    before = snapshot(session_factory)
    assert client.post(url, data=data).status_code == 403
    assert snapshot(session_factory) == before


@pytest.mark.parametrize("kind", ["forged", "altered", "garbage", "expired", "wrong purpose"])
def test_a_bad_unsubscribe_token_changes_nothing(client, session_factory, campaign_id, kind):
    sid = add_subscriber(session_factory, campaign_id, deliveries=(ds.QUEUED,))
    token = bad_tokens("unsubscribe", sid, wrong_purpose="preferences")[kind]
    before = snapshot(session_factory)
    page = client.get(f"/u/{token}")
    assert page.status_code == 400 and "This link does not work" in page.text
    one_click = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 400
    button = client.post(
        f"/u/{token}",
        data={"action": "unsubscribe", "csrf_token": csrf(client.get(f"/u/{TOKENS.make('unsubscribe', sid)}").text)},
    )
    assert button.status_code == 400
    assert snapshot(session_factory) == before


def test_a_token_for_a_subscriber_who_no_longer_exists_is_a_404(client, session_factory):
    url = f"/u/{TOKENS.make('unsubscribe', 4242)}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 404
