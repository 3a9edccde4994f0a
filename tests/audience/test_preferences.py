"""campaigns.audience.preferences on both databases: a pause holds queued email back; names and zones are checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.audience.preferences import (
    PreferenceError,
    pause,
    resume,
    update_profile,
)
from campaigns.db.models import Delivery, Enrollment, Subscriber
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from tests.builders import START, Clock, enroll, make_campaign, tick_and_send


def test_pause_holds_back_queued_email_and_the_series_goes_on_after(session_factory, brand):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    drip.tick(session_factory, START, lambda ids: None)  # step 1 queued
    with session_factory.begin() as s:
        pause(s, sid, 2, START)
    with session_factory() as s:
        assert s.scalar(select(Subscriber.paused_until)) == START + timedelta(weeks=2)
        assert s.scalar(select(Delivery.id)) is None and s.scalar(select(Enrollment.status)) == "active"
    clock, provider = Clock(START + timedelta(days=3)), RecordingProvider()
    tick_and_send(session_factory, provider, clock, brand)
    assert provider.batches == []  # nothing during the pause
    with session_factory.begin() as s:
        resume(s, sid, clock())
    tick_and_send(session_factory, provider, clock, brand)
    assert [b.step for b in provider.batches] == [1]


@pytest.mark.parametrize(
    "name, tz, field", [("A" * 201, "UTC", "name"), ("Ann", "Nowhere", "timezone"), ("Ann", "", "timezone")]
)
def test_profile_changes_are_checked(session_factory, name, tz, field):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with pytest.raises(PreferenceError) as err, session_factory.begin() as s:
        update_profile(s, sid, name, tz)
    assert err.value.field == field


def test_a_pause_needs_a_listed_length(session_factory):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with pytest.raises(PreferenceError), session_factory.begin() as s:
        pause(s, sid, 3, START)


def test_the_first_name_field_sets_the_greeting_and_keeps_a_full_name(session_factory):
    cid = make_campaign(session_factory)
    [full, single] = enroll(session_factory, cid, 2)  # named "Person 0" and "Person 1"
    with session_factory.begin() as s:
        s.get(Subscriber, single).name = "Sam"  # as the sign-up form stores a first name
    with session_factory.begin() as s:
        update_profile(s, full, "Pat", "Europe/Dublin")
        update_profile(s, single, "Samantha", "UTC")
    with session_factory() as s:
        one, two = s.get(Subscriber, full), s.get(Subscriber, single)
        assert (one.first_name, one.name, one.timezone) == ("Pat", "Person 0", "Europe/Dublin")
        assert (two.first_name, two.name) == ("Samantha", "Samantha")  # a first name only: the To: line follows
