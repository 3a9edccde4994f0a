"""Storing SendGrid events: each once, matched to its delivery, kept when unmatched, without personal data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from campaigns.db.models import Event
from campaigns.errors import OutreachError
from campaigns.insight.events import EventKind, store_events
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import EventFormatError, from_sendgrid, read_sendgrid_batch
from tests.builders import START
from tests.insight.support import address, sent_campaign, sg_event


def record(factory, items, limit=3):
    with factory.begin() as s:
        return record_events(s, [from_sendgrid(i, START) for i in items], START, soft_bounce_limit=limit)


def events(factory) -> list[Event]:
    with factory() as s:
        return list(s.scalars(select(Event).order_by(Event.id)))


def test_table_maps_every_sendgrid_event_name():
    names = [
        "processed",
        "deferred",
        "delivered",
        "bounce",
        "dropped",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    ]
    kinds = [from_sendgrid({"event": n, "email": "a@b.org", "timestamp": 1}, START).kind for n in names]
    assert kinds == [
        EventKind.PROCESSED,
        EventKind.DEFERRED,
        EventKind.DELIVERED,
        EventKind.BOUNCED,
        EventKind.DROPPED,
        EventKind.OPENED,
        EventKind.CLICKED,
        EventKind.COMPLAINED,
        EventKind.UNSUBSCRIBED,
        EventKind.UNSUBSCRIBED,
        EventKind.RESUBSCRIBED,
    ]
    assert from_sendgrid({"event": "bounce", "type": "blocked"}, START).kind is EventKind.SOFT_BOUNCED
    assert from_sendgrid({"event": "bounce", "type": "bounce"}, START).kind is EventKind.BOUNCED
    assert from_sendgrid({"event": "machine_learning_thing"}, START).kind is EventKind.UNKNOWN


def test_same_batch_twice_stores_each_event_once(session_factory):
    _, d = sent_campaign(session_factory, 3)
    batch = [sg_event(kind, i, d[(i, 1)], START) for i in range(3) for kind in ("processed", "delivered", "open")]
    first = record(session_factory, batch)
    again = record(session_factory, batch)
    assert (first.received, first.stored, first.duplicates) == (9, 9, 0)
    assert (again.received, again.stored, again.duplicates) == (9, 0, 9)
    rows = events(session_factory)
    assert len(rows) == 9
    assert {(r.delivery_id, r.kind) for r in rows} == {
        (d[(i, 1)], k) for i in range(3) for k in ("processed", "delivered", "opened")
    }
    assert all(r.processed_at is not None for r in rows)


def test_a_repeat_inside_one_batch_is_stored_once(session_factory):
    _, d = sent_campaign(session_factory, 1)
    e = sg_event("delivered", 0, d[(0, 1)], START, event_id="same")
    assert record(session_factory, [e, dict(e)]).stored == 1


def test_events_for_unknown_deliveries_are_kept_and_counted(session_factory):
    cid, _ = sent_campaign(session_factory, 1)
    report = record(
        session_factory,
        [
            sg_event("delivered", 0, 999_999, START, message_id="elsewhere"),
            sg_event("open", 5, None, START, message_id="elsewhere"),
        ],
    )
    assert (report.stored, report.unmatched) == (2, 2)
    rows = events(session_factory)
    assert [r.delivery_id for r in rows] == [None, None]
    assert [r.campaign_id for r in rows] == [cid, cid]  # still attributed by the campaign custom arg


def test_delivery_id_of_another_address_does_not_match(session_factory):
    """An id from another environment on the same SendGrid account must not land on our delivery."""
    _, d = sent_campaign(session_factory, 2, message_id="ours")
    report = record(session_factory, [sg_event("delivered", 1, d[(0, 1)], START, message_id="theirs")])
    assert report.unmatched == 1 and events(session_factory)[0].delivery_id is None


def test_message_id_prefix_and_address_match_when_custom_args_are_missing(session_factory):
    _, d = sent_campaign(session_factory, 3, message_id="X-MSG-7")
    report = record(session_factory, [sg_event("delivered", 2, None, START, message_id="X-MSG-7")])
    assert report.unmatched == 0
    assert events(session_factory)[0].delivery_id == d[(2, 1)]


def test_no_address_or_ip_is_stored(session_factory):
    _, d = sent_campaign(session_factory, 1)
    record(
        session_factory,
        [
            sg_event(
                "bounce",
                0,
                d[(0, 1)],
                START,
                type="bounce",
                ip="203.0.113.9",
                useragent="Mozilla",
                reason=f"550 5.1.1 <{address(0)}>: no such user",
            )
        ],
    )
    (row,) = events(session_factory)
    stored = json.dumps(row.raw) + (row.reason or "")
    assert address(0) not in stored and "203.0.113.9" not in stored and "Mozilla" not in stored
    assert row.reason == "550 5.1.1 <<address>>: no such user"
    assert row.email_key and len(row.email_key) == 64


def test_event_without_sg_event_id_still_dedupes(session_factory):
    _, d = sent_campaign(session_factory, 1)
    item = sg_event("dropped", 0, d[(0, 1)], START, reason="Invalid")
    del item["sg_event_id"]
    assert record(session_factory, [item]).stored == 1
    assert record(session_factory, [dict(item)]).stored == 0


def test_store_only_leaves_events_pending(session_factory):
    _, d = sent_campaign(session_factory, 1)
    with session_factory.begin() as s:
        report = store_events(s, [from_sendgrid(sg_event("delivered", 0, d[(0, 1)], START), START)], START)
    assert report.stored == 1 and events(session_factory)[0].processed_at is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2", b"\xff\xfe"])
def test_a_body_that_is_not_json_is_a_clear_error(body):
    with pytest.raises(EventFormatError) as err:
        read_sendgrid_batch(body, START)
    assert isinstance(err.value, OutreachError) and "webhook body" in str(err.value)


@pytest.mark.parametrize(
    ("body", "set_aside"), [(b'{"event": "open"}', 1), (b"[1, 2]", 2), (b'[{"event": "open"}, "x"]', 1)]
)
def test_json_that_holds_no_event_objects_is_set_aside_not_refused(body, set_aside):
    batch = read_sendgrid_batch(body, START)
    assert len(batch.set_aside) == set_aside and len(batch.events) == (1 if b"}," in body else 0)


def test_our_own_unsubscribe_is_counted_once_on_the_last_email_sent(session_factory):
    from campaigns.db.models import Subscriber
    from campaigns.insight.events import record_unsubscribe_event
    from campaigns.insight.stats import campaign_stats

    cid, _ = sent_campaign(session_factory, 2, steps=(1, 2))
    with session_factory.begin() as s:
        sub_id = s.scalar(select(Subscriber.id).order_by(Subscriber.id))
        assert record_unsubscribe_event(s, sub_id, cid, "one-click", START) is True
        assert record_unsubscribe_event(s, sub_id, cid, "page", START) is False  # a second click counts once
    (row,) = events(session_factory)
    assert (row.kind, row.step_number, row.reason) == ("unsubscribed", 2, "unsubscribed (one-click)")
    with session_factory() as s:
        (stats,) = campaign_stats(s)
    assert [st.counts.unsubscribed for st in stats.steps] == [0, 1, 0]
