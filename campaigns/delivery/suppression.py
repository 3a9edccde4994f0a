"""The suppression list: addresses never to be mailed again, stored only as a hash (`email_key`).

`email_key` is the one way the code hashes an address, so a subscriber, a suppression and an event about the same
address always meet on the same key, and an erased subscriber leaves no address behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.db.models import Suppression
from campaigns.db.sql import chunked, insert_ignore, is_in


def email_key(address: str) -> str:
    """sha256 hex of the stripped, lower-cased address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def is_suppressed(session: Session, address: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.email_key == email_key(address))) is not None


def suppressed_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The subset of `keys` (email keys) that are suppressed, in one query per 5,000 keys."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for part in chunked(wanted):
        found.update(session.scalars(select(Suppression.email_key).where(is_in(session, Suppression.email_key, part))))
    return found


def suppress(session: Session, address: str, reason: str, source: str | None, now: datetime) -> None:
    """Never mail `address` again. Idempotent: an address already suppressed keeps its first reason."""
    suppress_key(session, email_key(address), reason, source, now)


def suppress_key(session: Session, key: str, reason: str, source: str | None, now: datetime) -> None:
    """As `suppress`, when only the email key is known (provider events, erased subscribers)."""
    session.execute(
        insert_ignore(session, Suppression.__table__, ["email_key"]).values(
            email_key=key, reason=reason, source=source, created_at=now
        )
    )
