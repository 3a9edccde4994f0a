"""Events and per-step statistics as CSV rows for staff, events walked by id a page at a time in short transactions
(flat memory however many there are). Rows name people by subscriber id, never by address, and reasons have any
quoted address masked, as on the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.db.models import Campaign, Delivery, Enrollment, Event
from campaigns.db.sql import is_in
from campaigns.insight.stats import campaign_stats
from campaigns.redaction import mask_addresses

PAGE = 5000
EVENT_COLUMNS = ("id", "occurred_at", "kind", "campaign", "step", "email_id", "subscriber_id", "reason", "url")
STEP_COLUMNS = (
    "campaign",
    "step",
    "subject",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "dropped",
    "complained",
    "unsubscribed",
    "delivery_rate",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "complaint_rate",
    "unsubscribe_rate",
)


def event_rows(
    sessions: Callable[[], Session], *, campaign_id: int | None = None, kind: str | None = None, page: int = PAGE
) -> Iterator[tuple]:
    """Every event (of one campaign, of one kind), oldest first, as tuples in EVENT_COLUMNS order."""
    after = 0
    while True:
        with sessions() as s:
            query = select(Event).where(Event.id > after)
            if campaign_id is not None:
                query = query.where(Event.campaign_id == campaign_id)
            if kind:
                query = query.where(Event.kind == kind)
            events = list(s.scalars(query.order_by(Event.id).limit(page)))
            if not events:
                return
            slugs = {cid: slug for cid, slug in s.execute(select(Campaign.id, Campaign.slug))}
            delivery_ids = sorted({e.delivery_id for e in events if e.delivery_id is not None})
            people = {
                did: sid
                for did, sid in s.execute(
                    select(Delivery.id, Enrollment.subscriber_id)
                    .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                    .where(is_in(s, Delivery.id, delivery_ids or [0]))
                )
            }
        after = events[-1].id
        for e in events:
            url = e.raw.get("url") if e.kind == "clicked" and isinstance(e.raw, dict) else None
            yield (
                e.id,
                e.occurred_at,
                e.kind,
                slugs.get(e.campaign_id or 0, ""),
                e.step_number,
                e.delivery_id,
                people.get(e.delivery_id or 0),
                mask_addresses(e.reason) if e.reason else None,
                url,
            )


def step_rows(session: Session, campaign_id: int | None = None) -> list[tuple]:
    """One row per step of every campaign (or one): its counts and rates (rates as fractions, empty when there is
    nothing to divide by)."""
    rows = []
    for c in campaign_stats(session, campaign_id):
        for step in c.steps:
            counts, rates = step.counts, step.counts.rates()
            rows.append(
                (
                    c.slug,
                    step.number,
                    step.subject,
                    counts.sent,
                    counts.delivered,
                    counts.opened,
                    counts.clicked,
                    counts.bounced,
                    counts.dropped,
                    counts.complained,
                    counts.unsubscribed,
                    *(_rate(rates[name]) for name in STEP_COLUMNS[11:]),
                )
            )
    return rows


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
