"""Signed-in browsers, kept on the server: the cookie holds a random token, the database its sha256 with who it is
for, the form token (CSRF) of the session, and a fingerprint of the password it was opened with.

A session ends when it is signed out (revoked), when it expires (SESSION_HOURS after sign-in), when its person's
password changes (the fingerprint no longer matches, and `revoke_all` ends the others at once), or when the account
is disabled. A session of the bootstrap owner (OUTREACH_ADMIN_PASSWORD_HASH, no account) works only until the first
account exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.db.models import StaffSession, StaffUser
from campaigns.db.sql import rows_changed
from campaigns.team.accounts import credential_of, has_accounts

SESSION_HOURS = 12
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often (not on every page)
BOOTSTRAP_ACTOR = "admin"


@dataclass(frozen=True)
class SignedIn:
    """Who a live session is: their account (None for the bootstrap owner), role, and the session's form token."""

    session_id: str
    csrf: str
    user_id: int | None
    email: str | None
    name: str | None
    role: str

    @property
    def actor(self) -> str:
        """The name the audit log gives this person."""
        return (self.email or BOOTSTRAP_ACTOR)[:120]


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    s: Session,
    user: StaffUser | None,
    now: datetime,
    *,
    credential: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for `user` (None: the bootstrap owner); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    s.add(
        StaffSession(
            id=_id(token),
            user_id=user.id if user else None,
            csrf=secrets.token_urlsafe(32),
            credential=credential,
            ip=(ip or None) and ip[:64],
            user_agent=(user_agent or None) and user_agent[:200],
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    if user is not None:
        user.last_sign_in_at = now
    # Sessions over a day past their end are of no more use: forget them as new ones are made.
    s.execute(delete(StaffSession).where(StaffSession.expires_at < now - timedelta(days=1)))
    return token


def signed_in(s: Session, token: str | None, now: datetime, *, bootstrap_hash: str | None) -> SignedIn | None:
    """The live session this cookie token opens, or None (unknown, signed out, expired, an older password, a
    disabled account, or a bootstrap session once accounts exist)."""
    if not token:
        return None
    row = s.get(StaffSession, _id(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.user_id is None:
        if not bootstrap_hash or row.credential != credential_of(bootstrap_hash) or has_accounts(s):
            return None
        found = SignedIn(row.id, row.csrf, None, None, None, "owner")
    else:
        user = s.get(StaffUser, row.user_id)
        if user is None or user.disabled_at is not None or row.credential != credential_of(user.password_hash):
            return None
        found = SignedIn(row.id, row.csrf, user.id, user.email, user.name, user.role)
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return found


def revoke(s: Session, token: str | None, now: datetime) -> None:
    """Sign this session out (idempotent)."""
    if token:
        s.execute(
            update(StaffSession)
            .where(StaffSession.id == _id(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def revoke_all(s: Session, user_id: int, now: datetime, *, keep: str | None = None) -> int:
    """Sign a person out everywhere (but the session `keep`, a session id); returns how many ended."""
    query = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if keep:
        query = query.where(StaffSession.id != keep)
    return rows_changed(s, query.values(revoked_at=now))


def live_sessions(s: Session, user_id: int, now: datetime) -> list[StaffSession]:
    """A person's sessions that have not ended, newest first (for 'where am I signed in')."""
    return list(
        s.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None), StaffSession.expires_at > now)
            .order_by(StaffSession.last_seen_at.desc())
        )
    )
