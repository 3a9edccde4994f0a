"""Admin sign-in: staff accounts with roles (campaigns.team), sessions kept on the server, a CSRF token per session
on every form, and a lockout shared by every process.

    require_role(role)   FastAPI dependency: the signed-in staff member if their role is at least `role` (viewer <
                         editor < owner), else 403; a redirect to the login page when nobody is signed in (401 for
                         a form). For anything but GET/HEAD it also checks the form's `csrf` field. One line per
                         route: `session: AdminSession = Depends(require_role("owner"))`.
    require_admin        = require_role("viewer"): pages, and forms that only read (a search, an export)
    require_csrf         = require_role("editor"): forms that change something
    require_owner        = require_role("owner"): the team

Every admin route but the login page declares one of these (tests/web/test_admin_roles.py walks the app's routes).

The session cookie holds a random token; the database holds its hash (campaigns.team.sessions), so signing out
ends it for good, and a new password or a disabled account ends every session of that person. It is HttpOnly,
SameSite=Lax, and Secure when OUTREACH_BASE_URL is https.

Existing deployments: until the first staff account exists, OUTREACH_ADMIN_PASSWORD_HASH signs in a bootstrap owner
(no address asked); its sessions end when the first account is made (`outreach admin add-user`).

The lockout counts attempts per client network and per account in the database (campaigns.rate_limits), so every
web process shares it, and an attempt takes its place before the password is checked: twenty at once get five
checks, not twenty. Success clears both counts. Argon2 takes 64 MiB per check, so at most VERIFYING_AT_ONCE checks
run at a time in a process; the rest wait a moment, then are told to try again.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from campaigns.errors import OutreachError
from campaigns.rate_limits import Limit
from campaigns.settings import Settings
from campaigns.team import accounts
from campaigns.team.sessions import SESSION_HOURS, SignedIn, signed_in
from web.runtime import now_of, sessions_of, settings_of

SESSION_COOKIE = "outreach_admin"
LOGIN_COOKIE = "outreach_admin_login"  # holds the login form's CSRF token before there is a session
SESSION_SECONDS = SESSION_HOURS * 3600
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
SIGN_INS = Limit("admin-sign-in", ((MAX_FAILURES, LOCKOUT_SECONDS),))
# One account, from anywhere: guessing from many networks at once is slowed down too.
ACCOUNT_SIGN_INS = Limit("admin-sign-in-account", ((2 * MAX_FAILURES, LOCKOUT_SECONDS),))
VERIFYING_AT_ONCE = 2  # argon2-cffi's default cost is 64 MiB of memory per check
VERIFY_WAIT_SECONDS = 5
_verifying = threading.BoundedSemaphore(VERIFYING_AT_ONCE)

AdminSession = SignedIn  # the signed-in staff member, as routes receive them
_UNREAD = object()


class VerifierBusy(Exception):
    """Every password check slot of this process stayed taken for VERIFY_WAIT_SECONDS."""


class RoleRefused(OutreachError):
    """A signed-in person asked for something their role does not allow (403; nothing is changed)."""


ROLE_REFUSED_TITLE = "Not something your role can do"


def check_password(password_hash: str | None, password: str) -> bool:
    """The argon2 check, at most VERIFYING_AT_ONCE at a time; VerifierBusy when no slot frees up in time."""
    if not _verifying.acquire(timeout=VERIFY_WAIT_SECONDS):
        raise VerifierBusy
    try:
        return accounts.password_matches(password_hash or accounts.DUMMY_HASH, password) and bool(password_hash)
    finally:
        _verifying.release()


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"outreach-admin-{purpose}")


def cookie_options(settings: Settings) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": settings.base_url.startswith("https://"), "path": "/admin"}


def read_session(request: Request) -> SignedIn | None:
    """The live session of this request's cookie, or None. Looked up once per request."""
    known = getattr(request.state, "staff", _UNREAD)
    if known is None or isinstance(known, SignedIn):
        return known
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        with sessions_of(request).begin() as s:
            found = signed_in(s, token, now_of(request), bootstrap_hash=settings_of(request).admin_password_hash)
    request.state.staff = found
    return found


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


def require_role(role: str) -> Callable[[Request], Awaitable[SignedIn]]:
    """The dependency for a route that needs at least `role` (see the module's docstring)."""
    if role not in accounts.ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> SignedIn:
        session = read_session(request)
        if session is None:
            if request.method in ("GET", "HEAD"):
                raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
            raise HTTPException(status_code=401, detail="sign in first")
        if request.method not in ("GET", "HEAD"):
            form = await request.form()  # Starlette caches the parsed form, so the route can read it again
            if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
                raise HTTPException(
                    status_code=403, detail="the form expired or did not come from this site; reload it"
                )
        if not accounts.role_at_least(session.role, role):
            raise RoleRefused(
                f"your role ({session.role}) cannot do this: it needs {role}. Nothing was changed; ask an owner of the "
                "team if you need to"
            )
        return session

    dependency.role = role  # type: ignore[attr-defined]  # read by the test that walks the routes
    return dependency


require_admin = require_role("viewer")
require_csrf = require_role("editor")
require_owner = require_role("owner")


def actor_of(request: Request, session: SignedIn) -> str:
    """Who the audit log names for this session's actions: their address (or "admin", the bootstrap owner)."""
    return session.actor
