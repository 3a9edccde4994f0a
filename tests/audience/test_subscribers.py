"""Subscribers: listing, lookup and removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.audience.subscribers import get_subscriber, list_subscribers, remove_subscriber
from campaigns.db.models import Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery.suppression import is_suppressed
from campaigns.errors import NotFound
from tests.audience.support import make_campaign, run_import, write_csv


def test_list_pages_by_id_and_filters_by_status(session_factory, tmp_path, now):
    run_import(session_factory, write_csv(tmp_path, "".join(f"p{i}@example.com,P,UTC,,,,\n" for i in range(5))), now)
    with session_factory.begin() as s:
        get_subscriber(s, "p2@example.com").status = "bounced"
    with session_factory() as s:
        first = list_subscribers(s, limit=2)
        second = list_subscribers(s, limit=2, after_id=first[-1].id)
        active = list_subscribers(s, status="active")
        bounced = list_subscribers(s, status="bounced")
    assert [x.email for x in first + second] == [f"p{i}@example.com" for i in range(4)]
    assert len(active) == 4 and [x.email for x in bounced] == ["p2@example.com"]


def test_get_unknown_subscriber_is_not_found(session_factory):
    with session_factory() as s, pytest.raises(NotFound):
        get_subscriber(s, "nobody@example.com")


def test_remove_stops_everything_for_that_subscriber_only(session_factory, tmp_path, now):
    cid = make_campaign(session_factory, now)
    run_import(
        session_factory,
        write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\nbob@example.com,Bob,UTC,,,,\n"),
        now,
        campaign_slug="drip",
    )
    with session_factory.begin() as s:
        enrollments = dict(
            s.execute(
                select(Subscriber.email, Enrollment.id).join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
            ).all()
        )
        for email, step, status in [
            ("ann@example.com", 1, "accepted"),
            ("ann@example.com", 2, "queued"),
            ("bob@example.com", 1, "queued"),
        ]:
            s.add(
                Delivery(
                    enrollment_id=enrollments[email],
                    campaign_id=cid,
                    step_number=step,
                    status=status,
                    due_at=now,
                    created_at=now,
                )
            )
    later = now + timedelta(hours=3)
    with session_factory.begin() as s:
        done = remove_subscriber(s, "ANN@example.com", later)
    assert (done.enrollments_stopped, done.deliveries_cancelled) == (1, 1)
    with session_factory() as s:
        ann, bob = get_subscriber(s, "ann@example.com"), get_subscriber(s, "bob@example.com")
        statuses = dict(s.execute(select(Enrollment.subscriber_id, Enrollment.status)).all())
        deliveries = s.execute(
            select(Enrollment.subscriber_id, Delivery.step_number, Delivery.status)
            .join(Enrollment)
            .order_by(Delivery.id)
        ).all()
        reason = s.scalar(select(Suppression.reason).where(Suppression.email_key == ann.email_key))
        assert is_suppressed(s, "ann@example.com") and not is_suppressed(s, "bob@example.com")
    assert (ann.status, ann.unsubscribed_at, ann.unsubscribe_source) == ("unsubscribed", later, "manual")
    assert bob.status == "active"
    assert statuses == {ann.id: "stopped", bob.id: "active"}
    assert [tuple(d) for d in deliveries] == [(ann.id, 1, "accepted"), (ann.id, 2, "cancelled"), (bob.id, 1, "queued")]
    assert reason == "manual"

    with session_factory.begin() as s:  # again: nothing more to do, no error
        again = remove_subscriber(s, "ann@example.com", later + timedelta(hours=1))
    assert (again.enrollments_stopped, again.deliveries_cancelled) == (0, 0)
    with session_factory() as s:
        assert get_subscriber(s, "ann@example.com").unsubscribed_at == later
    report = run_import(session_factory, write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\n", name="again.csv"), now)
    assert (report.imported, report.suppressed) == (0, 1)
