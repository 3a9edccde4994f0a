"""What a subscriber can change about their own mail: a pause, their name and their time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.audience.subscribers import MAX_FIRST_NAME, is_time_zone
from campaigns.audience.unsubscribe import load_subscriber
from campaigns.db.models import Delivery, Enrollment, Subscriber
from campaigns.delivery import state as ds
from campaigns.errors import OutreachError
from campaigns.text_input import clean_line

PAUSE_WEEKS: tuple[int, ...] = (1, 2, 4, 8, 12)


class PreferenceError(OutreachError):
    """A preference change a person asked for is not valid (names the field)."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def clean_name(name: str | None) -> str | None:
    """A first name as typed, on one line and without control characters; None when empty; PreferenceError when too
    long."""
    cleaned = clean_line(name)
    if len(cleaned) > MAX_FIRST_NAME:
        raise PreferenceError("name", f"Please keep your name under {MAX_FIRST_NAME} characters.")
    return cleaned or None


def clean_time_zone(tz: str | None) -> str:
    """An IANA time zone name known to zoneinfo; PreferenceError otherwise."""
    tz = (tz or "").strip()  # a name from a list: anything else in it makes it no zone, rather than another one
    if not is_time_zone(tz):
        raise PreferenceError("timezone", "Please choose a time zone from the list (for example America/New_York).")
    return tz


def _mailable(subscriber: Subscriber) -> None:
    if subscriber.status not in ("active", "pending"):
        raise PreferenceError("status", "You are not subscribed, so there is nothing to change.")


def pause(session: Session, subscriber_id: int, weeks: int, now: datetime) -> Subscriber:
    """No email for `weeks` weeks; the series then goes on where it was. Emails queued but not sent are held back."""
    if weeks not in PAUSE_WEEKS:
        raise PreferenceError("weeks", f"Please choose a pause of {', '.join(map(str, PAUSE_WEEKS))} weeks.")
    subscriber = load_subscriber(session, subscriber_id)
    _mailable(subscriber)
    subscriber.paused_until = now + timedelta(weeks=weeks)
    # A delivery already created but not claimed would still go out during the pause: forget it and put its
    # enrollment back, as the sender does for a paused campaign. The tick creates it again when the pause ends.
    queued = (
        select(Delivery.id, Delivery.enrollment_id)
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(Enrollment.subscriber_id == subscriber.id, Delivery.status == ds.QUEUED)
    )
    rows = session.execute(queued).all()
    if rows:
        session.execute(delete(Delivery).where(Delivery.id.in_([r.id for r in rows]), Delivery.status == ds.QUEUED))
        session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_([r.enrollment_id for r in rows]), Enrollment.status == "sending")
            .values(status="active")
        )
    session.flush()
    return subscriber


def resume(session: Session, subscriber_id: int, now: datetime) -> Subscriber:
    """End a pause now."""
    subscriber = load_subscriber(session, subscriber_id)
    subscriber.paused_until = None
    session.flush()
    return subscriber


def update_profile(session: Session, subscriber_id: int, name: str | None, tz: str | None) -> Subscriber:
    """Change the first name the emails greet by and the time zone they are sent in.

    The form asks for a first name, so it is stored as one; the name on the To: line follows it where that was a
    first name too (one word, as the sign-up form asks for), never over a full name from an import.
    """
    subscriber = load_subscriber(session, subscriber_id)
    if subscriber.status == "erased":
        raise PreferenceError("status", "Nothing is stored about you any more.")
    first = clean_name(name)
    if subscriber.name is None or subscriber.name == subscriber.first_name or len(subscriber.name.split()) == 1:
        subscriber.name = first
    subscriber.first_name = first
    subscriber.timezone = clean_time_zone(tz)
    session.flush()
    return subscriber


def is_paused(subscriber: Subscriber, now: datetime) -> bool:
    return subscriber.paused_until is not None and subscriber.paused_until > now
