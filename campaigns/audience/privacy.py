"""Data rights: everything stored about one subscriber (export), and erasure that keeps only a hash to never mail
the address again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from campaigns.audience.tags import tags_of
from campaigns.audience.unsubscribe import (
    SUPPRESSION_REASON,
    load_subscriber,
    stop_mail,
)
from campaigns.db.models import (
    Campaign,
    Contact,
    Delivery,
    Enrollment,
    Event,
    LessonFeedback,
    ReaderEvent,
    SetAsideEvent,
    SignupRequest,
    Subscriber,
    SubscriberTag,
    Suppression,
)
from campaigns.db.sql import rows_changed
from campaigns.delivery.suppression import suppress_key

ERASED_REASON = "erased"
EXPORT_FORMAT = "outreach.subscriber-export/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_subscriber(session: Session, subscriber_id: int) -> dict[str, Any]:
    """Everything stored about the subscriber, as JSON-ready data: profile, consent, enrollments, emails, events, what
    they did from the emails' links, their "was this useful?" answers and comments, and the contacts logged."""
    sub = load_subscriber(session, subscriber_id)
    enrollments = session.execute(
        select(Enrollment, Campaign.slug, Campaign.title)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.subscriber_id == sub.id)
        .order_by(Enrollment.id)
    ).all()
    deliveries = session.execute(
        select(Delivery, Campaign.slug)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.enrollment_id.in_([e.id for e, _, _ in enrollments]))
        .order_by(Delivery.id)
    ).all()
    events = _events(session, sub, [d.id for d, _ in deliveries])
    suppression = session.scalar(select(Suppression).where(Suppression.email_key == sub.email_key))
    requests = session.scalars(
        select(SignupRequest).where(SignupRequest.subscriber_id == sub.id).order_by(SignupRequest.id)
    ).all()
    slugs = dict(session.execute(select(Campaign.id, Campaign.slug)).all())
    reader_events = session.scalars(
        select(ReaderEvent).where(ReaderEvent.subscriber_id == sub.id).order_by(ReaderEvent.at, ReaderEvent.id)
    ).all()
    feedback = session.scalars(
        select(LessonFeedback).where(LessonFeedback.subscriber_id == sub.id).order_by(LessonFeedback.id)
    ).all()
    contacts = session.scalars(
        select(Contact).where(Contact.subscriber_id == sub.id).order_by(Contact.contacted_at, Contact.id)
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "subscriber": {
            "id": sub.id,
            "email": sub.email,
            "name": sub.name,
            "first_name": sub.first_name,
            "timezone": sub.timezone,
            "country": sub.country,
            "status": sub.status,
            "tags": tags_of(session, [sub.id]).get(sub.id, []),
            "created_at": _iso(sub.created_at),
            "consent": {"source": sub.consent_source, "at": _iso(sub.consent_at), "ip": sub.consent_ip},
            "paused_until": _iso(sub.paused_until),
            "unsubscribed": {"at": _iso(sub.unsubscribed_at), "source": sub.unsubscribe_source},
        },
        "enrollments": [
            {
                "campaign": slug,
                "campaign_title": title,
                "status": e.status,
                "next_step": e.next_step,
                "next_due_at": _iso(e.next_due_at),
                "enrolled_at": _iso(e.enrolled_at),
                "last_sent_at": _iso(e.last_sent_at),
                "pace": e.pace,
                "paused_until": _iso(e.held_until),
            }
            for e, slug, title in enrollments
        ],
        "emails": [
            {
                "id": d.id,
                "campaign": slug,
                "step": d.step_number,
                "status": d.status,
                "provider": d.provider,
                "provider_message_id": d.provider_message_id,
                "created_at": _iso(d.created_at),
                "sent_at": _iso(d.sent_at),
                "last_error": d.last_error,
            }
            for d, slug in deliveries
        ],
        "events": [
            {
                "kind": ev.kind,
                "email_id": ev.delivery_id,
                "occurred_at": _iso(ev.occurred_at),
                "reason": ev.reason,
                "raw": ev.raw,
            }
            for ev in events
        ],
        "sign_up_requests": [
            {
                "at": _iso(r.created_at),
                "source": r.source,
                "ip": r.ip,
                "name": r.name,
                "timezone": r.timezone,
                "confirmed_at": _iso(r.used_at),
            }
            for r in requests
        ],
        # What they did from our emails' own links: pace changes and clicks on the call to action.
        "email_actions": [
            {"campaign": slugs.get(r.campaign_id), "step": r.step_number, "action": r.kind, "at": _iso(r.at)}
            for r in reader_events
        ],
        "was_this_useful": [
            {
                "campaign": slugs.get(f.campaign_id),
                "step": f.step_number,
                "useful": f.useful,
                "comment": f.comment,
                "at": _iso(f.answered_at),
            }
            for f in feedback
        ],
        "contacts": [
            {
                "at": _iso(c.contacted_at),
                "channel": c.channel,
                "after_campaign": slugs.get(c.campaign_id) if c.campaign_id else None,
                "after_step": c.step_number,
                "source": c.source,
            }
            for c in contacts
        ],
        "suppression": None
        if suppression is None
        else {"reason": suppression.reason, "source": suppression.source, "since": _iso(suppression.created_at)},
    }


