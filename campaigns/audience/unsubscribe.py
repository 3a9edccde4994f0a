"""Leaving and coming back: unsubscribe (one-click, page or preferences) and its undo, each in one transaction.

Unsubscribing stops the person's enrollments, cancels every email not yet handed to the provider and puts the
address on the suppression list, all in the caller's transaction: once it commits, the next send skips them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery import state as ds
from campaigns.delivery.schedule import window_of, zone
from campaigns.delivery.suppression import suppress_key
from campaigns.errors import NotFound, StateError
from campaigns.insight.events import record_unsubscribe_event

# "staff": the person asked staff to take them off (by phone, by email); they may come back like anyone who left.
UnsubscribeSource = Literal["one-click", "page", "preferences", "staff"]
UNSUBSCRIBE_SOURCES: tuple[str, ...] = ("one-click", "page", "preferences", "staff")
SUPPRESSION_REASON = "unsubscribed"

# Statuses whose owner still receives (or is about to receive) mail and can therefore leave.
_MAILABLE = ("active", "pending")
# Campaigns whose enrollments may run again after a resubscribe.
_OPEN_CAMPAIGNS = ("draft", "scheduled", "running", "paused")


def load_subscriber(session: Session, subscriber_id: int) -> Subscriber:
    """The subscriber row, locked for update where the database can; NotFound when it is gone."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.id == subscriber_id).with_for_update())
    if subscriber is None:
        raise NotFound("this subscription no longer exists")
    return subscriber


def unsubscribe(
    session: Session, subscriber_id: int, source: UnsubscribeSource, now: datetime, campaign_id: int | None = None
) -> Subscriber:
    """Stop all mail to the subscriber, recording when and how they left. Idempotent: the first time and source stay.

    Subscribers already out for a stronger reason (bounced, complained, erased) keep their status; their mail is
    stopped all the same.
    """
    if source not in UNSUBSCRIBE_SOURCES:
        raise ValueError(f"unknown unsubscribe source {source!r}")
    subscriber = load_subscriber(session, subscriber_id)
    if subscriber.status == "erased":
        return subscriber  # nothing left to stop; the erasure already suppressed the address
    if subscriber.status in _MAILABLE:
        subscriber.status, subscriber.unsubscribed_at, subscriber.unsubscribe_source = "unsubscribed", now, source
    stop_mail(session, subscriber.id, now, reason=f"unsubscribed ({source})")
    suppress_key(session, subscriber.email_key, SUPPRESSION_REASON, source, now)
    # Stats count unsubscribes from our own links beside the provider's events (once per person and campaign).
    record_unsubscribe_event(session, subscriber.id, campaign_id, source, now)
    session.flush()
    return subscriber


def stop_mail(session: Session, subscriber_id: int, now: datetime, *, reason: str) -> None:
    """Stop the subscriber's enrollments and cancel each email not yet claimed or submitted.

    `sending` (claimed, nothing left yet) is cancelled too: the worker sees the row is no longer `sending` and skips
    it. From `submitting` on the email may already be out, so those are left to settle.
    """
    session.execute(
        update(Enrollment)
        .where(Enrollment.subscriber_id == subscriber_id, Enrollment.status.in_(("active", "sending")))
        .values(status="stopped")
    )
    mine = select(Enrollment.id).where(Enrollment.subscriber_id == subscriber_id)
    session.execute(
        update(Delivery)
        .where(Delivery.enrollment_id.in_(mine), Delivery.status.in_(ds.sources(ds.CANCELLED)))
        .values(status=ds.CANCELLED, updated_at=now, last_error=reason, lease_until=None)
    )


def can_resubscribe(session: Session, subscriber: Subscriber) -> bool:
    """True when the person left by unsubscribing (not by a bounce, complaint, erasure or staff removal)."""
    if subscriber.status != "unsubscribed" or subscriber.unsubscribe_source not in UNSUBSCRIBE_SOURCES:
        return False
    reason = session.scalar(select(Suppression.reason).where(Suppression.email_key == subscriber.email_key))
    return reason in (None, SUPPRESSION_REASON)


def resubscribe(session: Session, subscriber_id: int, now: datetime) -> Subscriber:
    """Undo an unsubscribe: active again, the "unsubscribed" suppression lifted, enrollments resumed where they stopped.

    StateError when the person cannot be resubscribed this way (never unsubscribed, or out for another reason).
    Idempotent for someone already active.
    """
    subscriber = load_subscriber(session, subscriber_id)
    if subscriber.status == "active":
        return subscriber
    if not can_resubscribe(session, subscriber):
        raise StateError("this subscription cannot be restarted here")
    reactivate(session, subscriber, now)
    return subscriber


def reactivate(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """Make an unsubscribed (or pending) subscriber active and resume their stopped enrollments.

    Only a suppression whose reason is "unsubscribed" is lifted: a bounce or complaint keeps the address blocked.
    """
    session.execute(
        delete(Suppression).where(
            Suppression.email_key == subscriber.email_key, Suppression.reason == SUPPRESSION_REASON
        )
    )
    subscriber.status, subscriber.unsubscribed_at, subscriber.unsubscribe_source = "active", None, None
    stopped = session.execute(
        select(Enrollment, Campaign)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(
            Enrollment.subscriber_id == subscriber.id,
            Enrollment.status == "stopped",
            Campaign.status.in_(_OPEN_CAMPAIGNS),
        )
    ).all()
    for enrollment, campaign in stopped:
        resume_enrollment(session, enrollment, campaign, subscriber.timezone, now)
    session.flush()


def resume_enrollment(session: Session, enrollment: Enrollment, campaign: Campaign, tz: str, now: datetime) -> None:
    """Put a stopped enrollment back at the step it stopped at.

    The cancelled delivery of that step never left, but it still holds the unique (enrollment, step) slot, so the
    tick would treat the step as done: forget it, as the sender does for a paused campaign's unsent batch. The due
    time moves to the next sending window from now, so a long-past due time does not fire outside the window.
    """
    session.execute(
        delete(Delivery).where(
            Delivery.enrollment_id == enrollment.id,
            Delivery.step_number >= enrollment.next_step,
            Delivery.status == ds.CANCELLED,
        )
    )
    enrollment.status = "active"
    if enrollment.next_due_at is not None:
        enrollment.next_due_at = max(enrollment.next_due_at, window_of(campaign).next_open(now, zone(tz)))
    # The step was already on its way when they left (submitting, then sent or unknown): it holds the slot and went
    # out, so move past it now; left `active` at that step, the tick would wait for it for ever.
    settled = session.scalar(
        select(Delivery.id).where(
            Delivery.enrollment_id == enrollment.id,
            Delivery.step_number == enrollment.next_step,
            Delivery.status.in_(sorted(ds.LEFT | {ds.FAILED})),
        )
    )
    if settled is not None:
        from campaigns.delivery.progress import advance_enrollments

        enrollment.status = "sending"
        session.flush()
        advance_enrollments(session, [enrollment.id], now)
        session.refresh(enrollment)
