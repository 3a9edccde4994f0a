"""The team (owners only): who can sign in and with which role, invitations and new-password links, disabling an
account and signing someone out everywhere; your own account (a new password, where you are signed in); and the
audit log of everything staff did, with their names.

A link to choose a password is shown once, on the page that made it (never in a URL, where logs would keep it):
the owner sends it to the person.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from campaigns.audit import audit
from campaigns.db.models import AuditEntry, Campaign
from campaigns.errors import NotFound, OutreachError
from campaigns.team import accounts
from campaigns.team.sessions import live_sessions, open_session, revoke_all
from web.admin.auth import (
    AdminSession,
    actor_of,
    require_admin,
    require_owner,
)
from web.admin.forms import NO_FORM, FormState, refused
from web.admin.render import render_admin
from web.admin.sign_in import signed_in_response
from web.guards import client_address
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin")
AUDIT_PAGE = 200


def team_page(
    request: Request,
    session: AdminSession,
    *,
    form: FormState = NO_FORM,
    notice: str = "",
    link: str = "",
    link_for: str = "",
    status_code: int = 200,
) -> Response:
    now = now_of(request)
    with sessions_of(request)() as s:
        users = accounts.list_users(s)
        live = {u.id: len(live_sessions(s, u.id, now)) for u in users}
    return render_admin(
        request,
        "team.html",
        session,
        title="Team",
        users=users,
        live=live,
        roles=accounts.ROLES,
        role_words=accounts.ROLE_WORDS,
        form=form,
        notice=notice,
        link=link,
        link_for=link_for,
        status_code=status_code,
    )


def _welcome_url(request: Request, token: str) -> str:
    return f"{settings_of(request).base_url}/admin/welcome/{token}"


@router.get("/team", include_in_schema=False)
def team(request: Request, session: AdminSession = Depends(require_owner)) -> Response:
    return team_page(request, session, notice=_done(request))


def _done(request: Request) -> str:
    return {
        "role": "Role changed.",
        "disabled": "Account disabled: its sessions have ended.",
        "enabled": "Account enabled.",
        "signed-out": "Signed out everywhere.",
    }.get(request.query_params.get("done", ""), "")


@router.post("/team", include_in_schema=False)
def invite(
    request: Request,
    email: str = Form(""),
    name: str = Form(""),
    role: str = Form("editor"),
    session: AdminSession = Depends(require_owner),
) -> Response:
    """A new account and its invitation link, shown once for the owner to send."""
    values = {"email": email, "name": name, "role": role}
    try:
        with sessions_of(request).begin() as s:
            user, token = accounts.add_user(
                s, email, role, now_of(request), actor=actor_of(request, session), name=name
            )
            address = user.email
    except OutreachError as err:
        return team_page(request, session, form=refused("invite", err, values, ("email", "role")), status_code=400)
    assert token is not None  # no password given: an invitation
    return team_page(
        request,
        session,
        notice=f"{address} is invited. Send them this link (it works once, for {accounts.INVITE_DAYS} days):",
        link=_welcome_url(request, token),
        link_for=address,
    )


def _change(request: Request, session: AdminSession, user_id: int, done: str, change) -> Response:
    try:
        with sessions_of(request).begin() as s:
            change(s)
    except NotFound:
        raise
    except OutreachError as err:
        return team_page(request, session, form=refused(f"user-{user_id}", err, {}), status_code=409)
    return RedirectResponse(f"/admin/team?done={done}#user-{user_id}", status_code=303)


@router.post("/team/{user_id:int}/role", include_in_schema=False)
def set_role(
    user_id: int, request: Request, role: str = Form(""), session: AdminSession = Depends(require_owner)
) -> Response:
    now, actor = now_of(request), actor_of(request, session)

    def change(s) -> None:
        accounts.change_role(s, user_id, role, now, actor=actor)

    return _change(request, session, user_id, "role", change)


@router.post("/team/{user_id:int}/disable", include_in_schema=False)
def disable(user_id: int, request: Request, session: AdminSession = Depends(require_owner)) -> Response:
    now, actor = now_of(request), actor_of(request, session)

    def change(s) -> None:
        accounts.set_disabled(s, user_id, True, now, actor=actor)
        revoke_all(s, user_id, now)

    return _change(request, session, user_id, "disabled", change)


@router.post("/team/{user_id:int}/enable", include_in_schema=False)
def enable(user_id: int, request: Request, session: AdminSession = Depends(require_owner)) -> Response:
    now, actor = now_of(request), actor_of(request, session)

    def change(s) -> None:
        accounts.set_disabled(s, user_id, False, now, actor=actor)

    return _change(request, session, user_id, "enabled", change)


@router.post("/team/{user_id:int}/sign-out", include_in_schema=False)
def sign_out_everywhere(user_id: int, request: Request, session: AdminSession = Depends(require_owner)) -> Response:
    now, actor = now_of(request), actor_of(request, session)

    def change(s) -> None:
        user = accounts.get_user(s, user_id)
        ended = revoke_all(s, user_id, now, keep=session.session_id)
        audit(s, None, actor, "staff-signed-out", f"signed {user.email} out everywhere ({ended} sessions)", now)

    return _change(request, session, user_id, "signed-out", change)


@router.post("/team/{user_id:int}/link", include_in_schema=False)
def new_link(user_id: int, request: Request, session: AdminSession = Depends(require_owner)) -> Response:
    """A new one-time link to choose a password (an invitation that was lost, or a forgotten password)."""
    try:
        with sessions_of(request).begin() as s:
            token = accounts.new_invitation(s, user_id, now_of(request), actor=actor_of(request, session))
            address = accounts.get_user(s, user_id).email
    except NotFound:
        raise
    except OutreachError as err:
        return team_page(request, session, form=refused(f"user-{user_id}", err, {}), status_code=409)
    return team_page(
        request,
        session,
        notice=f"A new link for {address} (it works once, for {accounts.INVITE_DAYS} days; the old one no longer "
        "does):",
        link=_welcome_url(request, token),
        link_for=address,
    )


# --- your own account ------------------------------------------------------------------------------------------------


def account_page(
    request: Request, session: AdminSession, *, form: FormState = NO_FORM, notice: str = "", status_code: int = 200
) -> Response:
    now = now_of(request)
    sessions = []
    if session.user_id is not None:
        with sessions_of(request)() as s:
            sessions = live_sessions(s, session.user_id, now)
    return render_admin(
        request,
        "account.html",
        session,
        title="Your account",
        me=session,
        sessions=sessions,
        role_words=accounts.ROLE_WORDS[session.role],
        min_length=accounts.MIN_PASSWORD,
        form=form,
        notice=notice,
        status_code=status_code,
    )


@router.get("/account", include_in_schema=False)
def account(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    notice = {"password": "Password changed: every other session has ended."}.get(request.query_params.get("done", ""))
    return account_page(request, session, notice=notice or "")


@router.post("/account/password", include_in_schema=False)
def change_password(
    request: Request,
    current: str = Form(""),
    password: str = Form(""),
    again: str = Form(""),
    session: AdminSession = Depends(require_admin),
) -> Response:
    """Anyone may change their own password (a viewer too); every other session of theirs ends, this one goes on."""
    if session.user_id is None:
        state = FormState("password", {}, {"": "The bootstrap password is changed on the server, not here."})
        return account_page(request, session, form=state, status_code=409)
    if password != again:
        return account_page(
            request,
            session,
            form=FormState("password", {}, {"again": "The two new passwords are not the same."}),
            status_code=400,
        )
    now = now_of(request)
    try:
        with sessions_of(request).begin() as s:
            user = accounts.change_password(s, session.user_id, current, password, now)
            revoke_all(s, user.id, now)
            token = open_session(
                s,
                user,
                now,
                credential=accounts.credential_of(user.password_hash),
                ip=client_address(request),
                user_agent=request.headers.get("user-agent"),
            )
    except accounts.TeamError as err:
        state = refused("password", err, {}, ("current", "password"))
        return account_page(request, session, form=state, status_code=400)
    response = signed_in_response(request, token)
    response.headers["location"] = "/admin/account?done=password"
    return response


@router.post("/account/sign-out-others", include_in_schema=False)
def sign_out_others(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    if session.user_id is not None:
        with sessions_of(request).begin() as s:
            ended = revoke_all(s, session.user_id, now_of(request), keep=session.session_id)
    else:
        ended = 0
    return account_page(request, session, notice=f"Signed out of {ended} other session{'' if ended == 1 else 's'}.")


# --- the audit log ---------------------------------------------------------------------------------------------------


@router.get("/audit", include_in_schema=False)
def audit_log(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    with sessions_of(request)() as s:
        entries = list(
            s.scalars(select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(AUDIT_PAGE))
        )
        slugs = {cid: slug for cid, slug in s.execute(select(Campaign.id, Campaign.slug))}
    return render_admin(request, "audit.html", session, title="Audit log", entries=entries, slugs=slugs)
