"""Builders for event tests: sent deliveries in the database, and SendGrid event objects as the webhook posts them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from campaigns.db.models import Delivery, Enrollment
from campaigns.delivery import state as ds
from tests.builders import START, enroll, make_campaign

_ids = itertools.count(1)


def address(i: int) -> str:
    return f"person{i}@example.com"  # as tests.builders.enroll names them


def sent_campaign(
    factory, people: int, *, steps: tuple[int, ...] = (1,), status: str = ds.ACCEPTED, message_id: str = "batch-1"
) -> tuple[int, dict[tuple[int, int], int]]:
    """A running campaign whose first `people` subscribers were sent `steps`; returns (campaign id,
    {(person index, step): delivery id})."""
    cid = make_campaign(factory, status="running")
    subscriber_ids = enroll(factory, cid, people)
    deliveries: dict[tuple[int, int], int] = {}
    with factory.begin() as s:
        enrollments = {e.subscriber_id: e.id for e in s.query(Enrollment).filter_by(campaign_id=cid)}
        for i, sub in enumerate(subscriber_ids):
            for step in steps:
                d = Delivery(
                    enrollment_id=enrollments[sub],
                    campaign_id=cid,
                    step_number=step,
                    status=status,
                    provider="sendgrid",
                    provider_message_id=message_id,
                    due_at=START,
                    created_at=START,
                    sent_at=None if status == ds.UNKNOWN else START + timedelta(minutes=1),
                )
                s.add(d)
                s.flush()
                deliveries[(i, step)] = d.id
    return cid, deliveries


def sg_event(
    event: str,
    person: int,
    delivery_id: int | None,
    at: datetime,
    *,
    step: int = 1,
    message_id: str = "batch-1",
    event_id: str | None = None,
    **extra,
) -> dict:
    """One event object as SendGrid posts it: custom_args arrive as top-level string fields."""
    item = {
        "email": address(person),
        "timestamp": int(at.timestamp()),
        "event": event,
        "sg_event_id": event_id or f"evt-{next(_ids)}",
        "sg_message_id": f"{message_id}.filter0001.1.0",
        "campaign": "test",
        "step": str(step),
        **extra,
    }
    if delivery_id is not None:
        item["delivery_id"] = str(delivery_id)
    return item
