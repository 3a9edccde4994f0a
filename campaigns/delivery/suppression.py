"""The suppression list: addresses never to be mailed again, stored only as their keyed fingerprint (`email_key`).

`campaigns.addresses.email_key` is the one way the code fingerprints an address, so a subscriber, a suppression and
an event about the same address always meet on the same key, and an erased subscriber leaves no address behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.addresses import email_key
from campaigns.db.models import Suppression
from campaigns.db.sql import chunked, insert_ignore, is_in


def is_suppressed(session: Session, address: str) -> bool:
    key = email_key(session, address)
    return session.scalar(select(Suppression.id).where(Suppression.email_key == key)) is not None


def suppressed_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The subset of `keys` (email keys) that are suppressed, in one query per 5,000 keys."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for part in chunked(wanted):
        found.update(session.scalars(select(Suppression.email_key).where(is_in(session, Suppression.email_key, part))))
    return found


def suppress(session: Session, address: str, reason: str, source: str | None, now: datetime) -> None:
    """Never mail `address` again. Idempotent: an address already suppressed keeps its first reason."""
    suppress_key(session, email_key(session, address), reason, source, now)


def suppress_key(session: Session, key: str, reason: str, source: str | None, now: datetime) -> None:
    """As `suppress`, when only the email key is known (provider events, erased subscribers)."""
    session.execute(
        insert_ignore(session, Suppression.__table__, ["email_key"]).values(
            email_key=key, reason=reason, source=source, created_at=now
        )
    )
