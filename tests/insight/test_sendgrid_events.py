"""Reading SendGrid's webhook body: each event validated and clipped on its own, what cannot be read set aside.

The property test throws hostile values (NUL, lone surrogates, NaN, infinities, integers of any size, deep nesting,
objects where strings belong) at every field SendGrid sends, mixed with good events, and stores the lot on both
databases: nothing may raise, every good event must be stored, every item accounted for.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from campaigns.db.models import Event, SetAsideEvent
from campaigns.insight.events import store_events, store_set_aside
from campaigns.insight.sendgrid_events import MAX_ID, from_sendgrid, read_sendgrid_batch
from tests.builders import START

FIELDS = ("event", "sg_event_id", "email", "timestamp", "delivery_id", "step", "campaign", "reason",
          "sg_message_id", "type", "response", "status", "ip", "useragent", "url")  # fmt: skip

hostile_scalars = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.text(st.characters(codec=None), max_size=300)  # any code point: NUL, C1, lone surrogates, bidi
    | st.sampled_from(["\x00", "\ud800", "\x1b[2J", "x" * 5000, "1e400", "Infinity", "99999999999999999999"])
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
    max_leaves=20,
)
hostile_events = st.fixed_dictionaries({}, optional={name: hostile_values for name in FIELDS})
hostile_items = hostile_events | hostile_values


def good_event(i: int) -> dict:
    return {
        "event": "delivered",
        "sg_event_id": f"good-{uuid.uuid4()}",
        "email": f"person{i}@example.com",
        "timestamp": int(START.timestamp()),
        "sg_message_id": "batch-1.filter0001",
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(hostile_items, max_size=6), goods=st.integers(min_value=1, max_value=3))
def test_hostile_events_never_fail_a_batch_and_good_ones_are_always_stored(session_factory, items, goods):
    body = json.dumps([good_event(i) for i in range(goods)] + items, allow_nan=True).encode()
    batch = read_sendgrid_batch(body, START)
    assert len(batch.events) + len(batch.set_aside) == goods + len(items)
    with session_factory() as s:
        events_before = s.scalar(select(func.count()).select_from(Event))
        aside_before = s.scalar(select(func.count()).select_from(SetAsideEvent))
    with session_factory.begin() as s:  # must not raise, whatever was in the batch
        report = store_events(s, batch.events, START)
        set_aside = store_set_aside(s, "sendgrid", batch.set_aside, START)
    with session_factory() as s:
        events_after = s.scalar(select(func.count()).select_from(Event))
        aside_after = s.scalar(select(func.count()).select_from(SetAsideEvent))
        good_ids = [e.provider_event_id for e in batch.events if e.provider_event_id.startswith("good-")]
        assert s.scalar(select(func.count()).select_from(Event).where(Event.provider_event_id.in_(good_ids))) == goods
    assert events_after - events_before == report.stored and aside_after - aside_before == set_aside
    assert report.stored + report.duplicates == len(batch.events)


@given(item=hostile_events)
@settings(max_examples=300, deadline=None)
def test_every_field_is_clipped_to_what_its_column_holds(item):
    event = from_sendgrid(item, START)
    assert len(event.provider_event_id) <= 200 and event.provider_event_id.isprintable()
    assert event.delivery_id is None or 1 <= event.delivery_id <= MAX_ID
    assert event.step is None or 1 <= event.step <= MAX_ID
    assert event.provider_message_id is None or len(event.provider_message_id) <= 200
    assert event.reason is None or len(event.reason) <= 1000
    assert datetime(2000, 1, 1, tzinfo=UTC) <= event.occurred_at
    json.dumps(event.raw, allow_nan=False).encode("utf-8")  # storable as JSON on PostgreSQL: no NaN, no surrogate
    assert "\x00" not in json.dumps(event.raw, ensure_ascii=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42", 42), (42, 42), (42.0, 42), ("٤٢", None), ("-1", None), (0, None), (10**30, None), (True, None),
     (float("inf"), None), ("4" * 11, None), ([1], None)],
)  # fmt: skip
def test_a_delivery_id_is_a_positive_integer_that_fits_the_column(value, expected):
    assert from_sendgrid({"event": "open", "delivery_id": value}, START).delivery_id == expected


def test_a_long_event_id_is_kept_as_its_hash_so_retries_still_dedupe():
    item = {"event": "open", "sg_event_id": "x" * 300}
    first, again = from_sendgrid(item, START), from_sendgrid(dict(item), START)
    assert first.provider_event_id == again.provider_event_id and first.provider_event_id.startswith("h:")
    assert len(first.provider_event_id) < 100


def test_only_the_unreadable_item_of_an_array_is_set_aside():
    deep = "[" * 3000 + "]" * 3000
    body = f'[{{"event": "open", "sg_event_id": "a"}}, {deep}, {{"event": "open", "sg_event_id": "b"}}]'.encode()
    batch = read_sendgrid_batch(body, START)
    assert [e.provider_event_id for e in batch.events] == ["a", "b"]
    [aside] = batch.set_aside
    assert aside.reason == "nested too deeply to read" and len(aside.raw) <= 16_000


def test_a_set_aside_item_keeps_no_address(session_factory):
    body = b'["bounce for ann@example.org"]'
    batch = read_sendgrid_batch(body, START)
    with session_factory.begin() as s:
        store_set_aside(s, "sendgrid", batch.set_aside, START)
    with session_factory() as s:
        row = s.scalar(select(SetAsideEvent))
    assert "ann@example.org" not in row.raw and "<address>" in row.raw and row.reason == "not an event object"
