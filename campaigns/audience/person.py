"""One subscriber as staff see them: status, consent record, tags, enrollments with the next email in the person's own
time, any suppression, and a timeline of what happened (sign-up, enrolments, emails, provider events, staff actions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from campaigns.audience.tags import tags_of
from campaigns.db.models import AuditEntry, Campaign, Delivery, Enrollment, Event, StepRow, Subscriber, Suppression
from campaigns.db.models import CampaignVersion as Version
from campaigns.delivery.schedule import zone
from campaigns.errors import NotFound
from campaigns.redaction import mask_addresses

TIMELINE = 200


@dataclass(frozen=True)
class EnrollmentView:
    campaign_slug: str
    campaign_title: str
    campaign_status: str
    status: str  # active | sending | completed | stopped
    next_step: int
    steps: int
    next_due_at: datetime | None  # UTC
    next_due_local: str | None  # the same instant on the person's own clock, in words
    enrolled_at: datetime


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: when, what kind (for its badge), and what happened in words."""

    at: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class Person:
    subscriber: Subscriber
    tags: list[str]
    enrollments: list[EnrollmentView]
    suppression: Suppression | None
    timeline: list[Moment]
    paused: bool


def local_time(at: datetime | None, tz: str) -> str | None:
    """An instant on the person's clock: "Tue 5 Jan 2027, 09:00 (America/New_York)"."""
    if at is None:
        return None
    return at.astimezone(zone(tz)).strftime("%a %-d %b %Y, %H:%M") + f" ({tz})"


def person(session: Session, subscriber_id: int, now: datetime) -> Person:
    """Everything staff may see about one subscriber; NotFound when there is no such id."""
    sub = session.get(Subscriber, subscriber_id)
    if sub is None:
        raise NotFound(f"no subscriber with id {subscriber_id}")
    rows = session.execute(
        select(Enrollment, Campaign)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.subscriber_id == sub.id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    ).all()
    steps = _step_counts(session, [c.id for _, c in rows])
    enrollments = [
        EnrollmentView(
            c.slug,
            c.title,
            c.status,
            e.status,
            e.next_step,
            steps.get(c.id, 0),
            e.next_due_at,
            local_time(e.next_due_at, sub.timezone) if e.status == "active" else None,
            e.enrolled_at,
        )
        for e, c in rows
    ]
    suppression = None
    if sub.status != "erased":
        suppression = session.scalar(select(Suppression).where(Suppression.email_key == sub.email_key))
    return Person(
        sub,
        tags_of(session, [sub.id]).get(sub.id, []),
        enrollments,
        suppression,
        _timeline(session, sub, [(e, c) for e, c in rows]),
        sub.paused_until is not None and sub.paused_until > now,
    )


def _step_counts(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Campaign.id, func.count(StepRow.id))
        .join(Version, (Version.campaign_id == Campaign.id) & (Version.number == Campaign.current_version))
        .join(StepRow, StepRow.version_id == Version.id)
        .where(Campaign.id.in_(campaign_ids))
        .group_by(Campaign.id)
    ).all()
    return {cid: n for cid, n in rows}


_EVENT_WORDS = {
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Clicked a link in",
    "bounced": "Bounced (the address does not take mail)",
    "soft_bounced": "Refused this time",
    "dropped": "Dropped by the provider",
    "complained": "Marked as spam",
    "unsubscribed": "Unsubscribed from",
    "resubscribed": "Resubscribed from",
    "deferred": "Delayed by the receiving server",
    "processed": "Accepted by the provider",
}


def _timeline(session: Session, sub: Subscriber, enrollments: list[tuple[Enrollment, Campaign]]) -> list[Moment]:
    slugs = {c.id: c.slug for _, c in enrollments}
    moments = [Moment(sub.created_at, "joined", _joined(sub))]
    if sub.consent_at is not None:
        where = f" from {sub.consent_ip}" if sub.consent_ip else ""
        moments.append(
            Moment(sub.consent_at, "consent", f"Consent recorded ({sub.consent_source or 'no source'}){where}")
        )
    for e, c in enrollments:
        moments.append(Moment(e.enrolled_at, "enrolled", f"Enrolled in {c.slug}"))
    enrollment_ids = [e.id for e, _ in enrollments]
    deliveries = (
        list(
            session.scalars(
                select(Delivery)
                .where(Delivery.enrollment_id.in_(enrollment_ids))
                .order_by(Delivery.id.desc())
                .limit(TIMELINE)
            )
        )
        if enrollment_ids
        else []
    )
    for d in deliveries:
        campaign = slugs.get(d.campaign_id, "?")
        if d.sent_at is not None:
            moments.append(Moment(d.sent_at, "sent", f"Step {d.step_number} of {campaign} sent ({d.status})"))
        elif d.status in ("cancelled", "failed"):
            reason = f": {mask_addresses(d.last_error)}" if d.last_error else ""
            moments.append(
                Moment(d.updated_at or d.created_at, d.status, f"Step {d.step_number} of {campaign} {d.status}{reason}")
            )
    about: list[ColumnElement[bool]] = [Event.delivery_id.in_([d.id for d in deliveries])] if deliveries else []
    if sub.status != "erased":
        about.append(Event.email_key == sub.email_key)
    if about:
        for ev in session.scalars(select(Event).where(or_(*about)).order_by(Event.occurred_at.desc()).limit(TIMELINE)):
            words = _EVENT_WORDS.get(ev.kind, ev.kind.replace("_", " ").capitalize())
            what = (
                f"step {ev.step_number} of {slugs.get(ev.campaign_id or 0, 'a campaign')}"
                if ev.step_number
                else "an email"
            )
            reason = f": {mask_addresses(ev.reason)}" if ev.reason and ev.kind not in ("opened", "clicked") else ""
            moments.append(Moment(ev.occurred_at, ev.kind, f"{words} {what}{reason}"))
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.subscriber_id == sub.id).order_by(AuditEntry.at.desc()).limit(TIMELINE)
    ):
        moments.append(Moment(entry.at, "staff", f"{entry.actor}: {entry.detail or entry.action}"))
    if sub.unsubscribed_at is not None:
        moments.append(Moment(sub.unsubscribed_at, "left", f"Left ({sub.unsubscribe_source or 'unknown way'})"))
    moments.sort(key=lambda m: m.at, reverse=True)
    return moments[:TIMELINE]


def _joined(sub: Subscriber) -> str:
    source = sub.consent_source or "no source recorded"
    return f"Added ({source})"
