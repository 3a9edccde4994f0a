"""Subscribers as CSV rows for staff: everyone a search finds, with their consent record, tags and campaigns, walked
by id a page at a time, each page in its own short transaction (an export of a million rows holds no lock and keeps
memory flat). campaigns.csv_output turns the rows into safe CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audience.directory import SubscriberFilter, conditions
from campaigns.audience.tags import tags_of
from campaigns.db.models import Campaign, Enrollment, Subscriber
from campaigns.db.sql import is_in

PAGE = 5000
SUBSCRIBER_COLUMNS = (
    "id",
    "email",
    "name",
    "first_name",
    "timezone",
    "country",
    "status",
    "tags",
    "campaigns",
    "consent_source",
    "consent_at",
    "consent_ip",
    "created_at",
    "paused_until",
    "unsubscribed_at",
    "unsubscribe_source",
)


def subscriber_rows(
    sessions: Callable[[], Session], f: SubscriberFilter | None = None, *, page: int = PAGE
) -> Iterator[tuple]:
    """Every subscriber the filter finds (everyone without one), oldest first, as tuples in SUBSCRIBER_COLUMNS
    order."""
    f = f or SubscriberFilter()
    after = 0
    while True:
        with sessions() as s:
            where = conditions(s, f)
            if where is None:
                return
            subs = list(
                s.scalars(select(Subscriber).where(Subscriber.id > after, *where).order_by(Subscriber.id).limit(page))
            )
            if not subs:
                return
            ids = [x.id for x in subs]
            tags = tags_of(s, ids)
            campaigns: dict[int, list[str]] = {}
            for sid, slug in s.execute(
                select(Enrollment.subscriber_id, Campaign.slug)
                .join(Campaign, Campaign.id == Enrollment.campaign_id)
                .where(is_in(s, Enrollment.subscriber_id, ids))
                .order_by(Enrollment.subscriber_id, Campaign.slug)
            ):
                campaigns.setdefault(sid, []).append(slug)
        after = ids[-1]
        for x in subs:
            yield (
                x.id,
                x.email,
                x.name,
                x.first_name,
                x.timezone,
                x.country,
                x.status,
                tags.get(x.id, []),
                campaigns.get(x.id, []),
                x.consent_source,
                x.consent_at,
                x.consent_ip,
                x.created_at,
                x.paused_until,
                x.unsubscribed_at,
                x.unsubscribe_source,
            )
