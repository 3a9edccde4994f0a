"""Importing "contacted us" records in the admin over HTTP, on both databases: a good file, a file with bad rows
(nothing imported, each named by line), and a viewer who may look but not import."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.db.models import AuditEntry, Contact
from tests.builders import START, Clock
from tests.insight.support import sent_campaign
from tests.web.admin_support import add_staff, admin_app, form_token, signed_in_client, staff_client

CALLS = b"address,time,channel\nperson0@example.com,2027-01-04 16:00,call\nperson1@example.com,2027-01-04 17:00,sms\n"


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    sent_campaign(session_factory, 2)  # step 1 went to both at START + 1 minute
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(START.replace(hour=20)))


def upload(client: TestClient, content: bytes, tz: str = "UTC"):
    token = form_token(client.get("/admin/contacts/import").text)
    return client.post(
        "/admin/contacts/import", data={"csrf": token, "timezone": tz}, files={"file": ("calls.csv", content)}
    )


def contacts(factory) -> list[tuple[str, int | None]]:
    with factory() as s:
        return [tuple(r) for r in s.execute(select(Contact.channel, Contact.step_number).order_by(Contact.id))]


def test_a_good_file_is_imported_and_put_down_to_the_lesson_before(app, session_factory):
    page = upload(signed_in_client(app), CALLS)
    assert page.status_code == 200 and "2 contacts imported, 2 put down to a lesson" in " ".join(page.text.split())
    assert contacts(session_factory) == [("call", 1), ("text", 1)]
    with session_factory() as s:
        assert s.scalar(select(AuditEntry.action)) == "contacts imported"


def test_a_file_with_a_bad_row_imports_nothing_and_names_the_line(app, session_factory):
    bad = CALLS + b"person1@example.com,yesterday,call\n"
    page = upload(signed_in_client(app), bad)
    assert page.status_code == 400 and "nothing imported" in " ".join(page.text.split())
    assert "line 4: the time &#39;yesterday&#39; cannot be read" in page.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_unknown_time_zone_is_refused_by_name(app, session_factory):
    page = upload(signed_in_client(app), CALLS, tz="Mars/Olympus")
    assert page.status_code == 400 and "Mars/Olympus" in page.text and contacts(session_factory) == []


def test_a_viewer_sees_the_page_but_cannot_import(app, session_factory):
    add_staff(session_factory, "vi@example.org", "viewer")
    client = staff_client(app, "vi@example.org")
    page = client.get("/admin/contacts/import")
    assert page.status_code == 200 and "Importing needs the editor role" in page.text
    answer = client.post("/admin/contacts/import", data={"csrf": "x"}, files={"file": ("calls.csv", CALLS)})
    assert answer.status_code == 403 and contacts(session_factory) == []
