"""campaigns.audience.unsubscribe on both databases: leaving stops every pending email before the next send; resubscribe
undoes it, and only an unsubscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.audience.unsubscribe import resubscribe, unsubscribe
from campaigns.db.models import Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery import sending
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.suppression import suppress
from campaigns.errors import NotFound, StateError
from tests.builders import KEYS, LINKS, NO_WAIT, START, Clock, enroll, make_campaign, tick_and_send


def statuses(factory, model, column, sid):
    with factory() as s:
        if model is Delivery:
            return list(
                s.scalars(
                    select(Delivery.status)
                    .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                    .where(Enrollment.subscriber_id == sid)
                    .order_by(Delivery.step_number)
                )
            )
        return list(s.scalars(select(column).where(model.subscriber_id == sid)))


def test_unsubscribe_records_time_and_source_and_stops_everything(session_factory, brand):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    clock, provider = Clock(START), RecordingProvider()
    tick_and_send(session_factory, provider, clock, brand)  # step 1 sent
    clock.at += timedelta(days=1)
    drip.tick(session_factory, clock(), lambda ids: None)  # step 2 created and handed out, not sent
    assert statuses(session_factory, Delivery, None, sid) == [ds.ACCEPTED, ds.QUEUED]

    with session_factory.begin() as s:
        unsubscribe(s, sid, "one-click", clock())
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.status, sub.unsubscribed_at, sub.unsubscribe_source) == ("unsubscribed", clock(), "one-click")
        assert s.scalar(select(Suppression.reason).where(Suppression.email_key == sub.email_key)) == "unsubscribed"
    assert statuses(session_factory, Delivery, None, sid) == [ds.ACCEPTED, ds.CANCELLED]
    assert statuses(session_factory, Enrollment, Enrollment.status, sid) == ["stopped"]

    for _ in range(3):  # nothing more, whatever the tick and the sender do next
        clock.at += timedelta(days=1)
        tick_and_send(session_factory, provider, clock, brand)
    assert [b.step for b in provider.batches] == [1]


def test_a_claimed_but_unsent_email_is_cancelled_too(session_factory, brand):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with session_factory.begin() as s:  # a worker claimed it (sending) but has not submitted it
        s.execute(Delivery.__table__.update().values(status=ds.SENDING))
    with session_factory.begin() as s:
        unsubscribe(s, sid, "page", START)
    provider = RecordingProvider()
    for ids in emitted:
        sending.send_deliveries(session_factory, provider, LINKS, brand, ids, Clock(START), retry=NO_WAIT)
    assert provider.batches == [] and statuses(session_factory, Delivery, None, sid) == [ds.CANCELLED]


def test_unsubscribe_is_idempotent_and_keeps_the_first_record(session_factory):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        unsubscribe(s, sid, "page", START)
    with session_factory.begin() as s:
        unsubscribe(s, sid, "one-click", START + timedelta(hours=1))
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.unsubscribed_at, sub.unsubscribe_source) == (START, "page")
        assert s.query(Suppression).count() == 1


def test_resubscribe_resumes_at_the_step_it_stopped_and_the_tick_sends_it(session_factory, brand):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    clock, provider = Clock(START), RecordingProvider()
    tick_and_send(session_factory, provider, clock, brand)
    clock.at += timedelta(days=1)
    drip.tick(session_factory, clock(), lambda ids: None)  # step 2 queued
    with session_factory.begin() as s:
        unsubscribe(s, sid, "one-click", clock())
    with session_factory.begin() as s:
        resubscribe(s, sid, clock())
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.status, sub.unsubscribed_at, sub.unsubscribe_source) == ("active", None, None)
        assert s.scalar(select(Suppression)) is None
        enrollment = s.scalar(select(Enrollment))
        assert (enrollment.status, enrollment.next_step) == ("active", 2)
    tick_and_send(session_factory, provider, clock, brand)
    assert [b.step for b in provider.batches] == [1, 2]  # step 2 goes out once, not skipped


@pytest.mark.parametrize("reason", ["complaint", "hard_bounce", "manual"])
def test_resubscribe_never_lifts_another_reason(session_factory, reason):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        suppress(s, "person0@example.com", reason, "test", START)
        unsubscribe(s, sid, "page", START)
    with pytest.raises(StateError), session_factory.begin() as s:
        resubscribe(s, sid, START)
    with session_factory() as s:
        assert (
            s.scalar(select(Suppression.reason).where(Suppression.email_key == KEYS.of("person0@example.com")))
            == reason
        )
        assert s.get(Subscriber, sid).status == "unsubscribed"


def test_unknown_subscriber_is_not_found(session_factory):
    with pytest.raises(NotFound), session_factory.begin() as s:
        unsubscribe(s, 999, "page", START)


def test_an_unsubscribe_through_our_link_counts_in_the_stats_of_the_step_that_was_read(session_factory, brand):
    from campaigns.insight.stats import campaign_stats

    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    tick_and_send(session_factory, RecordingProvider(), Clock(START), brand)  # step 1 sent
    for _ in range(2):  # a second click (or the page after the one-click) is not counted twice
        with session_factory.begin() as s:
            unsubscribe(s, sid, "one-click", START + timedelta(hours=1), campaign_id=cid)
    with session_factory() as s:
        [stats] = campaign_stats(s, cid)
    assert stats.total.unsubscribed == 1
    assert [step.counts.unsubscribed for step in stats.steps if step.number == 1] == [1]


def test_leaving_while_a_step_is_submitted_then_coming_back_moves_on_to_the_next_step(session_factory, brand):
    cid = make_campaign(session_factory)
    [sid] = enroll(session_factory, cid, 1)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with session_factory.begin() as s:  # step 1 is in the provider's hands when the person leaves
        s.execute(Delivery.__table__.update().values(status=ds.SUBMITTING))
        unsubscribe(s, sid, "page", START)
        s.execute(Delivery.__table__.update().values(status=ds.ACCEPTED))  # ... and it went out
    with session_factory.begin() as s:
        resubscribe(s, sid, START + timedelta(hours=1))
    provider, clock = RecordingProvider(), Clock(START + timedelta(days=1, hours=1))  # step 2 is due a day on
    tick_and_send(session_factory, provider, clock, brand)
    assert [b.step for b in provider.batches] == [2]  # not stuck at step 1, and step 1 not sent twice
