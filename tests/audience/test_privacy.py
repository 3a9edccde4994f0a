"""campaigns.audience.privacy on both databases: the export holds everything stored about a person; erasure leaves
nothing that names them, only the address hash on the suppression list."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from campaigns.audience.privacy import erase_subscriber, export_subscriber
from campaigns.audience.unsubscribe import unsubscribe
from campaigns.db.models import Delivery, Event, Subscriber, Suppression
from campaigns.delivery import state as ds
from tests.builders import KEYS, START, enroll, make_campaign

ADDRESS = "person0@example.com"


def with_history(factory) -> int:
    """A subscriber with one sent email, a bounce-ish event about it and a stray event found by address hash."""
    cid = make_campaign(factory)
    [sid] = enroll(factory, cid, 1)
    with factory.begin() as s:
        d = Delivery(
            enrollment_id=1,
            campaign_id=cid,
            step_number=1,
            status=ds.DELIVERED,
            due_at=START,
            created_at=START,
            sent_at=START,
            provider="sendgrid",
            provider_message_id="m1",
            last_error=f"452 <{ADDRESS}> mailbox full (retried)",
        )
        s.add(d)
        s.flush()
        s.add(
            Event(
                provider_event_id="e1",
                delivery_id=d.id,
                campaign_id=cid,
                step_number=1,
                kind="delivered",
                email_key=KEYS.of(ADDRESS),
                occurred_at=START,
                received_at=START,
                raw={"email": ADDRESS, "event": "delivered"},
            )
        )
        s.add(
            Event(
                provider_event_id="e2",
                kind="opened",
                email_key=KEYS.of(ADDRESS),
                occurred_at=START,
                received_at=START,
                raw={"email": ADDRESS, "event": "open"},
            )
        )
    return sid


def test_export_holds_profile_consent_enrollments_emails_and_events(session_factory):
    sid = with_history(session_factory)
    with session_factory() as s:
        data = export_subscriber(s, sid)
    json.dumps(data)  # JSON-ready as it is
    assert data["subscriber"]["email"] == ADDRESS and data["subscriber"]["timezone"] == "America/New_York"
    assert {"first_name", "country"} <= set(data["subscriber"])
    assert data["enrollments"][0]["campaign"] == "test"
    assert [(e["step"], e["status"]) for e in data["emails"]] == [(1, ds.DELIVERED)]
    assert sorted(e["kind"] for e in data["events"]) == ["delivered", "opened"]
    assert data["suppression"] is None


def test_erase_removes_personal_data_and_keeps_only_the_hash_suppressed(session_factory):
    sid = with_history(session_factory)
    with session_factory.begin() as s:
        counts = erase_subscriber(s, sid, START + timedelta(days=1))
    assert counts == {"events": 2, "emails": 1}
    with session_factory() as s:
        sub = s.get(Subscriber, sid)
        assert (sub.email, sub.name, sub.consent_ip, sub.status) == (None, None, None, "erased")
        assert (sub.first_name, sub.country) == (None, None)
        assert sub.email_key != KEYS.of(ADDRESS)
        assert [(x.email_key, x.reason) for x in s.scalars(select(Suppression))] == [(KEYS.of(ADDRESS), "erased")]
        assert all(e.raw == {} and e.email_key is None for e in s.scalars(select(Event)))
        assert s.scalar(select(Delivery.last_error)) is None
        assert s.scalar(select(Delivery.status)) == ds.DELIVERED  # the statistics still count the email
        exported = json.dumps(export_subscriber(s, sid))
    assert ADDRESS not in exported and "Person 0" not in exported


def test_erase_turns_an_unsubscribe_into_a_permanent_block_and_is_idempotent(session_factory):
    sid = with_history(session_factory)
    with session_factory.begin() as s:
        unsubscribe(s, sid, "page", START)
    for _ in range(2):
        with session_factory.begin() as s:
            erase_subscriber(s, sid, START)
    with session_factory() as s:
        assert s.scalar(select(Suppression.reason)) == "erased"
        assert s.get(Subscriber, sid).unsubscribe_source == "page"
