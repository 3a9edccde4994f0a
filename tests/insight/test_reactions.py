"""Reactions on both databases: who is suppressed, stopped and cancelled, and how deliveries settle."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campaigns.db.models import Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery import state as ds
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.builders import KEYS, START
from tests.insight.support import address, sent_campaign, sg_event


def record(factory, items, limit=3):
    with factory.begin() as s:
        return record_events(s, [from_sendgrid(i, START) for i in items], START, soft_bounce_limit=limit)


def suppressions(factory) -> dict[str, str]:
    with factory() as s:
        return dict(s.execute(select(Suppression.email_key, Suppression.reason)).all())


def person(factory, i: int) -> tuple[str, set[str], dict[int, str]]:
    """(subscriber status, enrollment statuses, {step: delivery status}) of person i."""
    with factory() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email_key == KEYS.of(address(i))))
        enrollments = list(s.scalars(select(Enrollment).where(Enrollment.subscriber_id == sub.id)))
        deliveries = dict(
            s.execute(
                select(Delivery.step_number, Delivery.status).where(
                    Delivery.enrollment_id.in_([e.id for e in enrollments])
                )
            ).all()
        )
        return sub.status, {e.status for e in enrollments}, deliveries


def queue_step_two(factory, deliveries, people):
    """Step 2 waits in the queue for each person, as the tick would have left it."""
    with factory.begin() as s:
        for i in people:
            sent = s.get(Delivery, deliveries[(i, 1)])
            s.add(
                Delivery(
                    enrollment_id=sent.enrollment_id,
                    campaign_id=sent.campaign_id,
                    step_number=2,
                    status=ds.QUEUED,
                    due_at=START + timedelta(days=1),
                    created_at=START,
                )
            )


def test_hard_bounce_suppresses_stops_and_cancels_at_once(session_factory):
    _, d = sent_campaign(session_factory, 2)
    queue_step_two(session_factory, d, [0, 1])
    report = record(
        session_factory, [sg_event("bounce", 0, d[(0, 1)], START, type="bounce", reason="550 5.1.1 user unknown")]
    )
    assert report.stored == 1
    assert suppressions(session_factory) == {KEYS.of(address(0)): "hard_bounce"}
    assert person(session_factory, 0) == ("bounced", {"stopped"}, {1: ds.BOUNCED, 2: ds.CANCELLED})
    assert person(session_factory, 1) == ("active", {"active"}, {1: ds.ACCEPTED, 2: ds.QUEUED})


def test_soft_bounces_suppress_only_at_the_limit(session_factory):
    _, d = sent_campaign(session_factory, 1, steps=(1, 2, 3))
    blocked = [
        sg_event("bounce", 0, d[(0, n)], START + timedelta(days=n), step=n, type="blocked", reason="421 try later")
        for n in (1, 2, 3)
    ]
    record(session_factory, blocked[:2], limit=3)
    assert suppressions(session_factory) == {}
    assert person(session_factory, 0)[0] == "active"
    record(session_factory, blocked[2:], limit=3)
    assert suppressions(session_factory) == {KEYS.of(address(0)): "soft_bounces"}
    assert person(session_factory, 0)[:2] == ("bounced", {"stopped"})


def test_a_delivery_in_between_resets_the_soft_bounce_count(session_factory):
    _, d = sent_campaign(session_factory, 1, steps=(1, 2, 3))
    record(
        session_factory,
        [
            sg_event("bounce", 0, d[(0, 1)], START + timedelta(days=1), step=1, type="blocked"),
            sg_event("delivered", 0, d[(0, 2)], START + timedelta(days=2), step=2),
            sg_event("bounce", 0, d[(0, 3)], START + timedelta(days=3), step=3, type="blocked"),
        ],
        limit=2,
    )
    assert suppressions(session_factory) == {}


def test_spam_report_suppresses_as_complaint(session_factory):
    _, d = sent_campaign(session_factory, 1)
    queue_step_two(session_factory, d, [0])
    record(
        session_factory,
        [sg_event("delivered", 0, d[(0, 1)], START), sg_event("spamreport", 0, d[(0, 1)], START + timedelta(hours=1))],
    )
    assert suppressions(session_factory) == {KEYS.of(address(0)): "complaint"}
    assert person(session_factory, 0) == ("complained", {"stopped"}, {1: ds.DELIVERED, 2: ds.CANCELLED})


def test_unsubscribe_and_group_unsubscribe_suppress(session_factory):
    _, d = sent_campaign(session_factory, 2)
    record(
        session_factory,
        [
            sg_event("unsubscribe", 0, d[(0, 1)], START),
            sg_event("group_unsubscribe", 1, d[(1, 1)], START, asm_group_id=7),
        ],
    )
    assert suppressions(session_factory) == {
        KEYS.of(address(0)): "unsubscribed",
        KEYS.of(address(1)): "unsubscribed",
    }
    with session_factory() as s:
        subs = list(s.scalars(select(Subscriber).order_by(Subscriber.id)))
    assert [(x.status, x.unsubscribe_source) for x in subs] == [("unsubscribed", "sendgrid")] * 2


def test_drop_of_a_bounced_address_suppresses_but_a_content_drop_does_not(session_factory):
    _, d = sent_campaign(session_factory, 2)
    record(
        session_factory,
        [
            sg_event("dropped", 0, d[(0, 1)], START, reason="Bounced Address"),
            sg_event("dropped", 1, d[(1, 1)], START, reason="Invalid SMTPAPI header"),
        ],
    )
    assert suppressions(session_factory) == {KEYS.of(address(0)): "hard_bounce"}
    assert person(session_factory, 0)[0] == "bounced"
    assert person(session_factory, 1) == ("active", {"active"}, {1: ds.DROPPED})


def test_unknown_delivery_is_settled_by_its_events(session_factory):
    _, d = sent_campaign(session_factory, 3, status=ds.UNKNOWN)
    record(
        session_factory,
        [
            sg_event("processed", 0, d[(0, 1)], START),
            sg_event("processed", 1, d[(1, 1)], START),
            sg_event("delivered", 1, d[(1, 1)], START + timedelta(seconds=5)),
        ],
    )
    with session_factory() as s:
        rows = {r.id: r for r in s.scalars(select(Delivery))}
    assert [rows[d[(i, 1)]].status for i in range(3)] == [ds.ACCEPTED, ds.DELIVERED, ds.UNKNOWN]
    assert rows[d[(0, 1)]].sent_at == START and rows[d[(2, 1)]].sent_at is None


def test_an_event_never_moves_a_delivery_backwards_or_out_of_submitting(session_factory):
    _, d = sent_campaign(session_factory, 2)
    with session_factory.begin() as s:
        s.get(Delivery, d[(1, 1)]).status = ds.SUBMITTING
    record(
        session_factory,
        [
            sg_event("delivered", 0, d[(0, 1)], START),
            sg_event("processed", 0, d[(0, 1)], START + timedelta(seconds=1)),
            sg_event("delivered", 1, d[(1, 1)], START),
        ],
    )
    assert person(session_factory, 0)[2] == {1: ds.DELIVERED}
    assert person(session_factory, 1)[2] == {1: ds.SUBMITTING}


def test_processing_twice_changes_nothing(session_factory):
    from sqlalchemy import update

    from campaigns.db.models import Event

    _, d = sent_campaign(session_factory, 1)
    record(session_factory, [sg_event("spamreport", 0, d[(0, 1)], START)])
    before = (suppressions(session_factory), person(session_factory, 0))
    with session_factory.begin() as s:  # as if a task were delivered again after a crash
        s.execute(update(Event).values(processed_at=None))
    record(session_factory, [])
    assert (suppressions(session_factory), person(session_factory, 0)) == before
