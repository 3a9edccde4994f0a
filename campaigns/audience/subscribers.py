"""Subscribers: addresses as stored, time zone names, listing, lookup and removal (importing a CSV file is
campaigns.audience.importing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, email_key, normalize_address
from campaigns.db.models import Delivery, Enrollment, Subscriber
from campaigns.db.sql import rows_changed
from campaigns.delivery import state as ds
from campaigns.delivery.suppression import suppress_key
from campaigns.errors import NotFound
from campaigns.text_input import whole_number

MAX_NAME, MAX_FIRST_NAME = 200, 200


def typed_address_key(session: Session, address: str) -> str:
    """The email key of an address as typed by a person: normalised first when it is valid."""
    try:
        return email_key(session, normalize_address(address))
    except AddressError:
        return email_key(session, address)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """True for an IANA time zone name known to zoneinfo (e.g. America/New_York)."""
    return name in _zones()


def list_subscribers(
    session: Session, status: str | None = None, limit: int = 100, after_id: int = 0
) -> list[Subscriber]:
    """Up to `limit` subscribers with id > `after_id`, oldest first: pass the last id back for the next page."""
    query = select(Subscriber).where(Subscriber.id > after_id).order_by(Subscriber.id).limit(limit)
    if status:
        query = query.where(Subscriber.status == status)
    return list(session.scalars(query))


def get_subscriber(session: Session, who: str) -> Subscriber:
    """The subscriber with this address (matched case-insensitively) or, for a number, this id (as `subscribers
    list` shows them); NotFound otherwise."""
    who = who.strip()
    if who.isascii() and who.isdigit():
        number = whole_number(who)
        subscriber = session.get(Subscriber, number) if number is not None else None
        if subscriber is None:
            raise NotFound(f"no subscriber with id {who}", cli_hint="`outreach subscribers list` shows them")
        return subscriber
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email_key == typed_address_key(session, who)))
    if subscriber is None:
        raise NotFound("no subscriber with that address")
    return subscriber


@dataclass(frozen=True)
class Removal:
    subscriber_id: int
    enrollments_stopped: int
    deliveries_cancelled: int


def remove_subscriber(session: Session, who: str, now: datetime, *, source: str = "manual") -> Removal:
    """Stop all mail to a subscriber: unsubscribed, enrollments stopped, queued emails cancelled, address suppressed.

    Idempotent: removing someone already removed changes nothing more.
    """
    subscriber = get_subscriber(session, who)
    if subscriber.status in ("active", "pending"):  # bounced, complained, erased keep their stronger reason
        subscriber.status, subscriber.unsubscribed_at, subscriber.unsubscribe_source = "unsubscribed", now, source
    stopped = rows_changed(
        session,
        update(Enrollment)
        .where(Enrollment.subscriber_id == subscriber.id, Enrollment.status.in_(("active", "sending")))
        .values(status="stopped"),
    )
    # Only `queued` ones: a delivery already claimed by a worker is cancelled there, on seeing the status.
    cancelled = rows_changed(
        session,
        update(Delivery)
        .where(
            Delivery.enrollment_id.in_(select(Enrollment.id).where(Enrollment.subscriber_id == subscriber.id)),
            Delivery.status == ds.QUEUED,
        )
        .values(status=ds.CANCELLED, updated_at=now, last_error="subscriber removed"),
    )
    suppress_key(session, subscriber.email_key, "manual", source, now)
    return Removal(subscriber.id, stopped, cancelled)
