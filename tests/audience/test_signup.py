"""campaigns.audience.signup on both databases: double opt-in, no duplicates, nothing revealed, blocked addresses never
mailed, and the confirmation email itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaigns.audience.privacy import erase_subscriber
from campaigns.audience.signup import (
    SignupError,
    confirm_signup,
    confirmation_batch,
    request_signup,
)
from campaigns.audience.unsubscribe import unsubscribe
from campaigns.db.models import Campaign, Enrollment, Subscriber, Suppression
from campaigns.delivery.message import build_message
from campaigns.delivery.suppression import suppress
from campaigns.errors import NotFound, StateError
from campaigns.tokens import TokenData
from tests.builders import LINKS, START, enroll, make_campaign

T = START + timedelta(days=1)


def ask(s, address="Ann@Example.com", name="Ann Lee", tz="Europe/Berlin", source="signup form"):
    return request_signup(s, address, name, tz, "test", "203.0.113.9", T, source=source)


def test_request_makes_one_pending_subscriber_and_confirm_enrolls(session_factory):
    cid = make_campaign(session_factory)
    with session_factory.begin() as s:
        first = ask(s)
    with session_factory.begin() as s:
        again = ask(s, address="ann@example.com", name="Ann", tz="Europe/Paris", source="api")
    assert first.subscriber_id == again.subscriber_id and first.send_to == again.send_to == "Ann@example.com"
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.name, sub.timezone, sub.consent_source, sub.consent_at) == (
            "pending",
            "Ann",
            "Europe/Paris",
            "api",
            None,
        )
        assert s.scalar(select(func.count()).select_from(Enrollment)) == 0

    with session_factory.begin() as s:
        result = confirm_signup(s, TokenData(first.subscriber_id, cid), "203.0.113.9", T + timedelta(hours=1))
    assert result.enrolled and not result.already
    with session_factory() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.consent_at, sub.consent_source, sub.consent_ip) == (
            "active",
            T + timedelta(hours=1),
            "api",
            "203.0.113.9",
        )
        [e] = s.scalars(select(Enrollment)).all()
        assert (e.campaign_id, e.next_step, e.next_due_at, e.status) == (cid, 1, None, "active")
    with session_factory.begin() as s:
        assert confirm_signup(s, TokenData(first.subscriber_id, cid), "198.51.100.1", T + timedelta(days=2)).already
    with session_factory() as s:
        assert s.scalar(select(Subscriber.consent_ip)) == "203.0.113.9"  # the second click changed nothing


def test_an_enrolled_subscriber_is_not_mailed_again_and_their_data_is_untouched(session_factory):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        result = ask(s, address="person0@example.com", name="Mallory", tz="Asia/Tokyo")
    assert (result.subscriber_id, result.send_to) == (sid, None)
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.name, sub.timezone) == ("Person 0", "America/New_York")


def test_an_unsubscribed_person_can_sign_up_again_and_confirming_lifts_the_unsubscribe(session_factory):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        unsubscribe(s, sid, "one-click", START)
    with session_factory.begin() as s:
        result = ask(s, address="person0@example.com")
    assert result.send_to == "person0@example.com"
    with session_factory() as s:  # still suppressed until the link is clicked
        assert s.get(Subscriber, sid).status == "unsubscribed" and s.scalar(select(Suppression)) is not None
    with session_factory.begin() as s:
        confirm_signup(s, TokenData(sid, cid), "203.0.113.9", T)
    with session_factory() as s:
        assert s.get(Subscriber, sid).status == "active" and s.scalar(select(Suppression)) is None
        assert s.scalar(select(Enrollment.status)) == "active"


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
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        erase_subscriber(s, sid, START)
    with session_factory.begin() as s:
        assert ask(s, address="PERSON0@example.com").send_to is None
    with pytest.raises(StateError), session_factory.begin() as s:
        confirm_signup(s, TokenData(sid, cid), None, T)


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
    confirm = LINKS.confirm_url(result.subscriber_id, cid)
    assert confirm in text and confirm in html and "Hi Ann" in text
    msg = build_message(batch, recipient, now=T, html=html, text=text)
    # With the campaign: leaving from the confirmation email is counted in its stats (left before the first email).
    assert msg["List-Unsubscribe"] == f"<{LINKS.unsubscribe_url(result.subscriber_id, cid)}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert brand.address in text and "%%" not in html + text
