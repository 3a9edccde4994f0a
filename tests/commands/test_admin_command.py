"""`outreach admin add-user|users|password-link`: staff accounts from the server."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, select

from campaigns.db.models import AuditEntry, StaffUser


@pytest.fixture(autouse=True)
def _database(cli):
    assert cli("db", "upgrade")[0] == 0


def rows(db_url: str, query):
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            return c.execute(query).all()
    finally:
        engine.dispose()


def test_add_user_prints_a_one_time_link_and_the_audit_names_who_ran_it(cli, db_url):
    code, out, err = cli("admin", "add-user", "Ana@Example.org", "--role", "owner", "--name", "Ana", "--actor", "ops")
    assert code == 0, err
    assert "added ana@example.org as owner" in out
    assert "/admin/welcome/" in out.splitlines()[-1]
    [(email, role, password_hash)] = rows(db_url, select(StaffUser.email, StaffUser.role, StaffUser.password_hash))
    assert (email, role, password_hash) == ("ana@example.org", "owner", None)
    [(actor, detail)] = rows(db_url, select(AuditEntry.actor, AuditEntry.detail))
    assert (actor, detail) == ("ops", "added ana@example.org as owner (invited)")
    code, out, _ = cli("admin", "users")
    assert code == 0 and "ana@example.org" in out and "invited" in out
    code, out, _ = cli("admin", "password-link", "ANA@example.org")
    assert code == 0 and out.strip().startswith("http") and "/admin/welcome/" in out


def test_add_user_with_a_password_read_from_standard_input(cli, db_url, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    code, out, err = cli("admin", "add-user", "bo@example.org", "--role", "viewer", "--password")
    assert code == 0, err
    assert "they can sign in at" in out and "/admin/welcome/" not in out
    [(password_hash,)] = rows(db_url, select(StaffUser.password_hash))
    assert password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    "args, message",
    [
        (("not-an-address", "--role", "owner"), "not an email address"),
        (("cy@example.org", "--role", "admin"), "the role is one of viewer, editor, owner"),
    ],
)
def test_add_user_refuses_in_one_line(cli, db_url, args, message):
    code, _, err = cli("admin", "add-user", *args)
    assert code == 1 and message in err and "Traceback" not in err
    assert rows(db_url, select(StaffUser.id)) == []


def test_a_second_account_for_one_address_is_refused(cli):
    assert cli("admin", "add-user", "dee@example.org", "--role", "editor")[0] == 0
    code, _, err = cli("admin", "add-user", "DEE@example.org", "--role", "viewer")
    assert code == 1 and "has an account already" in err
