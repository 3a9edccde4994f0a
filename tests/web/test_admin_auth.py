"""Admin login: the password, the session cookie, CSRF on every form, lockout after repeated failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from campaigns.delivery.suppression import suppress
from tests.builders import START, Clock
from tests.web.admin_support import (
    PASSWORD,
    admin_app,
    form_token,
    sign_in,
    signed_in_client,
)
from web.admin.auth import LOCKOUT_SECONDS, SESSION_COOKIE

PAGES = ["/admin", "/admin/events", "/admin/suppressions", "/admin/queue", "/admin/campaigns/test"]


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    return admin_app(db_url, session_factory, tmp_path)


def https(app) -> TestClient:
    return TestClient(app, base_url="https://testserver")


@pytest.mark.parametrize("page", PAGES)
def test_pages_require_login(app, page):
    response = https(app).get(page, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"


def test_login_sets_a_secure_httponly_lax_session_cookie(app):
    client = https(app)
    response = sign_in(client)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/admin"} <= flags
    assert client.get("/admin").status_code == 200


def test_cookie_is_not_secure_on_plain_http(db_url, session_factory, tmp_path):
    client = TestClient(admin_app(db_url, session_factory, tmp_path, base_url="http://localhost:8000"))
    cookie = next(h for h in sign_in(client).headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "secure" not in cookie.lower()


def test_wrong_password_is_refused_without_a_session(app):
    client = https(app)
    response = sign_in(client, "not the password")
    assert response.status_code == 401 and "Wrong password" in response.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_lockout_after_five_failures_even_for_the_right_password(db_url, session_factory, tmp_path):
    clock = Clock(START)
    client = https(admin_app(db_url, session_factory, tmp_path, clock=clock))
    assert [sign_in(client, "guess").status_code for _ in range(5)] == [401] * 5
    locked = sign_in(client)
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.text
    assert int(locked.headers["retry-after"]) == LOCKOUT_SECONDS
    clock.at += timedelta(seconds=LOCKOUT_SECONDS - 1)
    assert sign_in(client).status_code == 429
    clock.at += timedelta(seconds=2)
    assert sign_in(client).status_code == 303  # the first failure has left the window


def test_the_lockout_is_shared_by_every_web_process(db_url, session_factory, tmp_path):
    """Two apps (two web processes) on one database count the same failures."""
    one, two = (https(admin_app(db_url, session_factory, tmp_path)) for _ in range(2))
    assert [sign_in(c, "guess").status_code for c in (one, two, one, two, one)] == [401] * 5
    assert sign_in(two).status_code == 429 and sign_in(one).status_code == 429


def test_a_right_password_clears_the_count(db_url, session_factory, tmp_path):
    client = https(admin_app(db_url, session_factory, tmp_path))
    assert [sign_in(client, "guess").status_code for _ in range(4)] == [401] * 4
    assert sign_in(client).status_code == 303
    client.cookies.clear()
    assert [sign_in(client, "guess").status_code for _ in range(5)] == [401] * 5


def test_login_without_the_forms_token_is_refused(app):
    client = https(app)
    client.get("/admin/login")
    for token in ("", "forged"):
        response = client.post("/admin/login", data={"password": PASSWORD, "csrf": token}, follow_redirects=False)
        assert response.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_login_token_from_another_browser_is_refused(app):
    other = https(app)
    token = form_token(other.get("/admin/login").text)
    victim = https(app)
    victim.get("/admin/login")  # has its own login cookie, not the one `token` belongs to
    response = victim.post("/admin/login", data={"password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert response.status_code == 403


def test_posts_without_the_session_csrf_token_are_refused(app):
    client = signed_in_client(app)
    assert client.post("/admin/logout", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert client.post("/admin/suppressions", data={"address": "a@b.org"}).status_code == 403
    assert client.get("/admin").status_code == 200  # still signed in
    token = form_token(client.get("/admin").text)
    assert client.post("/admin/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303


def with_cookie(app, value: str) -> TestClient:
    client = https(app)
    client.cookies.set(SESSION_COOKIE, value)
    return client


def test_a_tampered_cookie_or_a_changed_password_ends_the_session(app, db_url, session_factory, tmp_path):
    value = signed_in_client(app).cookies[SESSION_COOKIE]
    assert with_cookie(app, value).get("/admin", follow_redirects=False).status_code == 200
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert with_cookie(app, tampered).get("/admin", follow_redirects=False).status_code == 303
    from argon2 import PasswordHasher

    rotated = admin_app(
        db_url,
        session_factory,
        tmp_path,
        admin_password_hash=PasswordHasher(time_cost=1, memory_cost=8192).hash("a new password!"),
    )
    assert with_cookie(rotated, value).get("/admin", follow_redirects=False).status_code == 303


def test_without_a_password_hash_nobody_can_sign_in(db_url, session_factory, tmp_path):
    client = https(admin_app(db_url, session_factory, tmp_path, admin_password_hash=None))
    page = client.get("/admin/login")
    assert "outreach admin hash-password" in page.text
    response = client.post("/admin/login", data={"password": "", "csrf": form_token(page.text)})
    assert response.status_code == 503


def test_suppression_search_finds_by_hash_and_never_shows_addresses(app, session_factory):
    with session_factory.begin() as s:
        suppress(s, "Someone@Example.org", "complaint", "sendgrid", START)
    client = signed_in_client(app)
    listing = client.get("/admin/suppressions")
    token = form_token(listing.text)
    found = client.post("/admin/suppressions", data={"address": " someone@example.org ", "csrf": token})
    missing = client.post("/admin/suppressions", data={"address": "nobody@example.org", "csrf": token})
    assert found.status_code == 200 and "Suppressed since" in found.text and "complaint" in found.text
    assert "Not suppressed" in missing.text
    for page in (listing, found, missing):
        assert "someone@example.org" not in page.text.lower() and "nobody@example.org" not in page.text
