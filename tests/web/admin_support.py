"""An app from the real factory on the test database, and a signed-in admin client for it."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from campaigns.settings import load_settings
from tests.builders import START, Clock
from web.app import create_app

PASSWORD = "correct horse battery staple"
SECRET_KEY = "aD7fK2mQ9xV4nB8wL1zR6tY3pH0cJ5gS"  # a public base URL needs a strong key (campaigns.settings)
# Cheap argon2 parameters: the tests check the login logic, not the hash's cost.
HASH = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)


def admin_app(
    db_url, session_factory, tmp_path, *, base_url="https://outreach.test", clock=None, provider=None, **overrides
):
    values = {"admin_password_hash": HASH, "secret_key": SECRET_KEY, **overrides}
    settings = load_settings(database_url=db_url, outbox_dir=tmp_path / "outbox", base_url=base_url, **values)
    return create_app(settings, session_factory, provider, clock=clock or Clock(START))


def form_token(html: str, name: str = "csrf") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} field in the page"
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login", data={"password": password, "csrf": form_token(page.text)}, follow_redirects=False
    )


def signed_in_client(app) -> TestClient:
    # base_url https: the session cookie is Secure, so the test client must speak https too.
    client = TestClient(app, base_url="https://testserver")
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    return client


def add_staff(session_factory, email: str, role: str, password: str = PASSWORD) -> int:
    """A staff account that can sign in at once (its hash made cheap, like HASH: the tests check the logic)."""
    from campaigns.db.models import StaffUser

    with session_factory.begin() as s:
        user = StaffUser(
            email=email,
            role=role,
            password_hash=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password),
            created_by="test",
            created_at=START,
        )
        s.add(user)
        s.flush()
        return user.id


def sign_in_as(client: TestClient, email: str, password: str = PASSWORD):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf": form_token(page.text)},
        follow_redirects=False,
    )


def staff_client(app, email: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    response = sign_in_as(client, email, password)
    assert response.status_code == 303 and response.headers["location"] == "/admin", response.text[:400]
    return client
