"""Roles, checked on every admin route: the test walks the app's routes, so a new route cannot forget to say which
role it needs, and a viewer (or an editor, on the team's routes) posting to each one gets 403 and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import MetaData, select

from campaigns.audience.importing import import_csv
from campaigns.audience.uploads import create_upload
from campaigns.db.models import Subscriber
from campaigns.team.accounts import role_at_least
from tests.builders import Clock, make_campaign
from tests.web.admin_support import add_staff, admin_app, form_token, staff_client

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
# Routes anyone may open: the login form and an invitation's page (its long one-time link is the proof).
PUBLIC = {"/admin/login", "/admin/welcome/{token}", "/admin/welcome", "/admin/campaigns/_static/manage.css"}
# Tables a refused request may still write: the sessions (last seen) and the rate limits.
BOOKKEEPING = {"staff_sessions", "rate_limits", "key_checks"}


def declared_role(route) -> str | None:
    """The role the route's dependencies ask for (web.admin.auth.require_role marks its dependency with it)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        role = getattr(dependency.call, "role", None)
        if role:
            return role
        stack.extend(dependency.dependencies)
    return None


def endpoints(app):
    """Every route of the app, each with its path, methods and dependencies (FastAPI 0.165 keeps an included
    router's routes behind one entry of app.routes: its effective_candidates are the routes as served)."""
    for route in app.routes:
        if hasattr(route, "effective_candidates"):
            yield from route.effective_candidates()
        elif isinstance(route, APIRoute):
            yield route


def admin_routes(app) -> list[tuple]:
    found = []
    for route in endpoints(app):
        if route.path.startswith("/admin") and route.path not in PUBLIC:
            for method in sorted(route.methods):
                found.append((route, method, declared_role(route)))
    return found


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    make_campaign(session_factory, status="running")
    path = tmp_path / "people.csv"
    path.write_text("email,name,timezone,tags\nann@example.org,Ann,UTC,donors\n", encoding="utf-8")
    with session_factory.begin() as s:
        import_csv(s, path, now=NOW)
        create_upload(s, "more.csv", b"email,timezone\nbob@example.org,UTC\n", NOW, actor="test")
    for email, role in (("owner@example.org", "owner"), ("ed@example.org", "editor"), ("vi@example.org", "viewer")):
        add_staff(session_factory, email, role)
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))


def test_every_admin_route_declares_the_role_it_needs(app):
    missing = [f"{method} {route.path}" for route, method, role in admin_routes(app) if role is None]
    assert missing == []
    roles = {f"{method} {route.path}": role for route, method, role in admin_routes(app)}
    # Reading stays open to viewers; changing needs an editor; the team needs an owner.
    assert roles["GET /admin/subscribers"] == "viewer" and roles["POST /admin/subscribers/search"] == "viewer"
    assert roles["POST /admin/campaigns/{slug}/schedule"] == "editor"
    assert roles["POST /admin/subscribers/{subscriber_id:int}/{name}"] == "editor"
    assert roles["POST /admin/team"] == "owner" and roles["GET /admin/team"] == "owner"


def snapshot(session_factory) -> dict[str, list[tuple]]:
    """Every row of every table but the bookkeeping ones."""
    engine = session_factory.kw["bind"]
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as c:
        return {
            name: sorted(map(tuple, c.execute(select(table)).all()), key=repr)
            for name, table in meta.tables.items()
            if name not in BOOKKEEPING
        }


def fill(path: str, session_factory) -> str:
    with session_factory() as s:
        ann = s.scalar(select(Subscriber.id))
    values = {
        "slug": "test",
        "number": "1",
        "subscriber_id": str(ann),
        "name": "erase",
        "upload_id": "1",
        "user_id": "1",
        "action": "pause",
    }
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: values[m.group(1)], path)


@pytest.mark.parametrize("who, role", [("vi@example.org", "viewer"), ("ed@example.org", "editor")])
def test_a_post_beyond_the_role_is_refused_with_403_and_changes_nothing(app, session_factory, who, role):
    client = staff_client(app, who)
    token = form_token(client.get("/admin/subscribers").text)
    before = snapshot(session_factory)
    refused = []
    for route, method, needed in admin_routes(app):
        if method != "POST" or role_at_least(role, needed):
            continue
        answer = client.post(fill(route.path, session_factory), data={"csrf": token, "weeks": "2", "tag": "x"})
        assert answer.status_code == 403, f"{route.path}: {answer.status_code}"
        assert "Not something your role can do" in answer.text and f"Your role ({role})" in answer.text, route.path
        refused.append(route.path)
    assert snapshot(session_factory) == before
    assert len(refused) >= (20 if role == "viewer" else 5)


def test_a_viewer_reads_every_page_searches_and_exports(app, session_factory):
    client = staff_client(app, "vi@example.org")
    for path in ("/admin", "/admin/subscribers", "/admin/campaigns/test/manage", "/admin/audit", "/admin/account"):
        assert client.get(path).status_code == 200, path
    token = form_token(client.get("/admin/subscribers").text)
    assert "1 found" in client.post("/admin/subscribers/search", data={"csrf": token, "q": "ann"}).text
    assert client.get("/admin/subscribers/export.csv").text.count("\n") == 2
    assert client.get("/admin/team").status_code == 403
    # What a viewer may not do is not offered: no action buttons on a person's page.
    person = client.get(f"/admin/subscribers/{fill('{subscriber_id}', session_factory)}")
    assert 'id="erase"' not in person.text and 'id="tag-form"' not in person.text


def test_nobody_signed_in_gets_401_on_every_admin_form_and_nothing_changes(app, session_factory):
    from fastapi.testclient import TestClient

    anonymous = TestClient(app, base_url="https://testserver", follow_redirects=False)
    before = snapshot(session_factory)
    posts = [route for route, method, _ in admin_routes(app) if method == "POST"]
    for route in posts:
        answer = anonymous.post(fill(route.path, session_factory), data={"csrf": "x", "weeks": "2", "tag": "x"})
        assert answer.status_code == 401, route.path
    assert snapshot(session_factory) == before and len(posts) >= 25
