"""The forecast on a known population: exact counts per day, with and without a daily cap, and the same numbers the
real tick and send path then produce on a simulated clock (both databases)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.management.forecast import describe_next, forecast, next_sends
from tests.builders import KEYS, LINKS, NO_WAIT, START, Clock, enroll, make_campaign

NOW = START - timedelta(days=1)  # Sunday 3 January 2027, 14:00 UTC; the campaign starts Monday 14:00 UTC


def JAN(day: int) -> date:
    return date(2027, 1, day)


def counts(rows) -> dict[date, int]:
    return {d: n for d, n in rows if n}


def test_every_subscriber_gets_one_step_a_day_without_a_cap(session_factory):
    cid = make_campaign(session_factory)  # 3 steps one day apart, window all week, all day
    enroll(session_factory, cid, 5)
    with session_factory() as s:
        rows = forecast(s, "test", NOW)
        nexts = next_sends(s, "test", NOW)
    assert len(rows) == 14 and rows[0] == (JAN(3), 0) and rows[-1][0] == JAN(16)
    assert counts(rows) == {JAN(4): 5, JAN(5): 5, JAN(6): 5}
    assert [(n.step, n.subscribers, n.first_at) for n in nexts] == [(1, 5, START)]
    assert describe_next(nexts) == "step 1: 5 subscribers at Mon 04 Jan 14:00 UTC"


def test_emails_prepared_before_the_start_are_forecast_at_the_start_not_now(session_factory):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 5)
    assert drip.tick(session_factory, NOW, lambda ids: None).prepared == 5  # created a day ahead, held until START
    with session_factory() as s:
        rows = forecast(s, "test", NOW)
        nexts = next_sends(s, "test", NOW)
    assert counts(rows) == {JAN(4): 5, JAN(5): 5, JAN(6): 5}
    assert [(n.step, n.subscribers, n.first_at) for n in nexts] == [(1, 5, START)]


def test_a_daily_cap_spreads_the_sends_and_carries_the_rest_to_midnight(session_factory):
    cid = make_campaign(session_factory, daily_cap=3)
    enroll(session_factory, cid, 5)
    with session_factory() as s:
        rows = forecast(s, "test", NOW)
        (first,) = next_sends(s, "test", NOW)
    # Monday: 3 of 5 first emails; the other 2 go at 00:00 UTC Tuesday with one second email, and so on.
    assert counts(rows) == {JAN(4): 3, JAN(5): 3, JAN(6): 3, JAN(7): 3, JAN(8): 3}
    assert (first.subscribers, first.first_at, first.last_at) == (5, START, datetime(2027, 1, 5, tzinfo=UTC))


def test_subscribers_at_different_steps_in_a_working_hours_window(session_factory):
    cid = make_campaign(session_factory, status="running", window=(range(5), 9, 17))  # Mon-Fri 9-17 local
    ids = enroll(session_factory, cid, 4)  # New York
    with session_factory.begin() as s:
        # one waits for step 2 on Friday 8 Jan 15:00 NY, one for step 3 on Tuesday 5 Jan 10:00 NY, one has left
        s.execute(
            update(Enrollment)
            .where(Enrollment.subscriber_id == ids[0])
            .values(next_step=2, next_due_at=datetime(2027, 1, 8, 20, tzinfo=UTC), last_sent_at=NOW)
        )
        s.execute(
            update(Enrollment)
            .where(Enrollment.subscriber_id == ids[1])
            .values(next_step=3, next_due_at=datetime(2027, 1, 5, 15, tzinfo=UTC), last_sent_at=NOW)
        )
        s.execute(update(Subscriber).where(Subscriber.id == ids[2]).values(status="unsubscribed"))
    with session_factory() as s:
        rows = forecast(s, "test", NOW)
        nexts = next_sends(s, "test", NOW)
    # ids[3]: steps 1-3 Mon 4, Tue 5, Wed 6 at 14:00 UTC; ids[1]: step 3 Tue 5;
    # ids[0]: step 2 Fri 8, step 3 a day later is Saturday, so Monday 11 at 15:00 NY.
    assert counts(rows) == {JAN(4): 1, JAN(5): 2, JAN(6): 1, JAN(8): 1, JAN(11): 1}
    assert [(n.step, n.subscribers) for n in nexts] == [(1, 1), (2, 1), (3, 1)]


def test_a_paused_or_draft_campaign_forecasts_nothing(session_factory):
    cid = make_campaign(session_factory, status="paused")
    enroll(session_factory, cid, 3)
    with session_factory() as s:
        assert counts(forecast(s, "test", NOW)) == {} and next_sends(s, "test", NOW) == []


def test_the_real_drip_sends_what_the_forecast_said(session_factory, brand):
    cid = make_campaign(session_factory, daily_cap=4, window=(range(5), 9, 17))
    enroll(session_factory, cid, 3, tz="America/New_York")
    _rename_and_enroll(session_factory, cid)  # a second group in Berlin, so windows and the cap interact
    with session_factory() as s:
        expected = counts(forecast(s, "test", NOW))
    assert sum(expected.values()) == 6 * 3

    provider, clock = RecordingProvider(), Clock(NOW)
    for _ in range(200):
        batches: list[list[int]] = []
        drip.tick(session_factory, clock(), batches.append)
        for ids in batches:
            sending.send_deliveries(session_factory, provider, LINKS, brand, ids, clock, retry=NO_WAIT)
        wake = _next_wake(session_factory, clock())
        if wake is None:
            break
        clock.at = wake
    with session_factory() as s:
        actual = Counter(d.date() for d in s.scalars(select(Delivery.sent_at)))
    assert dict(actual) == expected


def _rename_and_enroll(factory, cid) -> None:
    """Three more subscribers in Berlin (builders name them person0..2 again, so rename the first group first)."""
    with factory.begin() as s:
        for sub in s.scalars(select(Subscriber)):
            sub.email = f"ny-{sub.email}"
            sub.email_key = KEYS.of(sub.email)
    enroll(factory, cid, 3, tz="Europe/Berlin")


def _next_wake(factory, now: datetime) -> datetime | None:
    """The next moment the tick has work: the earliest due time, or the next UTC midnight while some are capped."""
    with factory() as s:
        due = s.scalar(select(func.min(Enrollment.next_due_at)).where(Enrollment.status == "active"))
        start = s.scalar(select(Campaign.start_at).where(Campaign.status == "scheduled"))
    candidates = [t for t in (due, start) if t is not None]
    if not candidates:
        return None
    wake = min(candidates)
    if wake <= now:  # due but held back by the cap: the next allowance opens at midnight UTC
        wake = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return wake
