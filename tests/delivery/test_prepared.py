"""Emails prepared ahead, on both databases: a scheduled campaign's first emails are created before its start in
batches held until they fall due, so the start only hands them out; whatever changes before the start (an
unsubscribe, a pause, a new start or window, a daily cap) is honoured, and each email still goes once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from campaigns.audience.preferences import pause
from campaigns.audience.unsubscribe import unsubscribe
from campaigns.db.models import Campaign, Delivery, Enrollment, SendBatch, Subscriber
from campaigns.delivery import sending
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.schedule import SendingWindow
from campaigns.management.editing import edit_window
from campaigns.management.lifecycle import (
    archive_campaign,
    audience_of,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
)
from tests.builders import LINKS, NO_WAIT, START, Clock, enroll, make_campaign

N = 25
BEFORE = START - timedelta(hours=1)


def _tick(factory, at: datetime, batch_size: int = 10) -> tuple[drip.TickReport, list[list[int]]]:
    emitted: list[list[int]] = []
    return drip.tick(factory, at, emitted.append, batch_size=batch_size), emitted


def _send(factory, brand, emitted: list[list[int]], at: datetime, provider=None) -> list[str]:
    """Send what a tick handed out; the addresses mailed, in order."""
    provider = provider or RecordingProvider()
    for ids in emitted:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, Clock(at), retry=NO_WAIT)
    return [r.email for b in provider.batches for r in b.recipients]


def _held(factory) -> list[tuple[datetime, int]]:
    """The held batches: (due time, deliveries in it), by id."""
    with factory() as s:
        return [
            (due, n)
            for due, n in s.execute(
                select(SendBatch.lease_until, func.count(Delivery.id))
                .join(Delivery, Delivery.batch_id == SendBatch.id)
                .where(SendBatch.status == ds.BATCH_HELD)
                .group_by(SendBatch.id)
                .order_by(SendBatch.id)
            )
        ]


def _enrollments(factory) -> Counter[tuple[str, int]]:
    with factory() as s:
        return Counter(tuple(r) for r in s.execute(select(Enrollment.status, Enrollment.next_step)))


def _prepared(factory, n: int = N, **campaign) -> list[int]:
    """A campaign scheduled for START with `n` subscribers, and a tick an hour before: their emails prepared."""
    cid = make_campaign(factory, **campaign)
    people = enroll(factory, cid, n)
    report, emitted = _tick(factory, BEFORE)
    assert (report.prepared, report.created, emitted) == (n, 0, [])
    return people


def test_a_tick_before_the_start_prepares_each_first_email_once_and_the_start_hands_each_out_once(
    session_factory, brand
):
    _prepared(session_factory)
    # Held until the start, in full batches with the last ones shrinking, so two workers finish together.
    assert _held(session_factory) == [(START, 10), (START, 8), (START, 4), (START, 2), (START, 1)]
    assert _enrollments(session_factory) == {("sending", 1): N}
    assert _tick(session_factory, BEFORE)[0].prepared == 0  # a second tick before the start adds nothing
    assert _tick(session_factory, START - timedelta(seconds=1))[1] == []  # not due yet: nothing handed out

    report, emitted = _tick(session_factory, START)
    assert report.created == 0 and report.queued == N
    ids = [i for batch in emitted for i in batch]
    assert len(ids) == len(set(ids)) == N
    assert _tick(session_factory, START)[1] == []  # handed out once
    sent = _send(session_factory, brand, emitted, START)
    assert sorted(sent) == sorted(f"person{i}@example.com" for i in range(N))
    assert _held(session_factory) == []
    assert _enrollments(session_factory) == {("active", 2): N}


def test_each_prepared_email_waits_for_its_own_due_time(session_factory, brand):
    cid = make_campaign(session_factory, window=(range(7), 9, 17))
    people = enroll(session_factory, cid, 3)  # New York: START is 09:00 there, in the window
    with session_factory.begin() as s:  # 23:00 in Tokyo at START: the first email waits for 09:00 there
        s.execute(update(Subscriber).where(Subscriber.id == people[0]).values(timezone="Asia/Tokyo"))
    tokyo = START + timedelta(hours=10)
    assert _tick(session_factory, BEFORE)[0].prepared == 3
    assert sorted(_held(session_factory)) == [(START, 2), (tokyo, 1)]
    assert sorted(_send(session_factory, brand, _tick(session_factory, START)[1], START)) == [
        "person1@example.com",
        "person2@example.com",
    ]
    assert _send(session_factory, brand, _tick(session_factory, tokyo)[1], tokyo) == ["person0@example.com"]


def test_someone_who_unsubscribes_before_the_start_is_not_mailed(session_factory, brand):
    people = _prepared(session_factory)
    with session_factory.begin() as s:
        unsubscribe(s, people[3], "page", BEFORE)
    sent = _send(session_factory, brand, _tick(session_factory, START)[1], START)
    assert len(sent) == len(set(sent)) == N - 1 and "person3@example.com" not in sent
    with session_factory() as s:
        theirs = s.scalar(select(Delivery.status).join(Enrollment).where(Enrollment.subscriber_id == people[3]))
    assert theirs == ds.CANCELLED


def test_someone_who_pauses_their_emails_before_the_start_gets_the_first_one_after_the_pause(session_factory, brand):
    people = _prepared(session_factory)
    with session_factory.begin() as s:
        until = pause(s, people[0], 1, BEFORE).paused_until
    assert sum(n for _, n in _held(session_factory)) == N - 1  # theirs is forgotten, their enrollment waits
    sent = _send(session_factory, brand, _tick(session_factory, START)[1], START)
    assert len(sent) == N - 1 and "person0@example.com" not in sent
    assert _tick(session_factory, START + timedelta(hours=1))[0].prepared == 0  # running now: nothing to prepare
    later = _send(session_factory, brand, _tick(session_factory, until)[1], until)
    assert later.count("person0@example.com") == 1  # (the others' second emails fall due meanwhile)
    with session_factory() as s:
        theirs = s.execute(
            select(Delivery.step_number, Delivery.status).join(Enrollment).where(Enrollment.subscriber_id == people[0])
        ).all()
    assert [tuple(r) for r in theirs] == [(1, ds.ACCEPTED)]


def test_a_subscriber_paused_past_the_start_is_not_prepared(session_factory):
    cid = make_campaign(session_factory)
    people = enroll(session_factory, cid, 3)
    with session_factory.begin() as s:
        s.execute(update(Subscriber).where(Subscriber.id == people[1]).values(paused_until=START + timedelta(days=7)))
    assert _tick(session_factory, BEFORE)[0].prepared == 2


def test_pausing_before_the_start_releases_what_was_prepared_and_resuming_prepares_it_again(session_factory, brand):
    _prepared(session_factory)
    with session_factory.begin() as s:
        pause_campaign(s, "test", BEFORE, actor="ana")
    assert _held(session_factory) == []
    assert _enrollments(session_factory) == {("active", 1): N}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0
    assert _tick(session_factory, START)[1] == []  # paused: nothing goes at the start
    with session_factory.begin() as s:
        assert resume_campaign(s, "test", BEFORE, actor="ana").status == "scheduled"
    assert _tick(session_factory, BEFORE)[0].prepared == N
    sent = _send(session_factory, brand, _tick(session_factory, START)[1], START)
    assert len(sent) == len(set(sent)) == N


def test_archiving_before_the_start_releases_what_was_prepared(session_factory):
    _prepared(session_factory)
    with session_factory.begin() as s:
        archive_campaign(s, "test", BEFORE, actor="ana")
    assert _held(session_factory) == []
    assert _tick(session_factory, START)[1] == []


def test_a_new_start_prepares_the_first_emails_again_for_it(session_factory, brand):
    _prepared(session_factory)
    later = START + timedelta(days=2)
    with session_factory.begin() as s:
        schedule_campaign(s, "test", later, BEFORE, actor="ana")
    assert _held(session_factory) == []
    assert _tick(session_factory, BEFORE)[0].prepared == N
    assert {due for due, _ in _held(session_factory)} == {later}
    assert _tick(session_factory, START)[1] == []  # the old start sends nothing
    sent = _send(session_factory, brand, _tick(session_factory, later)[1], later)
    assert len(sent) == len(set(sent)) == N


def test_a_new_window_or_cap_releases_what_was_prepared(session_factory):
    _prepared(session_factory)
    with session_factory.begin() as s:  # 15:00 in New York is 20:00 UTC
        edit_window(s, "test", BEFORE, actor="ana", window=SendingWindow(frozenset(range(7)), 15, 17))
    assert _held(session_factory) == []
    assert _tick(session_factory, BEFORE)[0].prepared == N
    assert {due for due, _ in _held(session_factory)} == {START + timedelta(hours=6)}
    with session_factory.begin() as s:  # a cap counts per day as the tick creates: nothing prepared past it
        edit_window(s, "test", BEFORE, actor="ana", daily_cap=10)
    assert _held(session_factory) == []
    assert _tick(session_factory, BEFORE)[0].prepared == 0


def test_a_campaign_with_a_daily_cap_is_created_at_its_start_within_the_cap(session_factory):
    cid = make_campaign(session_factory, daily_cap=10)
    enroll(session_factory, cid, N)
    assert _tick(session_factory, BEFORE)[0].prepared == 0
    assert _tick(session_factory, START)[0].created == 10


def test_the_audience_counts_prepared_emails_apart_from_those_being_sent(session_factory):
    people = _prepared(session_factory)

    def audience() -> tuple[int, int, int, int]:
        with session_factory() as s:
            a = audience_of(s, s.scalars(select(Campaign)).one())
            return a.active, a.prepared, a.sending, a.remaining

    assert audience() == (0, N, 0, N)
    with session_factory.begin() as s:
        unsubscribe(s, people[0], "page", BEFORE)  # theirs stays held until the hand-out cancels it
    assert audience() == (0, N - 1, 0, N - 1)
    _tick(session_factory, START)  # handed out: on its way now
    assert audience() == (0, 0, N - 1, N - 1)