def _events(session: Session, sub: Subscriber, delivery_ids: list[int]) -> list[Event]:
    about: list[ColumnElement[bool]] = [Event.delivery_id.in_(delivery_ids)] if delivery_ids else []
    if sub.status != "erased":
        about.append(Event.email_key == sub.email_key)
    if not about:
        return []
    return list(session.scalars(select(Event).where(or_(*about)).order_by(Event.occurred_at, Event.id)))


def erase_subscriber(session: Session, subscriber_id: int, now: datetime) -> dict[str, int]:
    """Remove the subscriber's personal data; only the address hash stays, on the suppression list (reason "erased").

    All mail stops first. What remains is anonymous: the row (status "erased", no address, name or IP) and the
    delivery, event, pacing and "was this useful?" rows that the statistics count (comments and contacts go), with
    raw provider payloads and error texts (which can quote the address) emptied. Idempotent. Returns counts of what
    was scrubbed.
    """
    sub = load_subscriber(session, subscriber_id)
    if sub.status == "erased":
        return {"events": 0, "emails": 0}
    key = sub.email_key
    stop_mail(session, sub.id, now, reason="subscriber erased")
    suppress_key(session, key, ERASED_REASON, "erasure", now)
    # An earlier unsubscribe's suppression could be lifted by a new sign-up; an erasure's never is.
    session.execute(
        update(Suppression)
        .where(Suppression.email_key == key, Suppression.reason == SUPPRESSION_REASON)
        .values(reason=ERASED_REASON, source="erasure", created_at=now)
    )
    delivery_ids = list(
        session.scalars(
            select(Delivery.id)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(Enrollment.subscriber_id == sub.id)
        )
    )
    about = or_(Event.email_key == key, Event.delivery_id.in_(delivery_ids)) if delivery_ids else Event.email_key == key
    events = rows_changed(session, update(Event).where(about).values(email_key=None, raw={}, reason=None))
    # Sign-up requests hold a name and an IP; set-aside webhook items may hold anything the provider sent.
    session.execute(delete(SignupRequest).where(SignupRequest.subscriber_id == sub.id))
    session.execute(delete(SetAsideEvent).where(SetAsideEvent.email_key == key))
    emails = 0
    if delivery_ids:
        emails = rows_changed(session, update(Delivery).where(Delivery.id.in_(delivery_ids)).values(last_error=None))
    session.execute(delete(SubscriberTag).where(SubscriberTag.subscriber_id == sub.id))
    # The contacts the clinic logged about them go; their "was this useful?" answers stay as anonymous counts, without
    # the words they wrote (like the deliveries the stats count).
    session.execute(delete(Contact).where(Contact.subscriber_id == sub.id))
    session.execute(update(LessonFeedback).where(LessonFeedback.subscriber_id == sub.id).values(comment=None))
    sub.email, sub.name, sub.consent_ip, sub.timezone = None, None, None, "UTC"
    sub.first_name, sub.country = None, None
    # The row no longer carries the hash either (it is unique, so it gets a stand-in): the suppression list alone
    # remembers the address, and cannot give it back.
    sub.email_key = f"erased-{sub.id}"
    sub.status, sub.paused_until = "erased", None
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at, sub.unsubscribe_source = now, "erasure"
    session.flush()
    return {"events": events, "emails": emails}
