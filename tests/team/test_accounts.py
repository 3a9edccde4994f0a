"""Staff accounts on both databases: invitations used once, passwords checked, the last owner kept, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.db.models import AuditEntry
from campaigns.errors import NotFound
from campaigns.team import accounts
from campaigns.team.sessions import open_session, revoke, revoke_all, signed_in
from tests.builders import START

PASSWORD = "a long enough password"


def add(factory, email: str, role: str = "editor", password: str | None = PASSWORD):
    with factory.begin() as s:
        user, token = accounts.add_user(s, email, role, START, actor="ana@example.org", password=password)
        return user.id, token


def test_an_invitation_sets_a_password_once_and_expires(session_factory):
    uid, token = add(session_factory, "  Bo@Example.ORG ", password=None)
    assert token is not None
    with session_factory.begin() as s:
        user = accounts.get_user(s, uid)
        assert (user.email, user.password_hash) == ("bo@example.org", None)
        with pytest.raises(accounts.TeamError, match="at least 12"):
            accounts.accept_invitation(s, token, "short", START)
        accounts.accept_invitation(s, token, PASSWORD, START + timedelta(hours=1))
    with session_factory.begin() as s, pytest.raises(NotFound, match="used already"):
        accounts.accept_invitation(s, token, PASSWORD, START + timedelta(hours=2))
    _, late = add(session_factory, "cy@example.org", password=None)
    with session_factory.begin() as s, pytest.raises(NotFound, match="expired"):
        accounts.accept_invitation(s, late, PASSWORD, START + timedelta(days=accounts.INVITE_DAYS, seconds=1))


def test_an_address_has_one_account_and_roles_are_checked(session_factory):
    add(session_factory, "ann@example.org")
    with session_factory.begin() as s:
        with pytest.raises(accounts.TeamError, match="has an account already"):
            accounts.add_user(s, "ANN@example.org", "viewer", START, actor="x")
        with pytest.raises(accounts.TeamError, match="the role is one of viewer, editor, owner"):
            accounts.add_user(s, "new@example.org", "admin", START, actor="x")
        with pytest.raises(accounts.TeamError, match="cannot be your email address"):
            accounts.add_user(
                s, "longaddress@example.org", "viewer", START, actor="x", password="longaddress@example.org"
            )
    assert accounts.role_at_least("owner", "editor") and not accounts.role_at_least("viewer", "editor")


def test_the_last_owner_can_be_neither_demoted_nor_disabled(session_factory):
    first, _ = add(session_factory, "owner@example.org", "owner")
    with session_factory.begin() as s:
        with pytest.raises(accounts.TeamError, match="needs an owner"):
            accounts.change_role(s, first, "editor", START, actor="x")
        with pytest.raises(accounts.TeamError, match="needs an owner"):
            accounts.set_disabled(s, first, True, START, actor="x")
    add(session_factory, "two@example.org", "owner")
    with session_factory.begin() as s:
        accounts.change_role(s, first, "viewer", START, actor="two@example.org")
        assert accounts.get_user(s, first).role == "viewer"
    with session_factory() as s:
        details = s.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert details[-1] == "owner@example.org: owner -> viewer"


def test_sessions_end_when_signed_out_when_the_password_changes_and_when_disabled(session_factory):
    uid, _ = add(session_factory, "ed@example.org")
    with session_factory.begin() as s:
        user = accounts.get_user(s, uid)
        here = open_session(s, user, START, credential=accounts.credential_of(user.password_hash))
        there = open_session(s, user, START, credential=accounts.credential_of(user.password_hash))
    with session_factory.begin() as s:
        found = signed_in(s, here, START, bootstrap_hash=None)
        assert found is not None and (found.email, found.role, found.actor) == (
            "ed@example.org",
            "editor",
            "ed@example.org",
        )
        revoke(s, there, START)
        assert signed_in(s, there, START, bootstrap_hash=None) is None
        assert signed_in(s, here, START + timedelta(hours=13), bootstrap_hash=None) is None  # expired
    with session_factory.begin() as s:
        accounts.change_password(s, uid, PASSWORD, "another long password", START)
        assert signed_in(s, here, START, bootstrap_hash=None) is None  # opened with the old password
    with session_factory.begin() as s:
        user = accounts.get_user(s, uid)
        again = open_session(s, user, START, credential=accounts.credential_of(user.password_hash))
        accounts.set_disabled(s, uid, True, START, actor="x")
        assert signed_in(s, again, START, bootstrap_hash=None) is None
        assert revoke_all(s, uid, START) == 2  # `here` (an older password) and `again` were still open rows


def test_a_bootstrap_session_ends_when_the_first_account_exists(session_factory):
    bootstrap = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
    with session_factory.begin() as s:
        token = open_session(s, None, START, credential=accounts.credential_of(bootstrap))
    with session_factory.begin() as s:
        found = signed_in(s, token, START, bootstrap_hash=bootstrap)
        assert found is not None and (found.role, found.actor) == ("owner", "admin")
        assert signed_in(s, token, START, bootstrap_hash=bootstrap + "x") is None  # the server's password changed
    add(session_factory, "first@example.org", "owner")
    with session_factory.begin() as s:
        assert signed_in(s, token, START, bootstrap_hash=bootstrap) is None
