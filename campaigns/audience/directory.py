"""Finding people: subscribers by address or name, status, campaign and tag, a page at a time, and everything about
one person for staff (status, consent, enrollments with their next email in the person's own time, a timeline).

An exact address also finds what is left of someone who is no longer a subscriber row: a suppression or an erasure
keeps only the address's hash, so the hash of what was typed is looked up there, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, normalize_address
from campaigns.audience.subscribers import typed_address_key
from campaigns.audience.tags import find_tag, tagged
from campaigns.db.models import Campaign, Enrollment, Subscriber, Suppression

STATUSES = ("active", "pending", "unsubscribed", "bounced", "complained", "erased")
PAGE = 50


@dataclass(frozen=True)
class SubscriberFilter:
    """What staff search by; empty values do not filter."""

    text: str = ""  # part of an address or a name, or a whole address
    status: str = ""
    campaign_id: int | None = None
    tag: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.status or self.campaign_id or self.tag)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(session: Session, f: SubscriberFilter) -> list[ColumnElement[bool]] | None:
    """The WHERE clauses of a filter on subscribers, or None when it cannot match anyone (an unknown tag)."""
    where: list[ColumnElement[bool]] = []
    text = " ".join(f.text.split())
    if text:
        where.append(
            or_(
                Subscriber.email_key == typed_address_key(session, text),
                Subscriber.email.ilike(_like(text.lower()), escape="\\"),
                Subscriber.name.ilike(_like(text), escape="\\"),
            )
        )
    if f.status in STATUSES:
        where.append(Subscriber.status == f.status)
    if f.campaign_id is not None:
        where.append(Subscriber.id.in_(select(Enrollment.subscriber_id).where(Enrollment.campaign_id == f.campaign_id)))
    if f.tag.strip():
        tag_id = find_tag(session, f.tag)
        if tag_id is None:
            return None
        where.append(Subscriber.id.in_(tagged(tag_id)))
    return where


def matching_ids(session: Session, f: SubscriberFilter) -> Select:
    """The ids of every subscriber the filter finds, for bulk changes and exports (walked by id cursor)."""
    where = conditions(session, f)
    return select(Subscriber.id).where(*(where if where is not None else [Subscriber.id < 0]))


@dataclass(frozen=True)
class Remnant:
    """What remains of an address that has no subscriber row: only its hash, on the suppression list."""

    reason: str  # erased | unsubscribed | hard_bounce | complaint | manual | ...
    source: str | None
    since: datetime


@dataclass(frozen=True)
class SearchPage:
    rows: list[Subscriber]
    total: int  # how many the filter finds in all
    older: int | None  # the id to pass as `before` for the next page, None on the last page
    remnant: Remnant | None  # an exact address that only the suppression list remembers
    suppressed_match: Remnant | None  # an exact address whose subscriber is also on the suppression list


def search(session: Session, f: SubscriberFilter, *, before: int | None = None, limit: int = PAGE) -> SearchPage:
    """The newest subscribers the filter finds, `limit` at a time; `before` (an id) pages on to older ones."""
    where = conditions(session, f)
    if where is None:
        return SearchPage([], 0, None, None, None)
    query = select(Subscriber).where(*where)
    if before is not None:
        query = query.where(Subscriber.id < before)
    rows = list(session.scalars(query.order_by(Subscriber.id.desc()).limit(limit + 1)))
    total = session.scalar(select(func.count()).select_from(Subscriber).where(*where)) or 0
    older = rows[limit - 1].id if len(rows) > limit else None
    remnant = suppressed = None
    key = _exact_key(session, f.text)
    if key is not None:
        found = session.scalar(select(Suppression).where(Suppression.email_key == key))
        if found is not None:
            left = Remnant(found.reason, found.source, found.created_at)
            if any(r.email_key == key for r in rows):
                suppressed = left
            else:
                remnant = left
    return SearchPage(rows[:limit], total, older, remnant, suppressed)


def _exact_key(session: Session, text: str) -> str | None:
    """The fingerprint of a whole address typed into the search, or None when it is not one."""
    text = text.strip()
    if "@" not in text or " " in text:
        return None
    try:
        normalize_address(text)
    except AddressError:
        return None
    return typed_address_key(session, text)


def campaign_choices(session: Session) -> list[tuple[int, str]]:
    """(id, slug) of every campaign, for the filter's choice."""
    return [(cid, slug) for cid, slug in session.execute(select(Campaign.id, Campaign.slug).order_by(Campaign.slug))]
