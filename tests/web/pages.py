"""Helpers for the page tests: tokens, CSRF tokens from forms, subscribers and deliveries to act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from campaigns.db.models import Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery import state as ds
from campaigns.tokens import Tokens, salt_of
from tests.builders import KEYS

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECRET = "wQ3pZ8kN1vR6tY0mB4xL7cJ2hF9dG5sA"  # strong: some tests serve on a public-looking URL
TOKENS = Tokens(SECRET)
NOW = datetime(2027, 1, 11, 15, 0, tzinfo=UTC)  # a Monday, after the test campaign's start
ADDRESS = "maria.lopez@example.com"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def expired_token(purpose: str, subscriber_id: int, age: timedelta, secret: str = SECRET) -> str:
    """A correctly signed token stamped `age` ago (itsdangerous reads the time from get_timestamp)."""
    stamp = int((datetime.now(UTC) - age).timestamp())

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret, salt=salt_of(purpose), signer=OldSigner).dumps([subscriber_id])


def altered(token: str) -> str:
    """The token with one character of its payload changed: the signature no longer matches."""
    i = 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def bad_tokens(purpose: str, subscriber_id: int, wrong_purpose: str) -> dict[str, str]:
    good = TOKENS.make(purpose, subscriber_id)
    return {
        "forged": Tokens("someone-elses-key").make(purpose, subscriber_id),
        "altered": altered(good),
        "garbage": "not-a-token",
        "expired": expired_token(purpose, subscriber_id, timedelta(days=400)),
        "wrong purpose": TOKENS.make(wrong_purpose, subscriber_id),
    }


def add_subscriber(
    factory,
    campaign_id: int | None,
    *,
    address: str = ADDRESS,
    name: str = "Maria Lopez",
    status: str = "active",
    deliveries: tuple[str, ...] = (),
) -> int:
    """An active subscriber enrolled in the campaign, with one delivery per given status (steps 1, 2, ...)."""
    with factory.begin() as s:
        sub = Subscriber(
            email=address,
            email_key=KEYS.of(address),
            name=name,
            timezone="America/New_York",
            status=status,
            created_at=NOW - timedelta(days=30),
        )
        s.add(sub)
        s.flush()
        if campaign_id is not None:
            enrollment = Enrollment(
                campaign_id=campaign_id,
                subscriber_id=sub.id,
                next_step=len(deliveries) or 1,
                next_due_at=NOW,
                status="sending" if deliveries else "active",
                enrolled_at=NOW - timedelta(days=30),
            )
            s.add(enrollment)
            s.flush()
            for step, status_ in enumerate(deliveries, start=1):
                s.add(
                    Delivery(
                        enrollment_id=enrollment.id,
                        campaign_id=campaign_id,
                        step_number=step,
                        status=status_,
                        due_at=NOW,
                        created_at=NOW,
                    )
                )
        return sub.id


def subscriber(factory, sid: int) -> Subscriber:
    with factory() as s:
        return s.get(Subscriber, sid)


def delivery_statuses(factory, sid: int) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(Delivery.status)
                .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                .where(Enrollment.subscriber_id == sid)
                .order_by(Delivery.step_number)
            )
        )


def suppression(factory, address: str = ADDRESS) -> Suppression | None:
    with factory() as s:
        return s.scalar(select(Suppression).where(Suppression.email_key == KEYS.of(address)))


def snapshot(factory) -> tuple:
    """Everything a request could change, to check that a refused one changed nothing."""
    with factory() as s:
        subs = [
            (x.id, x.email, x.name, x.timezone, x.status, x.paused_until, x.consent_at, x.unsubscribed_at)
            for x in s.scalars(select(Subscriber).order_by(Subscriber.id))
        ]
        enrollments = [(e.id, e.status, e.next_step) for e in s.scalars(select(Enrollment).order_by(Enrollment.id))]
        deliveries = [(d.id, d.status) for d in s.scalars(select(Delivery).order_by(Delivery.id))]
        suppressions = [(x.email_key, x.reason) for x in s.scalars(select(Suppression).order_by(Suppression.id))]
    return subs, enrollments, deliveries, suppressions


SENT_AND_PENDING = (ds.ACCEPTED, ds.SUBMITTING, ds.SENDING, ds.QUEUED)
