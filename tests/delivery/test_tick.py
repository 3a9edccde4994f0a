"""The tick and the batch send on both databases: each email once, in order, on time, and only to who may get it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber
from campaigns.delivery import sending
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import Batch, RecordingProvider, SendResult
from campaigns.delivery.suppression import suppress
from campaigns.errors import ProviderError
from tests.builders import LINKS, NO_WAIT, START, STEPS, Clock, enroll, make_campaign


def run(factory, provider, clock, brand, batch_size=1000) -> drip.TickReport:
    """One tick and every batch it emits, sent in-process."""
    batches: list[list[int]] = []
    report = drip.tick(factory, clock(), batches.append, batch_size=batch_size)
    for ids in batches:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, clock, retry=NO_WAIT)
    return report


def count(factory, *where) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Delivery).where(*where))


def test_whole_drip_sends_each_step_once_in_order(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 5)
    provider, clock = RecordingProvider(), Clock(START)
    for _ in range(STEPS + 2):
        run(session_factory, provider, clock, brand)
        run(session_factory, provider, clock, brand)  # a second tick at the same moment adds nothing
        clock.at += timedelta(days=1)
    sent = [(r.email, b.step) for b in provider.batches for r in b.recipients]
    assert len(sent) == len(set(sent)) == 5 * STEPS
    for i in range(5):
        assert [step for email, step in sent if email == f"person{i}@example.com"] == [1, 2, 3]
    with session_factory() as s:
        assert set(s.scalars(select(Enrollment.status))) == {"completed"}


def test_tick_twice_creates_each_delivery_once_and_hands_it_out_once(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 25)
    emitted: list[list[int]] = []
    first = drip.tick(session_factory, START, emitted.append, batch_size=10)
    second = drip.tick(session_factory, START, emitted.append, batch_size=10)
    assert (first.created, second.created) == (25, 0)
    assert sum(map(len, emitted)) == 25 and max(map(len, emitted)) <= 10  # at most batch_size, none twice
    assert count(session_factory) == 25


def test_a_task_delivered_twice_sends_once(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 3)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    provider = RecordingProvider()
    first = sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    again = sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    assert (first.accepted, again.claimed) == (3, 0)
    assert len(provider.batches) == 1


def test_recipient_values_are_filled_per_person_with_signed_links(session_factory, brand):
    cid = make_campaign(session_factory)
    sub_ids = enroll(session_factory, cid, 2)
    provider = RecordingProvider()
    run(session_factory, provider, Clock(START), brand)
    (batch,) = provider.batches
    r = batch.recipients[0]
    assert r.values["first_name"] == "Person"
    token = r.values["unsubscribe_url"].rsplit("/", 1)[1]
    assert LINKS.tokens.read("unsubscribe", token).subscriber_id == sub_ids[0]
    assert "person0" not in r.values["unsubscribe_url"]  # no address in a URL
    html, text = batch.content.fill(r.values)
    assert "Hi Person, step 1" in html and r.values["unsubscribe_url"] in text


def test_next_due_follows_the_window_in_the_subscribers_zone(session_factory, brand):
    cid = make_campaign(session_factory, window=(range(5), 9, 17))
    enroll(session_factory, cid, 1, tz="America/New_York")
    run(session_factory, RecordingProvider(), Clock(START + timedelta(days=4)), brand)  # Friday 09:00 NY
    with session_factory() as s:
        e = s.scalar(select(Enrollment))
    assert e.next_step == 2
    assert e.next_due_at == datetime(2027, 1, 11, 14, 0, tzinfo=UTC)  # Saturday -> Monday 09:00 NY


def test_unsubscribed_and_suppressed_people_get_nothing_more(session_factory, brand):
    cid = make_campaign(session_factory)
    ids = enroll(session_factory, cid, 3)
    with session_factory.begin() as s:
        s.execute(update(Subscriber).where(Subscriber.id == ids[0]).values(status="unsubscribed"))
        suppress(s, "person1@example.com", "complaint", "test", START)
    provider = RecordingProvider()
    report = run(session_factory, provider, Clock(START), brand)
    assert report.stopped == 2
    assert [r.email for b in provider.batches for r in b.recipients] == ["person2@example.com"]


def test_someone_who_leaves_after_the_batch_was_handed_out_is_not_mailed(session_factory, brand):
    cid = make_campaign(session_factory)
    ids = enroll(session_factory, cid, 2)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with session_factory.begin() as s:
        s.execute(update(Subscriber).where(Subscriber.id == ids[0]).values(status="unsubscribed"))
    provider = RecordingProvider()
    out = sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    assert (out.accepted, out.skipped) == (1, 1)
    assert count(session_factory, Delivery.status == ds.CANCELLED) == 1


def test_paused_campaign_sends_nothing_and_resumes_where_it_stopped(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 2)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with session_factory.begin() as s:
        s.execute(update(Campaign).values(status="paused"))
    provider = RecordingProvider()
    out = sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    assert (out.accepted, out.skipped, provider.batches) == (0, 2, [])
    assert run(session_factory, provider, Clock(START + timedelta(hours=1)), brand).created == 0
    with session_factory.begin() as s:
        s.execute(update(Campaign).values(status="running"))
    run(session_factory, provider, Clock(START + timedelta(hours=2)), brand)
    assert sorted(b.step for b in provider.batches) == [1]
    assert len(provider.batches[0].recipients) == 2


def test_daily_cap_holds_the_rest_for_the_next_day(session_factory, brand):
    cid = make_campaign(session_factory, daily_cap=4)
    enroll(session_factory, cid, 10)
    provider = RecordingProvider()
    report = run(session_factory, provider, Clock(START), brand)
    assert report.created == 4 and report.capped == {cid: 6}
    assert run(session_factory, provider, Clock(START + timedelta(hours=3)), brand).created == 0
    assert run(session_factory, provider, Clock(START + timedelta(days=1)), brand).created == 4


def test_a_dead_workers_claim_goes_back_and_a_dead_submission_becomes_unknown(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 2)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    a, b = emitted[0]
    with session_factory.begin() as s:  # as a worker would leave them when killed
        s.execute(update(Delivery).where(Delivery.id == a).values(status=ds.SENDING, lease_until=START))
        s.execute(update(Delivery).where(Delivery.id == b).values(status=ds.SUBMITTING, lease_until=START))
    report = drip.tick(session_factory, START + ds.QUEUE_LEASE + timedelta(seconds=1), emitted.append)
    assert (report.requeued, report.unknown) == (1, 1)
    assert emitted[-1] == [a]  # only what surely never left is sent again
    with session_factory() as s:
        assert s.get(Delivery, b).status == ds.UNKNOWN
        assert (
            s.scalar(
                select(Enrollment.next_step)
                .join(Delivery, Delivery.enrollment_id == Enrollment.id)
                .where(Delivery.id == b)
            )
            == 2
        )


class FailingProvider(RecordingProvider):
    def __init__(self, error: ProviderError) -> None:
        super().__init__()
        self.error = error

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.batches.append(batch)
        raise self.error


def test_bad_credentials_stop_the_send_and_keep_the_batch(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 2)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    provider = FailingProvider(ProviderError("key rejected", status=401, fatal=True))
    with pytest.raises(ProviderError):
        sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    assert count(session_factory, Delivery.status == ds.QUEUED) == 2


def test_retryable_failure_past_the_limit_marks_failed_and_moves_on(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 2)
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    provider = FailingProvider(ProviderError("server error", status=500, retryable=True))
    out = sending.send_deliveries(session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT)
    assert out.failed == 2
    with session_factory() as s:
        assert set(s.scalars(select(Delivery.last_error))) != {None}
        assert set(s.scalars(select(Enrollment.next_step))) == {2}


def test_campaign_completes_once_everyone_has_had_the_series(session_factory, brand):
    cid = make_campaign(session_factory)
    enroll(session_factory, cid, 2)
    provider, clock = RecordingProvider(), Clock(START)
    reports = []
    for _ in range(STEPS + 1):
        reports.append(run(session_factory, provider, clock, brand))
        clock.at += timedelta(days=1)
    assert [r.completed for r in reports] == [[]] * STEPS + [["test"]]
    with session_factory() as s:
        assert s.get(Campaign, cid).status == "completed"


def test_addresses_stored_before_entry_checks_are_sent_as_they_can_be(session_factory, brand):
    """Issue 19, point 10: an IDN domain goes out as punycode; a non-ASCII local part (imported before they were
    refused) is not sent, with the reason on its delivery, and does not stop the batch."""
    cid = make_campaign(session_factory)
    ids = enroll(session_factory, cid, 3)
    with session_factory.begin() as s:
        s.get(Subscriber, ids[0]).email = "idn@bücher.de"
        s.get(Subscriber, ids[1]).email = "josé@example.com"
    provider = RecordingProvider()
    run(session_factory, provider, Clock(START), brand)
    assert sorted(r.email for b in provider.batches for r in b.recipients) == [
        "idn@xn--bcher-kva.de",
        "person2@example.com",
    ]
    with session_factory() as s:
        status, error = s.execute(
            select(Delivery.status, Delivery.last_error)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(Enrollment.subscriber_id == ids[1])
        ).one()
    assert status == ds.CANCELLED and "before the @" in error
