"""Signing in and out of the admin, and choosing a password from an invitation link (/admin/welcome/TOKEN).

The login form asks for an address and a password; until the first staff account exists it asks only for the
bootstrap password (OUTREACH_ADMIN_PASSWORD_HASH). Each attempt takes its place in the shared lockout (per client
network, and per account) before the password is checked; a wrong address and a wrong password take as long and
read the same.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from campaigns import rate_limits
from campaigns.errors import NotFound
from campaigns.team import accounts
from campaigns.team.sessions import open_session, revoke, revoke_all
from web.admin.auth import (
    ACCOUNT_SIGN_INS,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    SIGN_INS,
    VERIFY_WAIT_SECONDS,
    AdminSession,
    VerifierBusy,
    check_password,
    cookie_options,
    login_token,
    login_token_ok,
    read_session,
    require_admin,
)
from web.admin.forms import NO_FORM, FormState, refused
from web.admin.render import duration, render_admin
from web.guards import client_address
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin")


def _login_page(request: Request, *, error: str = "", email: str = "", status_code: int = 200) -> Response:
    token, cookie = login_token(request)
    with sessions_of(request)() as s:
        has_accounts = accounts.has_accounts(s)
    response = render_admin(
        request,
        "login.html",
        None,
        title="Sign in",
        login_csrf=token,
        error=error,
        email=email,
        has_accounts=has_accounts,
        bootstrap=not has_accounts and bool(settings_of(request).admin_password_hash),
        status_code=status_code,
    )
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, **cookie_options(settings_of(request)))
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    if read_session(request):
        return RedirectResponse("/admin", status_code=303)
    return _login_page(request)


def signed_in_response(request: Request, token: str) -> Response:
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, **cookie_options(settings_of(request)))
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/login", include_in_schema=False)
def login(request: Request, email: str = Form(""), password: str = Form(""), csrf: str = Form("")) -> Response:
    """The attempt takes its place in the shared lockout before the password is checked; success clears it."""
    settings, client, now = settings_of(request), rate_limits.client_bucket(client_address(request)), now_of(request)
    if not login_token_ok(request, csrf):
        return _login_page(request, status_code=403, error="The form expired. Please sign in again.", email=email)
    with sessions_of(request).begin() as s:
        has_accounts = accounts.has_accounts(s)
    if not has_accounts and not settings.admin_password_hash:
        return _login_page(request, status_code=503, error="Sign-in is not set up on this server.")
    account = email.strip().lower()[:320] if has_accounts else ""
    with sessions_of(request).begin() as s:
        wait = rate_limits.try_hit(s, SIGN_INS, client, now)
        if not wait and account:
            wait = rate_limits.try_hit(s, ACCOUNT_SIGN_INS, account, now)
            if wait:
                rate_limits.refund(s, SIGN_INS, client, now)
    if wait:
        response = _login_page(
            request,
            status_code=429,
            error=f"Too many sign-in attempts. Try again in {duration(wait)}.",
            email=email,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    with sessions_of(request)() as s:
        user = accounts.find_user(s, account) if account else None
        password_hash = user.password_hash if user and user.disabled_at is None else None
    if not has_accounts:
        password_hash = settings.admin_password_hash
    try:
        matches = check_password(password_hash, password)
    except VerifierBusy:
        with sessions_of(request).begin() as s:
            rate_limits.refund(s, SIGN_INS, client, now)  # not checked: it does not count
            if account:
                rate_limits.refund(s, ACCOUNT_SIGN_INS, account, now)
        response = _login_page(request, status_code=503, error="Sign-in is busy. Please try again in a moment.")
        response.headers["Retry-After"] = str(VERIFY_WAIT_SECONDS)
        return response
    if not matches:
        wrong = "Wrong address or password." if has_accounts else "Wrong password."
        return _login_page(request, status_code=401, error=wrong, email=email)
    with sessions_of(request).begin() as s:
        rate_limits.clear(s, SIGN_INS, client)
        if account:
            rate_limits.clear(s, ACCOUNT_SIGN_INS, account)
        user = accounts.find_user(s, account) if account else None
        token = open_session(
            s,
            user,
            now,
            credential=accounts.credential_of(password_hash),
            ip=client_address(request),
            user_agent=request.headers.get("user-agent"),
        )
    return signed_in_response(request, token)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    """Ends this session on the server: the cookie, copied or not, no longer opens anything."""
    with sessions_of(request).begin() as s:
        revoke(s, request.cookies.get(SESSION_COOKIE), now_of(request))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


# --- an invitation (or a new-password link): choose a password -------------------------------------------------------


def _welcome_page(request: Request, token: str, *, form: FormState | None = None, status_code: int = 200) -> Response:
    with sessions_of(request)() as s:
        user = accounts.invited_user(s, token, now_of(request))
        email, name, role, first = user.email, user.name, user.role, user.password_hash is None
    login_csrf, cookie = login_token(request)
    response = render_admin(
        request,
        "welcome.html",
        None,
        title="Choose your password" if first else "Choose a new password",
        email=email,
        name=name,
        role=role,
        role_words=accounts.ROLE_WORDS[role],
        first=first,
        token=token,
        min_length=accounts.MIN_PASSWORD,
        login_csrf=login_csrf,
        status_code=status_code,
        form=form or NO_FORM,
    )
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, **cookie_options(settings_of(request)))
    return response


@router.get("/welcome/{token}", include_in_schema=False)
def welcome(token: str, request: Request) -> Response:
    return _welcome_page(request, token)


@router.post("/welcome/{token}", include_in_schema=False)
def choose_password(
    token: str,
    request: Request,
    password: str = Form(""),
    again: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """The link is the proof: it is long, random, used once and expires. The form's own token (the login cookie's)
    keeps another site from posting it."""
    if not login_token_ok(request, csrf):
        state = FormState("welcome", {}, {"": "The form expired. Please send it again."})
        return _welcome_page(request, token, form=state, status_code=403)
    if password != again:
        state = FormState("welcome", {}, {"again": "The two passwords are not the same."})
        return _welcome_page(request, token, form=state, status_code=400)
    now = now_of(request)
    try:
        with sessions_of(request).begin() as s:
            user = accounts.accept_invitation(s, token, password, now)
            revoke_all(s, user.id, now)  # a reset: whoever had the old password is signed out
            session_token = open_session(
                s,
                user,
                now,
                credential=accounts.credential_of(user.password_hash),
                ip=client_address(request),
                user_agent=request.headers.get("user-agent"),
            )
    except NotFound:
        raise
    except accounts.TeamError as err:
        return _welcome_page(request, token, form=refused("welcome", err, {}, ("password",)), status_code=400)
    return signed_in_response(request, session_token)


@router.get("/welcome", include_in_schema=False)
def welcome_without_token() -> Response:
    raise NotFound("this link is incomplete; open the whole link from your invitation")
