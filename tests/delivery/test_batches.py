"""Send batches on both databases: what happens between a batch's creation and its send (an unsubscribe, a pause),
a provider that rejects some recipients of a batch, and when a batch is finished with."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns.audience.unsubscribe import unsubscribe
from campaigns.db.models import Delivery, Enrollment, SendBatch
from campaigns.delivery import sending
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.providers.sendgrid import SendGridProvider
from campaigns.management.lifecycle import pause_campaign, resume_campaign
from tests.builders import LINKS, NO_WAIT, START, Clock, enroll, make_campaign
from tests.sendgrid_server import API_KEY, SendGridServer

N = 10


def _created(factory, n: int = N, batch_size: int = 1000) -> tuple[list[int], list[list[int]]]:
    """A running campaign with `n` subscribers whose first email is created and handed out, not yet sent."""
    cid = make_campaign(factory)
    people = enroll(factory, cid, n)
    emitted: list[list[int]] = []
    drip.tick(factory, START, emitted.append, batch_size=batch_size)
    return people, emitted


def _send(factory, provider, brand, emitted: list[list[int]], at=START) -> None:
    for ids in emitted:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, Clock(at), retry=NO_WAIT)


def _batches(factory) -> list[tuple[str, object]]:
    with factory() as s:
        return [tuple(r) for r in s.execute(select(SendBatch.status, SendBatch.lease_until).order_by(SendBatch.id))]


def _deliveries(factory) -> Counter[str]:
    with factory() as s:
        return Counter(s.scalars(select(Delivery.status)))


def test_a_tick_makes_batches_of_one_step_each_leased_for_the_queue(session_factory):
    _, emitted = _created(session_factory, 25, batch_size=10)
    # Pages of 4, 8, then the last 13: two small batches first, halving ones at the end (see batch_sizes).
    assert [len(ids) for ids in emitted] == [2, 2, 4, 4, 7, 3, 2, 1]
    with session_factory() as s:
        by_batch = Counter(s.scalars(select(Delivery.batch_id)))
        leases = set(s.scalars(select(SendBatch.lease_until)))
    assert sorted(by_batch.values()) == [1, 2, 2, 2, 3, 4, 4, 7]
    assert leases == {START + ds.QUEUE_LEASE}
    assert [status for status, _ in _batches(session_factory)] == [ds.BATCH_QUEUED] * 8


def test_batches_start_small_and_the_last_ones_shrink_so_workers_start_and_finish_together():
    assert drip.batch_sizes(500, 1000, last=False) == [250, 250]  # the first page: two workers at once
    assert drip.batch_sizes(5000, 1000, last=False) == [1000] * 5
    assert drip.batch_sizes(2001, 1000, last=False) == [667, 667, 667]  # equal, none over a full batch
    assert drip.batch_sizes(2500, 1000, last=True) == [1000, 750, 375, 250, 125]
    assert drip.batch_sizes(3, 1000, last=True) == [3]  # a few due: one batch
    assert drip.batch_sizes(1, 1000, last=False) == [1]
    assert drip.batch_sizes(0, 1000, last=True) == []


def test_a_sent_batch_is_done_and_its_deliveries_moved_without_a_lease_of_their_own(session_factory, brand):
    _, emitted = _created(session_factory)
    provider = RecordingProvider()
    _send(session_factory, provider, brand, emitted)
    assert _batches(session_factory) == [(ds.BATCH_DONE, None)]
    assert _deliveries(session_factory) == {ds.ACCEPTED: N}
    with session_factory() as s:
        assert set(s.scalars(select(Delivery.lease_until))) == {None}
        assert set(s.scalars(select(Enrollment.next_step))) == {2}
    # A second tick hands nothing out, and a broker's second copy of the task sends nothing.
    assert drip.tick(session_factory, START + ds.QUEUE_LEASE * 2, lambda ids: None).batches == 0
    _send(session_factory, provider, brand, emitted)
    assert len(provider.batches) == 1


def test_an_unsubscribe_between_creation_and_send_cancels_that_one_the_rest_go_once(session_factory, brand):
    people, emitted = _created(session_factory)
    with session_factory.begin() as s:
        unsubscribe(s, people[3], "one-click", START)
    provider = RecordingProvider()
    _send(session_factory, provider, brand, emitted)
    sent = [r.email for b in provider.batches for r in b.recipients]
    assert len(sent) == len(set(sent)) == N - 1 and "person3@example.com" not in sent
    assert _deliveries(session_factory) == {ds.ACCEPTED: N - 1, ds.CANCELLED: 1}
    assert _batches(session_factory) == [(ds.BATCH_DONE, None)]
    # Nothing is left for a later tick to hand out or send.
    later: list[list[int]] = []
    drip.tick(session_factory, START + ds.QUEUE_LEASE + ds.SEND_LEASE, later.append)
    assert later == []


def test_an_unsubscribe_after_the_claim_is_not_sent_either(session_factory, brand):
    """Claimed by a worker (`sending`) but not yet submitted when the person leaves: cancelled, not sent."""
    people, emitted = _created(session_factory)
    with session_factory.begin() as s:
        s.execute(update(Delivery).where(Delivery.id == emitted[0][0]).values(status=ds.SENDING))
        unsubscribe(s, people[0], "page", START)
    provider = RecordingProvider()
    _send(session_factory, provider, brand, emitted)
    assert "person0@example.com" not in [r.email for b in provider.batches for r in b.recipients]
    assert _deliveries(session_factory) == {ds.ACCEPTED: N - 1, ds.CANCELLED: 1}


def test_a_pause_between_creation_and_send_releases_the_batch_and_resume_sends_each_once(session_factory, brand):
    _, emitted = _created(session_factory)
    with session_factory.begin() as s:
        pause_campaign(s, "test", START, actor="ana")
    provider = RecordingProvider()
    _send(session_factory, provider, brand, emitted)
    assert provider.batches == []
    assert _deliveries(session_factory) == {}  # released: nothing was sent, the enrollments wait at step 1
    assert _batches(session_factory) == [(ds.BATCH_DONE, None)]
    with session_factory() as s:
        assert set(s.execute(select(Enrollment.status, Enrollment.next_step))) == {("active", 1)}
    with session_factory.begin() as s:
        resume_campaign(s, "test", START + timedelta(hours=1), actor="ana")
    again: list[list[int]] = []
    drip.tick(session_factory, START + timedelta(hours=1), again.append)
    _send(session_factory, provider, brand, again, START + timedelta(hours=1))
    sent = [r.email for b in provider.batches for r in b.recipients]
    assert len(sent) == len(set(sent)) == N
    assert _deliveries(session_factory) == {ds.ACCEPTED: N}


@pytest.fixture
def sendgrid_server():
    with SendGridServer() as server:
        yield server


def test_a_partial_rejection_fails_the_rejected_and_sends_the_rest_once(session_factory, brand, sendgrid_server):
    """SendGrid refuses two addresses of a batch (400 naming their personalizations): those two fail for good (the
    enrollment moves on, as for any settled step), the other eight go out once, in the one re-sent request."""
    _, emitted = _created(session_factory)
    sendgrid_server.reject_address("person2@example.com")
    sendgrid_server.reject_address("person7@example.com")
    _send(session_factory, SendGridProvider(API_KEY, host=sendgrid_server.url), brand, emitted)

    assert [x.status for x in sendgrid_server.exchanges] == [400, 202]
    per_person = Counter(sendgrid_server.emails_per_recipient())
    assert set(per_person.values()) == {1} and len(per_person) == N - 2
    assert "person2@example.com" not in per_person and "person7@example.com" not in per_person
    assert _deliveries(session_factory) == {ds.ACCEPTED: N - 2, ds.FAILED: 2}
    with session_factory() as s:
        failed = s.scalars(select(Delivery.last_error).where(Delivery.status == ds.FAILED)).all()
        assert all("Does not contain a valid address" in e for e in failed)
        assert set(s.scalars(select(Enrollment.next_step))) == {2}
    assert _batches(session_factory) == [(ds.BATCH_DONE, None)]
    # Nothing is handed out again: not the failed, not the sent.
    later: list[list[int]] = []
    drip.tick(session_factory, START + ds.QUEUE_LEASE + ds.SEND_LEASE, later.append)
    assert later == []
