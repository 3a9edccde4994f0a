"""Delivery events: one normalised `DeliveryEvent` for whatever the provider reports, stored once each.

SendGrid posts JSON arrays of events and retries for up to 24 hours on any non-2xx answer, so the same event can
arrive more than once: each is stored once, keyed on `sg_event_id` (insert-or-ignore). An event is matched to its
delivery through the `delivery_id` custom arg (checked against the subscriber's address key), falling back to the
`sg_message_id` prefix (our `provider_message_id`) plus the address key. Events that match no delivery are kept
(delivery_id NULL) and counted. Addresses never reach the table: the address becomes `email_key`, and the raw
payload is stored without `email`, `ip` or `useragent`, with any address in a reason text masked.

Reading a provider's payload into `DeliveryEvent`s is the provider's own module (sendgrid_events.py); what it could
not read is set aside here (`store_set_aside`), raw, for an admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.addresses import address_key
from campaigns.db.models import Campaign, Delivery, Enrollment, Event, SetAsideEvent, Subscriber
from campaigns.db.sql import chunked, insert_ignore
from campaigns.delivery import state as ds


class EventKind(StrEnum):
    """The closed set of event kinds; stats and reactions read only these."""

    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCED = "bounced"  # hard: the address does not exist or refuses for good
    SOFT_BOUNCED = "soft_bounced"  # blocked: refused this time (reputation, content, full mailbox)
    DROPPED = "dropped"  # SendGrid did not even try (see `reason`)
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    RESUBSCRIBED = "resubscribed"
    UNKNOWN = "unknown"


# The provider_event_id of events we record ourselves (an unsubscribe through our own link), not from a provider.
LOCAL_EVENT_PREFIX = "local:"


@dataclass(frozen=True)
class DeliveryEvent:
    """One provider event, normalised; `delivery_id` is the id the event claims, checked when stored. `address` is
    the address it names, as given: it becomes the keyed `email_key` when stored, and is stored nowhere itself."""

    kind: EventKind
    provider_event_id: str
    occurred_at: datetime
    address: str | None
    delivery_id: int | None
    provider_message_id: str | None
    campaign: str | None
    step: int | None
    reason: str | None
    raw: dict[str, Any]


@dataclass
class RecordReport:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0  # stored with no delivery (unknown or foreign delivery id)
    unknown_kinds: int = 0  # event names we do not know, kept as `unknown`
    set_aside: int = 0  # items that were no event we could read, kept raw in set_aside_events
    new_ids: list[int] = field(default_factory=list)


def store_events(session: Session, events: Sequence[DeliveryEvent], now: datetime) -> RecordReport:
    """Insert each event once (duplicates ignored), matched to its delivery; reactions are applied later."""
    report = RecordReport(received=len(events))
    unique = list({e.provider_event_id: e for e in events}.values())
    keys = address_key(session)
    key_of = {e.provider_event_id: keys.of(e.address) if e.address else None for e in unique}
    matched = _match_deliveries(session, unique, key_of)
    campaigns = _campaign_ids(session, {e.campaign for e in unique if e.provider_event_id not in matched})
    rows = []
    for e in unique:
        hit = matched.get(e.provider_event_id)
        report.unmatched += hit is None
        report.unknown_kinds += e.kind is EventKind.UNKNOWN
        rows.append(
            {
                "provider_event_id": e.provider_event_id,
                "kind": str(e.kind),
                "email_key": key_of[e.provider_event_id],
                "delivery_id": hit[0] if hit else None,
                "campaign_id": hit[1] if hit else campaigns.get(e.campaign),
                "step_number": hit[2] if hit else e.step,
                "reason": e.reason,
                "occurred_at": e.occurred_at,
                "received_at": now,
                "raw": e.raw,
                "processed_at": None,
            }
        )
    if rows:
        stmt = insert_ignore(session, Event.__table__, ["provider_event_id"]).returning(Event.__table__.c.id)
        for part in chunked(rows, 1000):
            report.new_ids.extend(session.scalars(stmt, list(part)))
    report.stored = len(report.new_ids)
    report.duplicates = report.received - report.stored
    # Unmatched and unknown-kind counts are for the events actually stored, not for repeats.
    if report.duplicates:
        stored = set(session.scalars(select(Event.provider_event_id).where(Event.id.in_(report.new_ids))))
        kept = [e for e in unique if e.provider_event_id in stored]
        report.unmatched = sum(1 for e in kept if e.provider_event_id not in matched)
        report.unknown_kinds = sum(1 for e in kept if e.kind is EventKind.UNKNOWN)
    return report


def store_set_aside(session: Session, provider: str, items: Sequence[Any], now: datetime) -> int:
    """Keep webhook items that were no readable event (each a `SetAside`: reason, clipped raw text, address), with
    the address as its key only. Returns how many."""
    if not items:
        return 0
    keys = address_key(session)
    session.execute(
        insert(SetAsideEvent),
        [
            {
                "provider": provider,
                "reason": item.reason[:300],
                "email_key": keys.of(item.address) if item.address else None,
                "raw": item.raw,
                "received_at": now,
            }
            for item in items
        ],
    )
    return len(items)


def _match_deliveries(
    session: Session, events: list[DeliveryEvent], key_of: dict[str, str | None]
) -> dict[str, tuple[int, int, int]]:
    """event id -> (delivery id, campaign id, step) for the events whose delivery we sent to that very address."""
    found: dict[str, tuple[int, int, int]] = {}
    cols = (Delivery.id, Delivery.campaign_id, Delivery.step_number, Subscriber.email_key)
    joined = lambda q: q.join(Enrollment, Enrollment.id == Delivery.enrollment_id).join(  # noqa: E731
        Subscriber, Subscriber.id == Enrollment.subscriber_id
    )
    by_id: dict[int, tuple] = {}
    for ids in chunked(sorted({e.delivery_id for e in events if e.delivery_id is not None})):
        by_id.update((r[0], r) for r in session.execute(joined(select(*cols)).where(Delivery.id.in_(ids))))
    for e in events:
        r = by_id.get(e.delivery_id) if e.delivery_id is not None else None
        # The key check stops another environment's ids (a staging server on the same SendGrid account) matching.
        if r is not None and r[3] == key_of[e.provider_event_id]:
            found[e.provider_event_id] = (r[0], r[1], r[2])
    rest = [
        e for e in events if e.provider_event_id not in found and e.provider_message_id and key_of[e.provider_event_id]
    ]
    by_message: dict[tuple[str, str], tuple] = {}
    for pairs in chunked(sorted({(e.provider_message_id or "", key_of[e.provider_event_id] or "") for e in rest})):
        # Found through the address key (subscriber, their enrollments, their deliveries: all indexed); no index
        # covers the message id, which a delivery gets when it is sent (it would make that update not HOT).
        for r in session.execute(
            joined(select(*cols, Delivery.provider_message_id)).where(
                Subscriber.email_key.in_({k for _, k in pairs}),
                Delivery.provider_message_id.in_({m for m, _ in pairs}),
            )
        ):
            by_message[(r[4], r[3])] = r
    for e in rest:
        r = by_message.get((e.provider_message_id or "", key_of[e.provider_event_id] or ""))
        if r is not None:
            found[e.provider_event_id] = (r[0], r[1], r[2])
    return found


def _campaign_ids(session: Session, slugs: set[str | None]) -> dict[str | None, int]:
    names = sorted(s for s in slugs if s)
    if not names:
        return {}
    return dict(session.execute(select(Campaign.slug, Campaign.id).where(Campaign.slug.in_(names))).all())


def record_unsubscribe_event(
    session: Session, subscriber_id: int, campaign_id: int | None, source: str, now: datetime
) -> bool:
    """Record an unsubscribe made through our own links (one-click, page) as an `unsubscribed` event, so stats see
    it beside SendGrid's: attributed to the newest email of that campaign the person was sent. Once per person and
    campaign; the caller has already applied the unsubscribe itself. Returns whether an event was added."""
    key = session.scalar(select(Subscriber.email_key).where(Subscriber.id == subscriber_id))
    last = session.execute(
        select(Delivery.id, Delivery.campaign_id, Delivery.step_number)
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(
            Enrollment.subscriber_id == subscriber_id,
            Delivery.status.in_(sorted(ds.SENT)),
            *([Delivery.campaign_id == campaign_id] if campaign_id is not None else []),
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    ).first()
    row = {
        "provider_event_id": (
            f"{LOCAL_EVENT_PREFIX}unsubscribe:{subscriber_id}:{campaign_id or (last and last[1]) or 0}"
        ),
        "kind": str(EventKind.UNSUBSCRIBED),
        "email_key": key,
        "delivery_id": last[0] if last else None,
        "campaign_id": last[1] if last else campaign_id,
        "step_number": last[2] if last else None,
        "reason": f"unsubscribed ({source})",
        "occurred_at": now,
        "received_at": now,
        "raw": {"source": source},
        "processed_at": now,
    }
    stmt = insert_ignore(session, Event.__table__, ["provider_event_id"]).returning(Event.__table__.c.id)
    return session.execute(stmt, [row]).first() is not None
