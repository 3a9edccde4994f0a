"""What happened lately, for the dashboard's lists: provider events, set-aside webhook items and suppressions, newest
first.

Lists hold no addresses: an event names the subscriber its delivery went to by id, a suppression only by its hash.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from campaigns.addresses import email_key
from campaigns.db.models import Delivery, Enrollment, Event, SetAsideEvent, Suppression


def recent_events(
    session: Session,
    limit: int = 50,
    *,
    campaign_id: int | None = None,
    kind: str | None = None,
    step: int | None = None,
    before: int | None = None,
) -> list[Event]:
    """The newest events first, filtered; `before` (an event id) pages on from that event to older ones."""
    q = select(Event).order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)
    if campaign_id is not None:
        q = q.where(Event.campaign_id == campaign_id)
    if kind:
        q = q.where(Event.kind == kind)
    if step is not None:
        q = q.where(Event.step_number == step)
    if before is not None:
        at = session.scalar(select(Event.occurred_at).where(Event.id == before))
        if at is not None:  # keyset: strictly after the cursor in (time, id) order, whatever else shares its time
            q = q.where(or_(Event.occurred_at < at, and_(Event.occurred_at == at, Event.id < before)))
    return list(session.scalars(q))


def event_subscribers(session: Session, events: list[Event]) -> dict[int, int]:
    """The subscriber each event's delivery went to, by delivery id: a person to look up (their id), not an
    address on a page (dashboards never list who reads about treatment)."""
    ids = sorted({e.delivery_id for e in events if e.delivery_id is not None})
    if not ids:
        return {}
    rows = session.execute(
        select(Delivery.id, Enrollment.subscriber_id)
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(Delivery.id.in_(ids))
    ).all()
    return {did: sid for did, sid in rows}


def recent_suppressions(session: Session, limit: int = 50) -> list[Suppression]:
    """Newest suppressions: reason, source, time and key; the list holds no addresses to show."""
    return list(
        session.scalars(select(Suppression).order_by(Suppression.created_at.desc(), Suppression.id.desc()).limit(limit))
    )


def find_suppression(session: Session, address: str) -> Suppression | None:
    """The suppression of one address, found by its hash (the address itself is stored nowhere here)."""
    return session.scalar(select(Suppression).where(Suppression.email_key == email_key(session, address)))


def set_aside_count(session: Session) -> int:
    """Webhook items that could not be read and were kept raw (campaigns.insight.sendgrid_events)."""
    return session.scalar(select(func.count()).select_from(SetAsideEvent)) or 0


def recent_set_aside(session: Session, limit: int = 20) -> list[SetAsideEvent]:
    return list(
        session.scalars(
            select(SetAsideEvent).order_by(SetAsideEvent.received_at.desc(), SetAsideEvent.id.desc()).limit(limit)
        )
    )
