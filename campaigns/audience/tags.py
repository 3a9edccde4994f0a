"""Tags: labels staff put on subscribers (from an import, by hand, or on everyone a search finds), to filter, export
and enroll by. A tag's name is trimmed, on one line and lower-cased, so "Donors " and "donors" are one tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.orm import Session

from campaigns.db.models import Subscriber, SubscriberTag, Tag
from campaigns.db.sql import chunked, insert_ignore, insert_ignore_many, is_in, rows_changed
from campaigns.errors import OutreachError
from campaigns.text_input import clean_line

MAX_TAG = 60


class TagError(OutreachError):
    """A tag name that cannot be used (empty or too long)."""

    field = "tag"


def clean_tag(name: str | None) -> str:
    """The tag as stored: one line, single spaces, lower case; TagError when empty or longer than MAX_TAG."""
    cleaned = clean_line(name).lower()
    if not cleaned:
        raise TagError("type a tag")
    if len(cleaned) > MAX_TAG:
        raise TagError(f"a tag has at most {MAX_TAG} characters")
    return cleaned


def tag_ids(session: Session, names: Iterable[str], now: datetime) -> dict[str, int]:
    """The id of each (already cleaned) tag name, made when it does not exist yet (safe when two imports race)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = _ids(session, wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        session.execute(
            insert_ignore(session, Tag.__table__, ("name",)), [{"name": n, "created_at": now} for n in missing]
        )
        found.update(_ids(session, missing))
    return found


def _ids(session: Session, names: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunked(names):
        found.update(
            {name: tid for name, tid in session.execute(select(Tag.name, Tag.id).where(is_in(session, Tag.name, part)))}
        )
    return found


def find_tag(session: Session, name: str) -> int | None:
    """The id of an existing tag, or None (nothing is made)."""
    return session.scalar(select(Tag.id).where(Tag.name == clean_tag(name)))


def tag_subscribers(session: Session, pairs: Iterable[tuple[int, int]]) -> int:
    """Put tags on subscribers, given (subscriber id, tag id) pairs; returns how many were not there yet."""
    rows = [{"subscriber_id": s, "tag_id": t} for s, t in dict.fromkeys(pairs)]
    added = 0
    for part in chunked(rows):
        added += len(
            insert_ignore_many(
                session, SubscriberTag.__table__, ("subscriber_id", "tag_id"), part, returning=("subscriber_id",)
            )
        )
    return added


def untag_subscribers(session: Session, subscriber_ids: Sequence[int], tag_id: int) -> int:
    """Take one tag off these subscribers; returns how many had it."""
    removed = 0
    for part in chunked(subscriber_ids):
        removed += rows_changed(
            session,
            delete(SubscriberTag).where(
                SubscriberTag.tag_id == tag_id, is_in(session, SubscriberTag.subscriber_id, part)
            ),
        )
    return removed


def tags_of(session: Session, subscriber_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each subscriber's tag names, sorted (subscribers without tags are left out)."""
    found: dict[int, list[str]] = {}
    for part in chunked(subscriber_ids):
        rows = session.execute(
            select(SubscriberTag.subscriber_id, Tag.name)
            .join(Tag, Tag.id == SubscriberTag.tag_id)
            .where(is_in(session, SubscriberTag.subscriber_id, part))
            .order_by(SubscriberTag.subscriber_id, Tag.name)
        )
        for sid, name in rows:
            found.setdefault(sid, []).append(name)
    return found


def tagged(tag_id: int) -> Select:
    """The ids of subscribers carrying the tag, to use in a WHERE … IN (…)."""
    return select(SubscriberTag.subscriber_id).where(SubscriberTag.tag_id == tag_id)


@dataclass(frozen=True)
class TagCount:
    name: str
    subscribers: int  # everyone carrying it
    active: int  # of whom active: who an enrolment by this tag would reach (less any suppressed)


def tag_counts(session: Session) -> list[TagCount]:
    """Every tag with how many subscribers carry it and how many of those are active, by name."""
    active = func.count(Subscriber.id).filter(Subscriber.status == "active")
    rows = session.execute(
        select(Tag.name, func.count(SubscriberTag.subscriber_id), active)
        .select_from(Tag)
        .outerjoin(SubscriberTag, SubscriberTag.tag_id == Tag.id)
        .outerjoin(Subscriber, and_(Subscriber.id == SubscriberTag.subscriber_id))
        .group_by(Tag.id, Tag.name)
        .order_by(Tag.name)
    ).all()
    return [TagCount(name, total, act) for name, total, act in rows]
