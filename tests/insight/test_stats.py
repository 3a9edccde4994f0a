"""Stats on a known set of deliveries and events: exact counts, rates, funnel, days, queue health, thresholds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from campaigns.db.models import Delivery, Enrollment, Subscriber
from campaigns.delivery import state as ds
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from campaigns.insight.stats import (
    Counts,
    Level,
    campaign_stats,
    level,
    queue_health,
    send_latency_buckets,
    unmatched_events,
)
from tests.builders import START
from tests.insight.support import sent_campaign, sg_event

DAY1, DAY2 = START, START + timedelta(days=1)


@pytest.fixture
def known(session_factory):
    """10 people got step 1, the first 6 step 2, the first 2 step 3; then these events arrived."""
    _, d = sent_campaign(session_factory, 10, steps=(1, 2, 3))
    with session_factory.begin() as s:
        # Step 2 reached only people 0-5, step 3 only 0-1: the rest is still queued (not sent).
        later = [d[(i, 2)] for i in range(6, 10)] + [d[(i, 3)] for i in range(2, 10)]
        s.execute(update(Delivery).where(Delivery.id.in_(later)).values(status=ds.QUEUED, sent_at=None, due_at=DAY2))
        s.execute(update(Delivery).where(Delivery.id.in_([d[(i, 2)] for i in range(6)])).values(sent_at=DAY2))
    ev = []
    ev += [sg_event("delivered", i, d[(i, 1)], DAY1) for i in range(9)]  # 9 of 10 delivered
    ev += [sg_event("bounce", 9, d[(9, 1)], DAY1, type="bounce")]  # 1 hard bounce
    ev += [sg_event("open", i, d[(i, 1)], DAY1) for i in (0, 0, 0, 1, 2, 3)]  # 4 unique openers
    ev += [sg_event("click", i, d[(i, 1)], DAY1) for i in (0, 0, 1)]  # 2 unique clickers
    ev += [sg_event("spamreport", 3, d[(3, 1)], DAY2)]  # 1 complaint, on day 2
    ev += [sg_event("delivered", i, d[(i, 2)], DAY2, step=2) for i in range(6) if i != 3]
    ev += [sg_event("open", 4, d[(4, 2)], DAY2, step=2)]
    ev += [sg_event("unsubscribe", 5, d[(5, 2)], DAY2, step=2)]
    ev += [sg_event("open", 7, None, DAY2, message_id="not-ours")]  # unmatched: not counted
    with session_factory.begin() as s:
        record_events(s, [from_sendgrid(e, DAY2) for e in ev], DAY2, soft_bounce_limit=3)
    return d


def test_per_step_and_total_counts_are_exact(session_factory, known):
    with session_factory() as s:
        (stats,) = campaign_stats(s)
        assert unmatched_events(s) == 1
    step1, step2, step3 = stats.steps
    assert (
        step1.counts.sent,
        step1.counts.delivered,
        step1.counts.opened,
        step1.counts.clicked,
        step1.counts.bounced,
        step1.counts.complained,
        step1.counts.unsubscribed,
    ) == (10, 9, 4, 2, 1, 1, 0)
    assert (step2.counts.sent, step2.counts.delivered, step2.counts.opened, step2.counts.unsubscribed) == (6, 5, 1, 1)
    assert (step3.counts.sent, step3.counts.delivered) == (2, 0)
    assert stats.total == Counts(
        sent=18, delivered=14, opened=5, clicked=2, bounced=1, dropped=0, complained=1, unsubscribed=1
    )
    assert [s.subject for s in stats.steps] == ["Step 1", "Step 2", "Step 3"]


def test_rates_and_health(session_factory, known):
    with session_factory() as s:
        (stats,) = campaign_stats(s)
    r = stats.steps[0].counts.rates()
    assert r["delivery_rate"] == pytest.approx(0.9) and r["open_rate"] == pytest.approx(4 / 9)
    assert r["click_rate"] == pytest.approx(2 / 9) and r["bounce_rate"] == pytest.approx(0.1)
    assert r["complaint_rate"] == pytest.approx(1 / 9)
    # 1 complaint in 14 delivered and 1 bounce in 18 sent: both far past what mailbox providers accept.
    assert stats.total.health() == {"complaints": "danger", "bounces": "danger", "overall": "danger"}


def test_funnel_counts_subscribers_reaching_each_step(session_factory, known):
    with session_factory() as s:
        (stats,) = campaign_stats(s)
    assert stats.funnel == [("enrolled", 10), ("step 1", 10), ("step 2", 6), ("step 3", 2)]


def test_days_split_the_counts(session_factory, known):
    with session_factory() as s:
        (stats,) = campaign_stats(s, with_days=True)
    assert [d.day for d in stats.days] == [date(2027, 1, 4), date(2027, 1, 5)]
    first, second = (d.counts for d in stats.days)
    assert (first.sent, first.delivered, first.opened, first.bounced, first.complained) == (12, 9, 4, 1, 0)
    assert (second.sent, second.delivered, second.opened, second.complained, second.unsubscribed) == (6, 5, 1, 1, 1)


def test_queue_health(session_factory, known):
    with session_factory.begin() as s:
        s.execute(update(Delivery).where(Delivery.id == known[(2, 1)]).values(status=ds.UNKNOWN))
    with session_factory() as s:
        before = queue_health(s, DAY1)
        after = queue_health(s, DAY2 + timedelta(minutes=30))
    # 12 were queued; the bounce (person 9), complaint (3) and unsubscribe (5) cancelled 4 of them.
    assert (before.queued, before.queued_due, before.unknown, before.oldest_due) == (8, 0, 1, None)
    assert (after.queued_due, after.oldest_due) == (8, DAY2)
    assert after.oldest_due_seconds(DAY2 + timedelta(minutes=30)) == 1800
    assert after.level(DAY2 + timedelta(minutes=30)) is Level.WARNING


def test_send_latency_buckets(session_factory, known):
    with session_factory() as s:
        counts, total, n = send_latency_buckets(s, [30.0, 61.0, 86399.0, 86401.0])
    # Steps 1 and 3 (12 sent) left one minute after due; step 2 (6 sent) one day after.
    assert (counts, n) == ([0, 12, 12, 18], 18)
    assert total == pytest.approx(12 * 60 + 6 * 86400)


@pytest.mark.parametrize(
    "rate, expected",
    [(None, Level.OK), (0.0009, Level.OK), (0.001, Level.WARNING), (0.0029, Level.WARNING), (0.003, Level.DANGER)],
)
def test_complaint_thresholds(rate, expected):
    assert level(rate, 0.001, 0.003) is expected


def test_paused_subscribers_and_a_full_daily_cap_are_not_a_stuck_queue(session_factory):
    """Due enrollments the tick leaves alone on purpose raise no alarm: a subscriber who paused their emails, and
    those a campaign's daily cap holds for tomorrow (counted apart). Only what the tick would take now counts."""
    from campaigns.delivery import tick as drip
    from tests.builders import enroll, make_campaign

    cid = make_campaign(session_factory, status="running", daily_cap=2)
    people = enroll(session_factory, cid, 5)
    late = START + timedelta(hours=2)
    with session_factory.begin() as s:
        s.execute(update(Enrollment).values(next_due_at=START))
        s.execute(update(Subscriber).where(Subscriber.id == people[0]).values(paused_until=START + timedelta(weeks=4)))
    with session_factory() as s:
        waiting = queue_health(s, late)
    # 4 may be mailed (one paused); the cap lets 2 go today, and nothing went yet: 2 waiting on the tick.
    assert (waiting.due_enrollments, waiting.held_by_cap) == (2, 2)
    assert waiting.level(late) is Level.DANGER  # those 2 are two hours late: a real alarm (no tick ran)
    drip.tick(session_factory, late, lambda ids: None)  # the tick takes its 2; the cap holds the rest
    with session_factory() as s:
        after = queue_health(s, late + timedelta(hours=2))
        held = s.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.status == "active"))
    assert held == 3  # the paused one and the two over the cap
    assert (after.due_enrollments, after.held_by_cap) == (0, 2)
    # What waits now is the 2 created deliveries (queued, handed out, leased): not the paused or the capped.
    assert after.oldest_due == START and after.queued_due == 2
    with session_factory.begin() as s:
        s.execute(update(Delivery).values(status=ds.ACCEPTED))
    with session_factory() as s:
        calm = queue_health(s, late + timedelta(hours=2))
    assert (calm.due_enrollments, calm.held_by_cap, calm.oldest_due) == (0, 2, None)
    assert calm.level(late + timedelta(hours=2)) is Level.OK
