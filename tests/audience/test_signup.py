"""campaigns.audience.signup on both databases: double opt-in, no duplicates, nothing revealed, blocked addresses never
mailed, and the confirmation email itself."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaigns.audience.privacy import erase_subscriber
from campaigns.audience.signup import (
    SignupError,
    confirm_signup,
    confirmation_batch,
    pending_confirmation,
    request_signup,
)
from campaigns.audience.unsubscribe import unsubscribe
from campaigns.db.models import Campaign, Enrollment, SignupRequest, Subscriber, Suppression
from campaigns.delivery.message import build_message
from campaigns.delivery.suppression import suppress
from campaigns.errors import NotFound, RateLimited, StateError, TokenError
from tests.builders import LINKS, START, enroll, make_campaign

T = START + timedelta(days=1)


def ask(s, address="Ann@Example.com", name="Ann Lee", tz="Europe/Berlin", source="signup form", at=T, ip="203.0.113.9"):
    return request_signup(s, address, name, tz, "test", ip, at, source=source)


def test_request_makes_one_pending_subscriber_and_confirm_enrolls(session_factory):
    cid = make_campaign(session_factory)
    with session_factory.begin() as s:
        first = ask(s)
    assert first.send_to == "Ann@example.com" and first.request is not None
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.name, sub.timezone, sub.consent_source, sub.consent_at) == (
            "pending",
            "Ann Lee",
            "Europe/Berlin",
            "signup form",
            None,
        )
        assert s.scalar(select(func.count()).select_from(Enrollment)) == 0

    with session_factory.begin() as s:
        result = confirm_signup(s, first.request, "203.0.113.9", T + timedelta(hours=1))
    assert result.enrolled and not result.already
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.consent_at, sub.consent_source, sub.consent_ip) == (
            "active",
            T + timedelta(hours=1),
            "signup form",
            "203.0.113.9",
        )
        [e] = s.scalars(select(Enrollment)).all()
        assert (e.campaign_id, e.next_step, e.next_due_at, e.status) == (cid, 1, None, "active")
    with pytest.raises(StateError, match="used already"), session_factory.begin() as s:
        confirm_signup(s, first.request, "198.51.100.1", T + timedelta(days=2))
    with session_factory() as s:
        assert s.scalar(select(Subscriber.consent_ip)) == "203.0.113.9"  # the second click changed nothing


def test_a_later_request_does_not_change_a_pending_person_until_its_own_link_is_clicked(session_factory):
    make_campaign(session_factory)
    with session_factory.begin() as s:
        first = ask(s)
    with session_factory.begin() as s:  # two hours on (the address may be sent one email an hour)
        later = ask(
            s, address="ann@example.com", name="Mallory", tz="Asia/Tokyo", source="api", at=T + timedelta(hours=2)
        )
    assert first.subscriber_id == later.subscriber_id and later.request is not None
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.name, sub.timezone, sub.consent_source) == ("Ann Lee", "Europe/Berlin", "signup form")
    with session_factory.begin() as s:
        confirm_signup(s, first.request, None, T + timedelta(hours=3))
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.name, sub.timezone, sub.consent_source) == (
            "active",
            "Ann Lee",
            "Europe/Berlin",
            "signup form",
        )


def test_a_confirmation_link_acts_once_and_never_after_a_later_unsubscribe(session_factory):
    """Issue 19, point 1: sign up, confirm, unsubscribe, open the old link again: nothing changes."""
    make_campaign(session_factory)
    with session_factory.begin() as s:
        first = ask(s)
    with session_factory.begin() as s:
        second = ask(s, at=T + timedelta(hours=2))  # another email: its link is still unused
    with session_factory.begin() as s:
        confirm_signup(s, first.request, None, T + timedelta(hours=3))
    with session_factory.begin() as s:
        unsubscribe(s, first.subscriber_id, "one-click", T + timedelta(hours=4))

    def state():
        with session_factory() as s:
            sub = s.get(Subscriber, first.subscriber_id)
            return sub.status, s.scalar(select(Suppression.reason)), s.scalar(select(Enrollment.status))

    before = state()
    assert before == ("unsubscribed", "unsubscribed", "stopped")
    with pytest.raises(StateError, match="used already"), session_factory.begin() as s:
        confirm_signup(s, first.request, None, T + timedelta(hours=5))
    with pytest.raises(StateError, match="unsubscribed after"), session_factory.begin() as s:
        confirm_signup(s, second.request, None, T + timedelta(hours=5))
    with pytest.raises(StateError), session_factory.begin() as s:
        pending_confirmation(s, second.request)  # the page says so too, before any button
    assert state() == before
    with session_factory() as s:  # neither link was spent by the refusals
        assert [r.used_at is None for r in s.scalars(select(SignupRequest).order_by(SignupRequest.id))] == [False, True]


def test_a_link_for_another_request_or_with_a_wrong_nonce_is_refused(session_factory):
    make_campaign(session_factory)
    with session_factory.begin() as s:
        request = ask(s).request
    assert request is not None
    with pytest.raises(TokenError), session_factory.begin() as s:
        confirm_signup(s, type(request)(request.request_id, request.nonce ^ 1), None, T)
    with pytest.raises(TokenError), session_factory.begin() as s:
        confirm_signup(s, type(request)(request.request_id + 1, request.nonce), None, T)


def test_an_unsubscribed_person_can_sign_up_again_and_confirming_lifts_the_unsubscribe(session_factory):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        s.get(Subscriber, sid).consent_source = "imported from the 2025 newsletter list"
    with session_factory.begin() as s:
        unsubscribe(s, sid, "one-click", START)
    with session_factory.begin() as s:
        result = ask(s, address="person0@example.com", source="api")
    assert result.send_to == "person0@example.com" and result.request is not None
    with session_factory() as s:  # still suppressed, and their consent record untouched, until the link is clicked
        sub = s.get(Subscriber, sid)
        assert (sub.status, sub.consent_source) == ("unsubscribed", "imported from the 2025 newsletter list")
        assert s.scalar(select(Suppression)) is not None
    with session_factory.begin() as s:
        confirm_signup(s, result.request, "203.0.113.9", T)
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.status, sub.consent_source, sub.consent_at) == ("active", "api", T)
        assert s.scalar(select(Suppression)) is None
        assert s.scalar(select(Enrollment.status)) == "active"


def test_confirmation_emails_to_one_address_are_capped_whoever_asks(session_factory):
    """Issue 19, point 4: at most one an hour and three a day per address, from any number of networks."""
    make_campaign(session_factory)
    sent = []
    for i in range(20):  # a request every half hour, each from another network
        with session_factory.begin() as s:
            result = ask(s, address="victim@example.com", at=T + timedelta(minutes=30 * i), ip=f"198.51.{i}.7")
        sent.append(result.send_to is not None)
    assert sent[:5] == [True, False, True, False, True] and sum(sent) == 3
    with session_factory.begin() as s:  # a day after the first, one more may go
        assert ask(s, address="victim@example.com", at=T + timedelta(days=1, minutes=1), ip="192.0.2.1").send_to


def test_requests_from_one_ipv6_network_are_counted_together(session_factory):
    make_campaign(session_factory)
    answered = 0
    for i in range(20):  # twenty addresses of one /64, twenty different victims
        try:
            with session_factory.begin() as s:
                ask(s, address=f"victim{i}@example.com", ip=f"2001:db8:7:1::{i + 1:x}")
            answered += 1
        except RateLimited as err:
            assert err.retry_after > 0
    assert answered == 5
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 5
    with session_factory.begin() as s:  # the next /64 is another client
        ask(s, address="someone@example.com", ip="2001:db8:7:2::1")


@pytest.mark.parametrize("reason", ["complaint", "hard_bounce", "manual"])
def test_a_blocked_address_gets_nothing_and_nothing_is_stored(session_factory, reason):
    make_campaign(session_factory)
    with session_factory.begin() as s:
        suppress(s, "ann@example.com", reason, "test", START)
    with session_factory.begin() as s:
        result = ask(s)
    assert (result.subscriber_id, result.send_to) == (None, None)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_an_erased_address_is_never_mailed_again(session_factory):
    cid = make_campaign(session_factory)
    with session_factory.begin() as s:
        link = ask(s, address="person0@example.com").request
    with session_factory.begin() as s:
        sid = s.scalar(select(Subscriber.id))
        erase_subscriber(s, sid, START)
    with session_factory() as s:  # the request (a name, an IP) went with the rest
        assert s.scalar(select(func.count()).select_from(SignupRequest)) == 0
    with pytest.raises(TokenError), session_factory.begin() as s:
        confirm_signup(s, link, None, T)
    assert cid
    with session_factory.begin() as s:
        assert ask(s, address="PERSON0@example.com").send_to is None


@pytest.mark.parametrize(
    "field, kwargs", [("email", {"address": "ann@"}), ("timezone", {"tz": "Moon/Base"}), ("name", {"name": "n" * 201})]
)
def test_bad_fields_are_named(session_factory, field, kwargs):
    make_campaign(session_factory)
    with pytest.raises(SignupError) as err, session_factory.begin() as s:
        ask(s, **kwargs)
    assert err.value.field == field


def test_no_open_campaign(session_factory):
    make_campaign(session_factory, status="draft")
    with pytest.raises(NotFound), session_factory.begin() as s:
        ask(s)


def test_the_confirmation_email_carries_the_link_and_one_click_unsubscribe(session_factory, brand):
    cid = make_campaign(session_factory)
    with session_factory.begin() as s:
        result = ask(s)
        batch = confirmation_batch(result, s.get(Campaign, cid), brand, LINKS)
    [recipient] = batch.recipients
    html, text = batch.content.fill(recipient.values)
    confirm = LINKS.confirm_url(result.request.request_id, result.request.nonce)
    assert confirm in text and confirm in html and text.startswith("Hello,")
    # Nothing the requester typed but the address: the name (maybe not its owner's) waits for the confirmation.
    assert "Ann" not in text and "Ann" not in html and recipient.name is None
    msg = build_message(batch, recipient, now=T, html=html, text=text)
    assert msg["To"] == "Ann@example.com"
    # With the campaign: leaving from the confirmation email is counted in its stats (left before the first email).
    assert msg["List-Unsubscribe"] == f"<{LINKS.unsubscribe_url(result.subscriber_id, cid)}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert brand.address in text and "%%" not in html + text


def test_the_confirmation_email_has_crisis_lines_for_the_readers_zone_and_no_entities_in_its_text(
    session_factory, brand
):
    cid = make_campaign(session_factory)
    with session_factory.begin() as s:
        result = ask(s)
        batch = confirmation_batch(result, s.get(Campaign, cid), brand, LINKS, "Europe/London")
        us = confirmation_batch(result, s.get(Campaign, cid), brand, LINKS, "America/Chicago")
    [recipient] = batch.recipients
    html, text = batch.content.fill(recipient.values)
    assert "Samaritans" in text and 'href="tel:116123"' in html  # the United Kingdom's lines
    assert brand.notice in text
    # The text part is plain text: "Suicide & Crisis", never "&amp;" (it was, when rendered with autoescape on).
    assert not re.search(r"&[a-zA-Z]+;|&#\d+;", text)
    _, us_text = us.content.fill(us.recipients[0].values)
    assert "988 Suicide & Crisis Lifeline" in us_text and "&amp;" not in us_text
