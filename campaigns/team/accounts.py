"""Staff accounts: one per person, signed in with their own address and password (argon2), with a role.

    owner    everything, and the team: invite people, change roles, disable accounts
    editor   everything but the team
    viewer   looks at everything, changes nothing

A person is added with an invitation: a one-time link (7 days) where they choose their password; an owner can make
a new link for someone who forgot theirs. The last active owner can be neither demoted nor disabled, so a team is
never left without someone who can manage it. Every change is in the audit log under the name of who made it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, normalize_address
from campaigns.audit import audit
from campaigns.db.models import StaffUser
from campaigns.errors import NotFound, OutreachError, StateError
from campaigns.text_input import clean_line

ROLES = ("viewer", "editor", "owner")  # from least to most
ROLE_WORDS = {
    "viewer": "looks at everything, changes nothing",
    "editor": "everything but the team",
    "owner": "everything, and the team",
}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte "password" is only a way to spend our CPU
INVITE_DAYS = 7
_hasher = PasswordHasher()


class TeamError(OutreachError):
    """A team change that cannot be made (names the field)."""


def role_at_least(role: str, needed: str) -> bool:
    """True when `role` may do what `needed` may (owner ≥ editor ≥ viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def clean_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise TeamError(f"the role is one of {', '.join(ROLES)}", field="role")
    return role


def clean_staff_email(email: str) -> str:
    """A staff member's sign-in name: their address, lower-cased."""
    try:
        return normalize_address(email or "").lower()
    except AddressError as err:
        raise TeamError(f"not an email address: {err}", field="email") from None


def hash_password(password: str, email: str | None = None) -> str:
    """The argon2 hash of a new password; TeamError when it is too short, too long or the address itself."""
    if len(password) < MIN_PASSWORD:
        raise TeamError(f"use at least {MIN_PASSWORD} characters for a password", field="password")
    if len(password) > MAX_PASSWORD:
        raise TeamError(f"use at most {MAX_PASSWORD} characters for a password", field="password")
    if email and password.strip().lower() == email.lower():
        raise TeamError("the password cannot be your email address", field="password")
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """The argon2 check (the caller limits how many run at once: each takes 64 MiB)."""
    if not password_hash or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# An account that does not exist is checked against this, so that an unknown address takes as long as a wrong
# password (the answer's timing does not say who has an account).
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def credential_of(password_hash: str | None) -> str:
    """A short fingerprint of a password hash: a session opened with an older password no longer matches."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_accounts(s: Session) -> bool:
    """True once any staff account exists (the bootstrap password then no longer signs anyone in)."""
    return s.scalar(select(StaffUser.id).limit(1)) is not None


def find_user(s: Session, email: str) -> StaffUser | None:
    try:
        address = clean_staff_email(email)
    except TeamError:
        return None
    return s.scalar(select(StaffUser).where(StaffUser.email == address))


def get_user(s: Session, user_id: int) -> StaffUser:
    user = s.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no staff account with id {user_id}")
    return user


def list_users(s: Session) -> list[StaffUser]:
    return list(s.scalars(select(StaffUser).order_by(StaffUser.disabled_at.is_not(None), StaffUser.email)))


def add_user(
    s: Session,
    email: str,
    role: str,
    now: datetime,
    *,
    actor: str,
    name: str | None = None,
    password: str | None = None,
) -> tuple[StaffUser, str | None]:
    """A new account; with `password` it can sign in at once, else the invitation token (for /admin/welcome/TOKEN)
    comes back with it. TeamError for a bad address or role, or an address that has an account already."""
    address, role = clean_staff_email(email), clean_role(role)
    if s.scalar(select(StaffUser.id).where(StaffUser.email == address)) is not None:
        raise TeamError(f"{address} has an account already", field="email")
    user = StaffUser(
        email=address,
        name=clean_line(name)[:200] or None,
        role=role,
        created_by=actor[:120],
        created_at=now,
    )
    token = None
    if password is not None:
        user.password_hash, user.password_changed_at = hash_password(password, address), now
    else:
        token = _new_invitation(user, now)
    s.add(user)
    s.flush()
    audit(s, None, actor, "staff-added", f"added {address} as {role}" + ("" if token is None else " (invited)"), now)
    return user, token


def _new_invitation(user: StaffUser, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    user.invite_hash, user.invite_expires_at = _token_hash(token), now + timedelta(days=INVITE_DAYS)
    return token


def new_invitation(s: Session, user_id: int, now: datetime, *, actor: str) -> str:
    """A new one-time link for the person to choose a password (the old link stops working; their current password,
    if any, keeps working until they choose a new one)."""
    user = get_user(s, user_id)
    if user.disabled_at is not None:
        raise StateError("this account is disabled; enable it first")
    token = _new_invitation(user, now)
    audit(s, None, actor, "staff-invited", f"new password link for {user.email}", now)
    return token


def invited_user(s: Session, token: str, now: datetime) -> StaffUser:
    """The account a password link is for; NotFound when the link is unknown, used or expired."""
    user = s.scalar(select(StaffUser).where(StaffUser.invite_hash == _token_hash(token or "")))
    if user is None or user.disabled_at is not None or not user.invite_expires_at or user.invite_expires_at < now:
        raise NotFound(
            "this link has expired or has been used already; ask an owner of the team for a new one",
        )
    return user


def accept_invitation(s: Session, token: str, password: str, now: datetime) -> StaffUser:
    """Set the password from a one-time link; the link stops working."""
    user = invited_user(s, token, now)
    user.password_hash, user.password_changed_at = hash_password(password, user.email), now
    user.invite_hash, user.invite_expires_at = None, None
    audit(s, None, user.email, "password-set", f"{user.email} chose a password from their link", now)
    return user


def change_password(s: Session, user_id: int, current: str, new: str, now: datetime) -> StaffUser:
    """A new password, given the current one (TeamError naming the field when either is wrong)."""
    user = get_user(s, user_id)
    if not password_matches(user.password_hash, current):
        raise TeamError("that is not your current password", field="current")
    user.password_hash, user.password_changed_at = hash_password(new, user.email), now
    audit(s, None, user.email, "password-changed", f"{user.email} changed their password", now)
    return user


def _active_owners(s: Session) -> int:
    return s.scalar(select(func.count()).where(StaffUser.role == "owner", StaffUser.disabled_at.is_(None))) or 0


def change_role(s: Session, user_id: int, role: str, now: datetime, *, actor: str) -> StaffUser:
    user, role = get_user(s, user_id), clean_role(role)
    if user.role == role:
        return user
    if user.role == "owner" and user.disabled_at is None and _active_owners(s) <= 1:
        raise TeamError("the team needs an owner: make someone else owner first", field="role")
    audit(s, None, actor, "staff-role", f"{user.email}: {user.role} -> {role}", now)
    user.role = role
    return user


def set_disabled(s: Session, user_id: int, disabled: bool, now: datetime, *, actor: str) -> StaffUser:
    """Disable (no sign-in; their sessions end) or enable an account."""
    user = get_user(s, user_id)
    if disabled and user.disabled_at is None:
        if user.role == "owner" and _active_owners(s) <= 1:
            raise TeamError("the team needs an owner: make someone else owner first")
        user.disabled_at = now
        audit(s, None, actor, "staff-disabled", f"disabled {user.email}", now)
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        audit(s, None, actor, "staff-enabled", f"enabled {user.email}", now)
    return user
