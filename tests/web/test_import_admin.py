"""Importing subscribers in the admin over HTTP, on both databases: upload, how the file was read, mapping, the
required consent statement, the dry run with problems by line, the import, and what it leaves behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audience.subscribers import get_subscriber, list_subscribers
from campaigns.audience.tags import tags_of
from campaigns.db.models import AuditEntry, Enrollment, SubscriberImport
from tests.builders import Clock, make_campaign
from tests.web.admin_support import admin_app, form_token, signed_in_client

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
# Excel on Windows: semicolons, Windows-1252, its own header names, a row with a quote left open.
FILE = (
    "E-mail;First name;Last name;Time Zone;Notes\r\n"
    "ann@example.org;Ann;Lee;Europe/Paris;\r\n"
    'bob@example.org;"Bob;Stone;;likes tea\r\n'
    "zoe@example.org;Zo\u00eb;M\u00fcller;;\r\n"
    "not-an-address;X;Y;UTC;\r\n"
).encode("cp1252")


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    make_campaign(session_factory, status="running")
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))


@pytest.fixture
def client(app) -> TestClient:
    return signed_in_client(app)


def upload(client: TestClient, content: bytes = FILE, name: str = "excel export.csv"):
    token = form_token(client.get("/admin/subscribers/import").text)
    return client.post(
        "/admin/subscribers/import",
        data={"csrf": token},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


def plan(**choices: str) -> dict[str, str]:
    return {
        "column_0": "email",
        "column_1": "first_name",
        "column_2": "last_name",
        "column_3": "timezone",
        "column_4": "ignore",
        "default_timezone": "America/New_York",
        "consent": "signed the paper form at the open day",
        "tag_all": "open day",
        **choices,
    }


def test_an_uploaded_file_is_shown_as_read_with_its_columns_guessed_and_nothing_imported(client, session_factory):
    answer = upload(client)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "Windows-1252" in page.text and "semicolon" in page.text and 'id="encoding-note"' in page.text
    assert "Zo\u00eb" in page.text and "M\u00fcller" in page.text  # the sample, decoded right
    guessed = [
        page.text.split(f'id="column_{i}"')[1].split("</select>")[0].split(" selected")[0].rsplit('value="', 1)[1]
        for i in range(5)
    ]
    assert guessed == ['email"', 'first_name"', 'last_name"', 'timezone"', 'ignore"']
    with session_factory() as s:
        assert list_subscribers(s) == []


def test_the_consent_statement_is_required_and_a_refusal_keeps_the_choices(client, session_factory):
    page_url = upload(client).headers["location"]
    token = form_token(client.get(page_url).text)
    refused = client.post(f"{page_url}/check", data={"csrf": token, **plan(consent="  ", tag_all="spring")})
    assert refused.status_code == 400 and "consent record" in refused.text
    assert 'value="spring"' in refused.text  # what was typed is still there
    twice = client.post(f"{page_url}/check", data={"csrf": token, **plan(column_1="email")})
    assert twice.status_code == 400 and "appears twice" in twice.text
    with session_factory() as s:
        assert s.scalar(select(SubscriberImport.status)) == "uploaded"


def test_the_dry_run_counts_and_lists_problems_by_line_then_the_import_does_what_it_said(client, session_factory):
    page_url = upload(client).headers["location"]
    token = form_token(client.get(page_url).text)
    checked = client.post(f"{page_url}/check", data={"csrf": token, **plan()})
    assert checked.status_code == 200 and "Dry run" in checked.text
    assert '<span id="n-imported">2</span>' in checked.text and '<span id="n-problems">2</span>' in checked.text
    problems = checked.text.split('id="problems"')[1]
    assert '<td class="num">3</td><td>a quote (&#34;) opened on this line is never closed' in problems
    assert '<td class="num">5</td><td>bad address' in problems
    with session_factory() as s:
        assert list_subscribers(s) == []  # a dry run writes nothing
    done = client.post(f"{page_url}/start", data={"csrf": token})
    assert done.status_code == 200 and "Imported" in done.text and '<span id="n-imported">2</span>' in done.text
    with session_factory() as s:
        ann, zoe = get_subscriber(s, "ann@example.org"), get_subscriber(s, "zoe@example.org")
        assert (ann.name, ann.timezone, ann.consent_source) == (
            "Ann Lee",
            "Europe/Paris",
            "signed the paper form at the open day",
        )
        assert (zoe.name, zoe.timezone) == ("Zo\u00eb M\u00fcller", "America/New_York")
        assert tags_of(s, [ann.id]) == {ann.id: ["open day"]}
        upload_row = s.scalar(select(SubscriberImport))
        assert (upload_row.status, upload_row.content, upload_row.rows_done) == ("done", b"", 4)
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "imported"))
        assert audit.actor == "admin" and "2 new subscribers" in audit.detail
        assert s.scalar(select(Enrollment.id)) is None  # no campaign was chosen


def test_an_import_into_a_campaign_enrolls_everyone_imported(client, session_factory):
    page_url = upload(client).headers["location"]
    page = client.get(page_url)
    campaign = page.text.split('id="campaign"')[1].split('<option value="')[2].split('"')[0]
    token = form_token(page.text)
    client.post(f"{page_url}/check", data={"csrf": token, **plan(campaign=campaign)})
    client.post(f"{page_url}/start", data={"csrf": token})
    with session_factory() as s:
        assert len(s.scalars(select(Enrollment)).all()) == 2


def test_an_import_runs_once_even_if_started_twice(client, session_factory):
    page_url = upload(client).headers["location"]
    token = form_token(client.get(page_url).text)
    client.post(f"{page_url}/check", data={"csrf": token, **plan()})
    client.post(f"{page_url}/start", data={"csrf": token})
    again = client.post(f"{page_url}/start", data={"csrf": token})
    assert again.status_code == 200 and '<span id="n-imported">2</span>' in again.text
    with session_factory() as s:
        assert len(list_subscribers(s)) == 2


@pytest.mark.parametrize(
    "content, message",
    [(b"", "is empty"), (b"   \n", "is empty"), (b'"email,name\na@x.org,Ann\n', "header line cannot be read")],
)
def test_an_unusable_file_is_refused_on_the_upload_page(client, content, message):
    answer = upload(client, content)
    assert answer.status_code == 400 and message in answer.text


def test_a_file_larger_than_the_admins_form_limit_uploads(client, session_factory):
    """The admin takes bodies of 64 KiB (web.app.MAX_BODY_BYTES); the upload has a limit of its own."""
    body = "email,timezone\r\n" + "".join(f"person{i}@example.org,UTC\r\n" for i in range(10_000))
    assert len(body) > 200_000
    answer = upload(client, body.encode())
    assert answer.status_code == 303
    with session_factory() as s:
        assert s.scalar(select(SubscriberImport.size)) == len(body)
