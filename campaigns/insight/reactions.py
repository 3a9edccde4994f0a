"""What the system does by itself when events arrive: move deliveries on, and stop mailing people who must not be
mailed again (hard bounce, complaint, unsubscribe, an address SendGrid drops as bounced or invalid, repeated soft
bounces). Every reaction is idempotent and set-based, so an event processed twice (a retried task, two workers)
changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns.db.models import Delivery, Enrollment, Event, Subscriber
from campaigns.db.sql import chunked, rows_changed
from campaigns.delivery import state as ds
from campaigns.delivery.suppression import suppress_key
from campaigns.insight.events import (
    DeliveryEvent,
    EventKind,
    RecordReport,
    store_events,
)

#: Event kind -> the delivery status it proves. Applied in this order, so an `unknown` delivery with both a
#: processed and a delivered event ends `delivered`. Engagement proves delivery too.
DELIVERY_MOVES: tuple[tuple[EventKind, str], ...] = (
    (EventKind.PROCESSED, ds.ACCEPTED),
    (EventKind.DELIVERED, ds.DELIVERED),
    (EventKind.OPENED, ds.DELIVERED),
    (EventKind.CLICKED, ds.DELIVERED),
    (EventKind.COMPLAINED, ds.DELIVERED),
    (EventKind.UNSUBSCRIBED, ds.DELIVERED),
    (EventKind.DROPPED, ds.DROPPED),
    (EventKind.BOUNCED, ds.BOUNCED),
    (EventKind.SOFT_BOUNCED, ds.BOUNCED),  # "blocked": this email was refused, SendGrid will not retry it
)

#: Event kind -> (suppression reason, subscriber status), for kinds that end mailing an address at once.
#: `resubscribed` (SendGrid's group_resubscribe) has no reaction on purpose: coming back takes the person's own
#: confirmation through our pages, never a provider event.
ADDRESS_REACTIONS: dict[str, tuple[str, str]] = {
    EventKind.COMPLAINED: ("complaint", "complained"),
    EventKind.BOUNCED: ("hard_bounce", "bounced"),
    EventKind.UNSUBSCRIBED: ("unsubscribed", "unsubscribed"),
}
#: A drop's `reason` (lower-cased, SendGrid's own suppression lists) -> (suppression reason, subscriber status).
#: Other drop reasons ("Invalid SMTPAPI header", "Spam Content") are about the message, not the address.
DROP_REASONS: dict[str, tuple[str, str]] = {
    "bounced address": ("hard_bounce", "bounced"),
    "invalid": ("invalid_address", "bounced"),
    "spam reporting address": ("complaint", "complained"),
    "unsubscribed address": ("unsubscribed", "unsubscribed"),
}
SOFT_BOUNCE = ("soft_bounces", "bounced")
# The strongest reason wins when one batch holds several for the same address (a suppression keeps its first).
_PRIORITY = ["complaint", "hard_bounce", "invalid_address", "soft_bounces", "unsubscribed"]
# A subscriber who erased their data, or already left, keeps that status.
_MOVABLE_SUBSCRIBER = ("active", "pending")


@dataclass
class ReactionReport:
    moved: dict[str, int] = field(default_factory=dict)  # delivery status -> rows moved
    suppressed: dict[str, int] = field(default_factory=dict)  # reason -> addresses
    enrollments_stopped: int = 0
    deliveries_cancelled: int = 0


def apply_reactions(
    session: Session, events: Sequence[Event], now: datetime, *, soft_bounce_limit: int
) -> ReactionReport:
    """Apply what `events` mean to deliveries, subscribers, enrollments and the suppression list."""
    report = ReactionReport()
    _move_deliveries(session, events, report)
    verdicts = _address_verdicts(events)
    soft_keys = {e.email_key for e in events if e.kind == EventKind.SOFT_BOUNCED and e.email_key}
    for key in _over_soft_limit(session, soft_keys - set(verdicts), soft_bounce_limit):
        verdicts[key] = SOFT_BOUNCE
    if verdicts:
        _stop_addresses(session, verdicts, now, report)
    return report


def _move_deliveries(session: Session, events: Sequence[Event], report: ReactionReport) -> None:
    t = Delivery.__table__
    for kind, target in DELIVERY_MOVES:
        first_seen: dict[int, datetime] = {}
        for e in events:
            if e.kind == kind and e.delivery_id is not None:
                first_seen[e.delivery_id] = min(first_seen.get(e.delivery_id, e.occurred_at), e.occurred_at)
        # Not from `submitting`: the send path has not written its own answer (message id, sent_at) yet, and its
        # update only moves rows still in `submitting`; its result then reaches the same status through `accepted`.
        allowed = [s for s in ds.sources(target) if s != ds.SUBMITTING]
        if not first_seen or not allowed:
            continue
        # A delivery settled from `unknown` never had its sent time written: the first event's time stands in.
        at = bindparam("at", type_=t.c.sent_at.type)
        moved = rows_changed(
            session,
            # OR of equalities, not IN: an expanding IN list cannot be used with executemany.
            update(t)
            .where(t.c.id == bindparam("d_id"), or_(*(t.c.status == s for s in allowed)))
            .values(status=target, lease_until=None, sent_at=func.coalesce(t.c.sent_at, at)),
            [{"d_id": d, "at": at} for d, at in sorted(first_seen.items())],
        )
        if moved > 0:  # a driver may not count the rows of an executemany (-1)
            report.moved[target] = report.moved.get(target, 0) + moved


def _address_verdicts(events: Iterable[Event]) -> dict[str, tuple[str, str]]:
    """email key -> (suppression reason, subscriber status) for addresses that must not be mailed again."""
    found: dict[str, tuple[str, str]] = {}
    for e in events:
        if not e.email_key:
            continue
        verdict = ADDRESS_REACTIONS.get(e.kind)
        if e.kind == EventKind.DROPPED:
            verdict = DROP_REASONS.get((e.reason or "").strip().lower())
        if verdict and (
            e.email_key not in found or _PRIORITY.index(verdict[0]) < _PRIORITY.index(found[e.email_key][0])
        ):
            found[e.email_key] = verdict
    return found


def _over_soft_limit(session: Session, keys: set[str], limit: int) -> list[str]:
    """Keys with at least `limit` soft bounces since their last delivery (a delivered email resets the count)."""
    if not keys:
        return []
    last_ok = (
        select(Event.email_key, func.max(Event.occurred_at).label("at"))
        .where(Event.email_key.in_(sorted(keys)), Event.kind == EventKind.DELIVERED)
        .group_by(Event.email_key)
        .subquery()
    )
    q = (
        select(Event.email_key)
        .outerjoin(last_ok, last_ok.c.email_key == Event.email_key)
        .where(
            Event.email_key.in_(sorted(keys)),
            Event.kind == EventKind.SOFT_BOUNCED,
            or_(last_ok.c.at.is_(None), Event.occurred_at > last_ok.c.at),
        )
        .group_by(Event.email_key)
        .having(func.count(func.distinct(Event.provider_event_id)) >= limit)
    )
    return list(session.scalars(q))


def _stop_addresses(
    session: Session, verdicts: dict[str, tuple[str, str]], now: datetime, report: ReactionReport
) -> None:
    """Suppress each address (hash only), mark its subscriber, stop its enrollments and cancel its queued emails."""
    for key, (reason, _status) in verdicts.items():
        suppress_key(session, key, reason, "sendgrid", now)
        report.suppressed[reason] = report.suppressed.get(reason, 0) + 1
    by_status: dict[str, list[str]] = {}
    for key, (_reason, status) in verdicts.items():
        by_status.setdefault(status, []).append(key)
    for status, keys in by_status.items():
        extra = {"unsubscribed_at": now, "unsubscribe_source": "sendgrid"} if status == "unsubscribed" else {}
        for part in chunked(keys):
            session.execute(
                update(Subscriber)
                .where(Subscriber.email_key.in_(part), Subscriber.status.in_(_MOVABLE_SUBSCRIBER))
                .values(status=status, **extra)
                .execution_options(synchronize_session=False)
            )
    for part in chunked(list(verdicts)):
        people = select(Subscriber.id).where(Subscriber.email_key.in_(part))
        report.enrollments_stopped += rows_changed(
            session,
            update(Enrollment)
            .where(Enrollment.subscriber_id.in_(people), Enrollment.status.in_(("active", "sending")))
            .values(status="stopped")
            .execution_options(synchronize_session=False),
        )
        # Only `queued`: a `sending` row belongs to a worker that re-checks suppression before it submits.
        report.deliveries_cancelled += rows_changed(
            session,
            update(Delivery)
            .where(
                Delivery.status == ds.QUEUED,
                Delivery.enrollment_id.in_(select(Enrollment.id).where(Enrollment.subscriber_id.in_(people))),
            )
            .values(status=ds.CANCELLED, updated_at=now, last_error="address suppressed after a provider event")
            .execution_options(synchronize_session=False),
        )


def pending_events(session: Session, limit: int = 5000) -> list[Event]:
    """Stored events whose reactions are not applied yet, oldest first (locked on PostgreSQL, skipping busy ones)."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.processed_at.is_(None))
            .order_by(Event.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def process_pending(session: Session, now: datetime, soft_bounce_limit: int, limit: int = 5000) -> int:
    """Apply reactions to up to `limit` unprocessed events and mark them processed; returns how many."""
    events = pending_events(session, limit)
    if not events:
        return 0
    apply_reactions(session, events, now, soft_bounce_limit=soft_bounce_limit)
    ids = [e.id for e in events]
    for part in chunked(ids):
        session.execute(update(Event).where(Event.id.in_(part)).values(processed_at=now))
    return len(ids)


def record_events(
    session: Session, events: Sequence[DeliveryEvent], now: datetime, *, soft_bounce_limit: int
) -> RecordReport:
    """Store the events once each and apply their reactions now (inline processing: tests, no worker)."""
    report = store_events(session, events, now)
    while process_pending(session, now, soft_bounce_limit):
        pass
    return report
