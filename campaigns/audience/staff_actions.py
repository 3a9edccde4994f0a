"""What staff do to subscribers from the admin, each in the caller's transaction and written to the audit log with
the person's id (never their address): pause, resume, unsubscribe, erase, and tags on one person or on everyone a
search finds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.audience import preferences, privacy, unsubscribe
from campaigns.audience.directory import SubscriberFilter, matching_ids
from campaigns.audience.tags import clean_tag, find_tag, tag_ids, tag_subscribers, untag_subscribers
from campaigns.audit import audit
from campaigns.db.models import AuditEntry, Campaign, Subscriber
from campaigns.errors import NotFound

BULK_PAGE = 5000


def _one(s: Session, subscriber_id: int) -> Subscriber:
    sub = s.get(Subscriber, subscriber_id)
    if sub is None:
        raise NotFound(f"no subscriber with id {subscriber_id}")
    return sub


def pause_subscriber(s: Session, subscriber_id: int, weeks: int, now: datetime, *, actor: str) -> None:
    """No email for `weeks` weeks (as the person's own preferences page would do it)."""
    try:
        preferences.pause(s, subscriber_id, weeks, now)
    except preferences.PreferenceError as err:
        if err.field == "status":
            raise preferences.PreferenceError("status", "only a subscribed person can be paused") from None
        raise
    audit(s, None, actor, "paused", f"paused for {weeks} weeks", now, subscriber_id=subscriber_id)


def resume_subscriber(s: Session, subscriber_id: int, now: datetime, *, actor: str) -> None:
    preferences.resume(s, subscriber_id, now)
    audit(s, None, actor, "resumed", "pause ended", now, subscriber_id=subscriber_id)


def unsubscribe_subscriber(s: Session, subscriber_id: int, now: datetime, *, actor: str) -> None:
    """Take the person off every campaign, as if they had used the link in an email (they asked staff to)."""
    before = _one(s, subscriber_id).status
    unsubscribe.unsubscribe(s, subscriber_id, "staff", now)
    audit(s, None, actor, "unsubscribed", f"unsubscribed by staff (was {before})", now, subscriber_id=subscriber_id)


def erase_subscriber(s: Session, subscriber_id: int, now: datetime, *, actor: str) -> dict[str, int]:
    """Erase the person's data (campaigns.audience.privacy); only the address's hash stays, suppressed."""
    _one(s, subscriber_id)
    counts = privacy.erase_subscriber(s, subscriber_id, now)
    # The tags staff put on the person can say as much as their data ("relapse", "family member"): the audit keeps
    # who tagged them and when, no longer which tag.
    s.execute(
        update(AuditEntry)
        .where(AuditEntry.subscriber_id == subscriber_id, AuditEntry.action.in_(("tagged", "untagged")))
        .values(detail=AuditEntry.action)
    )
    detail = f"erased: {counts['emails']} email records and {counts['events']} events scrubbed"
    audit(s, None, actor, "erased", detail, now, subscriber_id=subscriber_id)
    return counts


def add_tag(s: Session, subscriber_id: int, tag: str, now: datetime, *, actor: str) -> bool:
    """Put a tag on one person; False when they had it already."""
    name = clean_tag(tag)
    sub = _one(s, subscriber_id)
    if sub.status == "erased":
        raise NotFound("nothing is stored about this person any more")
    added = tag_subscribers(s, [(sub.id, tag_ids(s, [name], now)[name])]) > 0
    if added:
        audit(s, None, actor, "tagged", f"tag {name!r} added", now, subscriber_id=sub.id)
    return added


def remove_tag(s: Session, subscriber_id: int, tag: str, now: datetime, *, actor: str) -> bool:
    """Take a tag off one person; False when they did not have it."""
    name = clean_tag(tag)
    tag_id = find_tag(s, name)
    removed = tag_id is not None and untag_subscribers(s, [_one(s, subscriber_id).id], tag_id) > 0
    if removed:
        audit(s, None, actor, "untagged", f"tag {name!r} removed", now, subscriber_id=subscriber_id)
    return removed


def tag_matching(
    s: Session, f: SubscriberFilter, tag: str, now: datetime, *, actor: str, remove: bool = False
) -> tuple[int, int]:
    """Add (or remove) a tag on everyone the filter finds (erased people excepted), walking them by id.
    Returns (found, changed): how many matched, and how many did not have it (or had it, for a removal)."""
    name = clean_tag(tag)
    tag_id = find_tag(s, name) if remove else tag_ids(s, [name], now)[name]
    found = changed = 0
    after = 0
    ids_query = matching_ids(s, f).where(Subscriber.status != "erased")
    while True:
        ids = list(s.scalars(ids_query.where(Subscriber.id > after).order_by(Subscriber.id).limit(BULK_PAGE)))
        if not ids:
            break
        after = ids[-1]
        found += len(ids)
        if tag_id is None:
            continue
        changed += untag_subscribers(s, ids, tag_id) if remove else tag_subscribers(s, [(i, tag_id) for i in ids])
    verb = "removed from" if remove else "added to"
    audit(
        s,
        None,
        actor,
        "untagged" if remove else "tagged",
        f"tag {name!r} {verb} {changed} of {found} found by a search ({describe(s, f)})",
        now,
    )
    return found, changed


def describe(s: Session, f: SubscriberFilter) -> str:
    """A filter in words for the audit log; a typed search is not repeated (it may be an address or a name)."""
    parts = []
    if f.text.strip():
        parts.append("a typed search")
    if f.status:
        parts.append(f"status {f.status}")
    if f.campaign_id is not None:
        parts.append(f"campaign {s.scalar(select(Campaign.slug).where(Campaign.id == f.campaign_id))}")
    if f.tag:
        parts.append(f"tag {f.tag!r}")
    return ", ".join(parts) or "everyone"
