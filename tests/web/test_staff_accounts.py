"""Staff accounts over HTTP: signing in with an address, a copied cookie that signing out ends, a new password
ending the other sessions, invitations, the Team page, the lockout per account shared by two web processes, and
the audit log naming the person."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.db.models import AuditEntry, StaffSession, StaffUser
from tests.builders import Clock, make_campaign
from tests.web.admin_support import (
    PASSWORD,
    add_staff,
    admin_app,
    form_token,
    sign_in,
    sign_in_as,
    signed_in_client,
    staff_client,
)
from web.admin.auth import SESSION_COOKIE

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    make_campaign(session_factory, status="draft")
    add_staff(session_factory, "owner@example.org", "owner")
    add_staff(session_factory, "ed@example.org", "editor")
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))


def https(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def test_staff_sign_in_with_their_address_and_the_shared_password_no_longer_works(app):
    client = https(app)
    assert 'name="email"' in client.get("/admin/login").text
    assert sign_in(client).status_code == 401  # the bootstrap password, with no address
    wrong = sign_in_as(client, "ed@example.org", "not the password")
    nobody = sign_in_as(client, "nobody@example.org")
    assert wrong.status_code == nobody.status_code == 401
    assert "Wrong address or password." in wrong.text and "Wrong address or password." in nobody.text
    assert sign_in_as(client, "ED@example.org").status_code == 303
    page = client.get("/admin")
    assert page.status_code == 200 and "ed@example.org" in page.text and "editor" in page.text


def test_signing_out_ends_the_session_on_the_server_even_for_a_copied_cookie(app):
    client = staff_client(app, "ed@example.org")
    copied = https(app)
    copied.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    assert copied.get("/admin").status_code == 200
    client.post("/admin/logout", data={"csrf": form_token(client.get("/admin").text)})
    assert copied.get("/admin").status_code == 303  # the copy no longer opens anything


def test_a_new_password_ends_every_other_session_and_keeps_this_one(app, session_factory):
    here, there = staff_client(app, "ed@example.org"), staff_client(app, "ed@example.org")
    token = form_token(here.get("/admin/account").text)
    refused = here.post(
        "/admin/account/password",
        data={
            "csrf": token,
            "current": "wrong wrong wrong",
            "password": "a brand new password",
            "again": "a brand new password",
        },
    )
    assert refused.status_code == 400 and "not your current password" in refused.text
    changed = here.post(
        "/admin/account/password",
        data={"csrf": token, "current": PASSWORD, "password": "a brand new password", "again": "a brand new password"},
        follow_redirects=True,
    )
    assert changed.status_code == 200 and "every other session has ended" in changed.text
    assert there.get("/admin", follow_redirects=False).status_code == 303
    assert https(app).get("/admin").status_code == 303
    assert sign_in_as(https(app), "ed@example.org", "a brand new password").status_code == 303
    with session_factory() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "password-changed")) == "ed@example.org"


def test_an_owner_invites_someone_who_chooses_a_password_from_the_link_once(app, session_factory):
    owner = staff_client(app, "owner@example.org")
    token = form_token(owner.get("/admin/team").text)
    invited = owner.post(
        "/admin/team", data={"csrf": token, "email": "New@Example.org", "name": "Nia", "role": "viewer"}
    )
    assert invited.status_code == 200 and "new@example.org is invited" in invited.text
    link = re.search(
        r'id="invite-link" class="copy" readonly value="https://outreach.test(/admin/welcome/[^"]+)"', invited.text
    )
    assert link, invited.text[:2000]
    newcomer = https(app)
    welcome = newcomer.get(link.group(1))
    assert welcome.status_code == 200 and "new@example.org" in welcome.text and "viewer" in welcome.text
    csrf = form_token(welcome.text)
    mismatch = newcomer.post(link.group(1), data={"csrf": csrf, "password": "one long password", "again": "another"})
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    csrf = form_token(mismatch.text)  # the page drawn again carries a new form token
    done = newcomer.post(
        link.group(1), data={"csrf": csrf, "password": "one long password", "again": "one long password"}
    )
    assert done.status_code == 303 and newcomer.get("/admin").status_code == 200
    assert https(app).get(link.group(1)).status_code == 404  # used
    with session_factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "staff-added"))
    assert (entry.actor, entry.detail) == ("owner@example.org", "added new@example.org as viewer (invited)")


def test_an_owner_disables_an_account_and_its_sessions_end(app, session_factory):
    editor = staff_client(app, "ed@example.org")
    owner = staff_client(app, "owner@example.org")
    with session_factory() as s:
        ed = s.scalar(select(StaffUser.id).where(StaffUser.email == "ed@example.org"))
    token = form_token(owner.get("/admin/team").text)
    assert owner.post(f"/admin/team/{ed}/disable", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert editor.get("/admin", follow_redirects=False).status_code == 303
    assert sign_in_as(https(app), "ed@example.org").status_code == 401
    me = owner.post(f"/admin/team/{ed}/role", data={"csrf": token, "role": "owner"}, follow_redirects=False)
    assert me.status_code == 303
    with session_factory() as s:
        assert s.scalar(select(StaffUser.role).where(StaffUser.id == ed)) == "owner"


def test_editors_cannot_open_or_use_the_team_page(app, session_factory):
    editor = staff_client(app, "ed@example.org")
    assert editor.get("/admin/team").status_code == 403
    token = form_token(editor.get("/admin").text)
    answer = editor.post("/admin/team", data={"csrf": token, "email": "x@example.org", "role": "owner"})
    assert answer.status_code == 403
    with session_factory() as s:
        assert s.scalar(select(StaffUser).where(StaffUser.email == "x@example.org")) is None


def test_one_account_is_locked_after_ten_tries_from_any_networks_in_every_process(db_url, session_factory, tmp_path):
    add_staff(session_factory, "ed@example.org", "editor")
    one, two = (https(admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))) for _ in range(2))
    for i in range(10):  # alternating processes; the per-network count is cleared by nothing, so vary it by process
        client = one if i % 2 else two
        client.cookies.clear()
        assert sign_in_as(client, "ed@example.org", f"guess {i}").status_code in (401, 429)
    locked = sign_in_as(https(admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))), "ed@example.org")
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.text


def test_what_staff_do_is_audited_under_their_address(app, session_factory):
    editor = staff_client(app, "ed@example.org")
    token = form_token(editor.get("/admin/campaigns/test/manage").text)
    editor.post("/admin/campaigns/test/archive", data={"csrf": token})
    with session_factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "archived"))
    assert entry.actor == "ed@example.org"
    page = editor.get("/admin/audit").text
    assert "ed@example.org" in page and "/admin/campaigns/test/manage" in page


def test_the_bootstrap_owner_adds_the_first_account_and_is_then_signed_out(db_url, session_factory, tmp_path):
    app = admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))
    client = signed_in_client(app)  # no account yet: the server's password signs in
    team = client.get("/admin/team")
    assert team.status_code == 200 and 'id="bootstrap"' in team.text
    client.post("/admin/team", data={"csrf": form_token(team.text), "email": "me@example.org", "role": "owner"})
    assert client.get("/admin", follow_redirects=False).status_code == 303
    with session_factory() as s:
        assert s.scalar(select(StaffSession.user_id)) is None  # only the bootstrap session was ever opened
