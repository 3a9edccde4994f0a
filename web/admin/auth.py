"""Admin login: one password (argon2 hash in OUTREACH_ADMIN_PASSWORD_HASH), a signed session cookie, CSRF tokens
on every form, and a lockout after repeated failures.

The session is a signed, timed cookie (itsdangerous) holding a CSRF token and a fingerprint of the password hash,
so changing the password ends every session. It is HttpOnly, SameSite=Lax, and Secure when OUTREACH_BASE_URL is
https.

The lockout (SIGN_INS) counts attempts per client network in the database (campaigns.rate_limits), so every web
process shares it, and an attempt takes its place before the password is checked: twenty at once from one address
get five checks, not twenty. A correct password clears the count. Argon2 takes 64 MiB per check, so at most
VERIFYING_AT_ONCE checks run at a time in a process; the rest wait a moment, then are told to try again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from campaigns.rate_limits import Limit
from campaigns.settings import Settings
from web.runtime import settings_of

SESSION_COOKIE = "outreach_admin"
LOGIN_COOKIE = "outreach_admin_login"  # holds the login form's CSRF token before there is a session
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
SIGN_INS = Limit("admin-sign-in", ((MAX_FAILURES, LOCKOUT_SECONDS),))
VERIFYING_AT_ONCE = 2  # argon2-cffi's default cost is 64 MiB of memory per check
VERIFY_WAIT_SECONDS = 5
_verifying = threading.BoundedSemaphore(VERIFYING_AT_ONCE)
_hasher = PasswordHasher()


class VerifierBusy(Exception):
    """Every password check slot of this process stayed taken for VERIFY_WAIT_SECONDS."""


@dataclass(frozen=True)
class AdminSession:
    """The signed-in admin; `csrf` goes into every form this session posts."""

    csrf: str


def password_matches(settings: Settings, password: str) -> bool:
    """The argon2 check, at most VERIFYING_AT_ONCE at a time; VerifierBusy when no slot frees up in time."""
    if not settings.admin_password_hash:
        return False
    if not _verifying.acquire(timeout=VERIFY_WAIT_SECONDS):
        raise VerifierBusy
    try:
        return _hasher.verify(settings.admin_password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    finally:
        _verifying.release()


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"outreach-admin-{purpose}")


def _fingerprint(settings: Settings) -> str:
    return hashlib.sha256((settings.admin_password_hash or "").encode()).hexdigest()[:16]


def cookie_options(settings: Settings) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": settings.base_url.startswith("https://"), "path": "/admin"}


def new_session_cookie(settings: Settings) -> tuple[str, AdminSession]:
    session = AdminSession(csrf=secrets.token_urlsafe(32))
    value = _serializer(settings, "session").dumps({"csrf": session.csrf, "pw": _fingerprint(settings)})
    return value, session


def read_session(request: Request) -> AdminSession | None:
    settings = settings_of(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or not settings.admin_password_hash:
        return None
    try:
        data = _serializer(settings, "session").loads(raw, max_age=SESSION_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not hmac.compare_digest(
        str(data.get("pw", "")).encode(), _fingerprint(settings).encode()
    ):
        return None
    return AdminSession(csrf=str(data.get("csrf", "")))


def login_token(request: Request) -> tuple[str, str]:
    """(form token, cookie value) for the login form: the cookie carries the token, signed."""
    token = secrets.token_urlsafe(32)
    return token, _serializer(settings_of(request), "login").dumps(token)


def login_token_ok(request: Request, submitted: str) -> bool:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw or not submitted:
        return False
    try:
        expected = _serializer(settings_of(request), "login").loads(raw, max_age=3600)
    except BadSignature:
        return False
    return hmac.compare_digest(str(expected).encode(), submitted.encode())


def require_admin(request: Request) -> AdminSession:
    """FastAPI dependency: the signed-in admin, or a redirect to the login page (a 401 for non-GET requests)."""
    session = read_session(request)
    if session is not None:
        return session
    if request.method in ("GET", "HEAD"):
        raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
    raise HTTPException(status_code=401, detail="sign in first")


async def require_csrf(request: Request) -> AdminSession:
    """FastAPI dependency for admin POST routes: signed in, and the form's `csrf` field matches the session."""
    session = require_admin(request)
    form = await request.form()  # Starlette caches the parsed form, so the route can read it again
    if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
        raise HTTPException(status_code=403, detail="the form expired or did not come from this site; reload it")
    return session
