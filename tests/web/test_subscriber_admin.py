"""The subscriber admin over HTTP, on both databases: search (by part of an address or name, by a whole address that
only the suppression list remembers), filters, one person's page, each action confirmed then done and audited, tags
one by one and in bulk, and the CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audience.importing import import_csv
from campaigns.audience.subscribers import get_subscriber
from campaigns.audience.tags import tags_of
from campaigns.db.models import AuditEntry, Campaign, Enrollment, Subscriber
from campaigns.delivery.suppression import is_suppressed, suppress
from tests.builders import Clock, make_campaign
from tests.web.admin_support import admin_app, form_token, signed_in_client

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
PEOPLE = (
    "email,name,timezone,consent_source,tags\n"
    "ann@example.org,Ann Lee,America/New_York,health fair,donors;volunteers\n"
    "bob@example.org,Bob Stone,Europe/Berlin,website,donors\n"
    "cat@example.net,Cat Diaz,UTC,website,\n"
    '=danger@example.com,=HYPERLINK("http://x"),UTC,+1 form,@home\n'
)


@pytest.fixture
def app(db_url, session_factory, tmp_path):
    campaign_id = make_campaign(session_factory, status="running")
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    with session_factory.begin() as s:
        import_csv(s, path, now=NOW, campaign_id=campaign_id)
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW))


@pytest.fixture
def client(app) -> TestClient:
    return signed_in_client(app)


def subscriber_id(factory, address: str) -> int:
    with factory() as s:
        return get_subscriber(s, address).id


def search(client: TestClient, **fields: str):
    page = client.get("/admin/subscribers")
    return client.post("/admin/subscribers/search", data={"csrf": form_token(page.text), **fields})


def test_the_list_shows_everyone_newest_first_and_filters_by_status_and_tag(client):
    page = client.get("/admin/subscribers")
    assert page.status_code == 200 and "4 found" in page.text
    results = page.text.split('id="results"')[1]
    assert results.index("cat@example.net") < results.index("ann@example.org")  # newest first
    donors = client.get("/admin/subscribers?tag=donors")
    assert "2 found" in donors.text and "cat@example.net" not in donors.text.split('id="results"')[1]
    assert "0 found" in client.get("/admin/subscribers?status=unsubscribed").text
    assert "0 found" in client.get("/admin/subscribers?tag=no-such-tag").text


def test_a_typed_search_finds_part_of_an_address_or_a_name_and_stays_out_of_the_url(client):
    found = search(client, q="STONE")
    assert found.status_code == 200 and "1 found" in found.text and "bob@example.org" in found.text
    assert "2 found" in search(client, q="example.org").text
    assert "1 found" in search(client, q="Ann@Example.org").text  # a whole address, any case
    assert "0 found" in search(client, q="100%").text  # LIKE's wildcards are taken literally


def test_a_whole_address_only_the_suppression_list_remembers_is_found_by_its_hash(client, session_factory):
    with session_factory.begin() as s:
        suppress(s, "gone@example.org", "complaint", "sendgrid", NOW)
    found = search(client, q="Gone@example.org")
    assert "0 found" in found.text
    remnant = found.text.split('id="remnant"')[1].split("</p>")[0]
    assert "suppression list" in remnant and "complaint" in remnant


def test_an_erased_person_is_found_by_address_saying_only_that_they_were_erased(client, session_factory):
    sid = subscriber_id(session_factory, "bob@example.org")
    page = client.get(f"/admin/subscribers/{sid}/erase")
    client.post(f"/admin/subscribers/{sid}/erase", data={"csrf": form_token(page.text)})
    found = search(client, q="bob@example.org")
    assert "0 found" in found.text and "erased" in found.text.split('id="remnant"')[1].split("</p>")[0]
    assert "bob" not in found.text.split('id="results"')[1].split('id="exports"')[0].lower()


def test_the_person_page_shows_consent_tags_enrollment_in_their_own_time_and_a_timeline(client, session_factory):
    sid = subscriber_id(session_factory, "bob@example.org")
    with session_factory.begin() as s:
        s.scalar(select(Enrollment).where(Enrollment.subscriber_id == sid)).next_due_at = datetime(
            2027, 1, 5, 9, 0, tzinfo=UTC
        )
    page = client.get(f"/admin/subscribers/{sid}")
    assert page.status_code == 200
    assert "website" in page.text and "donors" in page.text and "Europe/Berlin" in page.text
    assert "Tue 5 Jan 2027, 10:00 (Europe/Berlin)" in page.text  # 09:00 UTC on Bob's clock
    assert "Enrolled in test" in page.text
    assert client.get("/admin/subscribers/99999").status_code == 404


@pytest.mark.parametrize("action", ["pause", "unsubscribe", "erase"])
def test_each_action_asks_first_and_the_question_changes_nothing(client, session_factory, action):
    sid = subscriber_id(session_factory, "ann@example.org")
    question = client.get(f"/admin/subscribers/{sid}/{action}")
    assert question.status_code == 200 and 'id="confirm"' in question.text and 'id="cancel"' in question.text
    with session_factory() as s:
        ann = s.get(Subscriber, sid)
        assert (ann.status, ann.paused_until, ann.email) == ("active", None, "ann@example.org")


def test_pause_resume_unsubscribe_and_erase_are_done_and_audited_under_the_staff_name(client, session_factory):
    sid = subscriber_id(session_factory, "ann@example.org")
    token = form_token(client.get(f"/admin/subscribers/{sid}").text)
    done = client.post(f"/admin/subscribers/{sid}/pause", data={"csrf": token, "weeks": "2"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/admin/subscribers/{sid}?done=paused")
    with session_factory() as s:
        assert s.get(Subscriber, sid).paused_until is not None
    client.post(f"/admin/subscribers/{sid}/resume", data={"csrf": token})
    client.post(f"/admin/subscribers/{sid}/unsubscribe", data={"csrf": token})
    with session_factory() as s:
        ann = s.get(Subscriber, sid)
        assert (ann.paused_until, ann.status, ann.unsubscribe_source) == (None, "unsubscribed", "staff")
        assert is_suppressed(s, "ann@example.org")
        assert s.scalar(select(Enrollment.status).where(Enrollment.subscriber_id == sid)) == "stopped"
    page = client.post(f"/admin/subscribers/{sid}/erase", data={"csrf": token})
    assert "Erased" in page.text and "ann@example.org" not in page.text
    with session_factory() as s:
        assert s.get(Subscriber, sid).email is None and tags_of(s, [sid]) == {}
        entries = s.scalars(select(AuditEntry).where(AuditEntry.subscriber_id == sid).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["paused", "resumed", "unsubscribed", "erased"]
    assert {e.actor for e in entries} == {"admin"}
    assert not any("ann" in e.detail for e in entries)  # the audit log holds ids, never the address


def test_a_refused_action_is_drawn_again_with_the_reason_and_changes_nothing(client, session_factory):
    sid = subscriber_id(session_factory, "cat@example.net")
    token = form_token(client.get(f"/admin/subscribers/{sid}").text)
    refused = client.post(f"/admin/subscribers/{sid}/pause", data={"csrf": token, "weeks": "3"})
    assert refused.status_code == 400 and "Please choose a pause of" in refused.text
    with session_factory() as s:
        assert s.get(Subscriber, sid).paused_until is None


def test_tags_are_added_and_removed_on_one_person(client, session_factory):
    sid = subscriber_id(session_factory, "cat@example.net")
    token = form_token(client.get(f"/admin/subscribers/{sid}").text)
    added = client.post(f"/admin/subscribers/{sid}/tags", data={"csrf": token, "tag": "  Board  Members "})
    assert "Tag added." in added.text and "board members" in added.text
    again = client.post(f"/admin/subscribers/{sid}/tags", data={"csrf": token, "tag": "board members"})
    assert "already had that tag" in again.text
    empty = client.post(f"/admin/subscribers/{sid}/tags", data={"csrf": token, "tag": "   "})
    assert empty.status_code == 400 and "Type a tag." in empty.text
    client.post(f"/admin/subscribers/{sid}/tags/remove", data={"csrf": token, "tag": "board members"})
    with session_factory() as s:
        assert tags_of(s, [sid]) == {}


def test_a_tag_is_added_to_and_removed_from_everyone_a_search_found(client, session_factory):
    page = client.get("/admin/subscribers?tag=donors")
    token = form_token(page.text)
    added = client.post(
        "/admin/subscribers/tags", data={"csrf": token, "tag": "donors", "q": "example.org", "name": "Spring"}
    )
    assert "added to 2 of the 2 found" in added.text
    ids = [subscriber_id(session_factory, a) for a in ("ann@example.org", "bob@example.org", "cat@example.net")]
    with session_factory() as s:
        tags = tags_of(s, ids)
        audit = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "tagged")).all()
    assert "spring" in tags[ids[0]] and "spring" in tags[ids[1]] and "spring" not in tags.get(ids[2], [])
    assert audit == ["tag 'spring' added to 2 of 2 found by a search (a typed search, tag 'donors')"]
    removed = client.post("/admin/subscribers/tags", data={"csrf": token, "name": "spring", "change": "remove"})
    assert "removed from 2 of the 4 found" in removed.text


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_the_subscribers_export_has_consent_tags_campaigns_and_neutralised_formulas(client):
    answer = client.get("/admin/subscribers/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="subscribers.csv"' in answer.headers["content-disposition"]
    people = {r["email"]: r for r in rows(answer)}
    assert people["ann@example.org"]["consent_source"] == "health fair"
    assert people["ann@example.org"]["tags"] == "donors;volunteers" and people["ann@example.org"]["campaigns"] == "test"
    danger = people["'=danger@example.com"]
    assert danger["name"] == '\'=HYPERLINK("http://x")' and danger["consent_source"] == "'+1 form"
    assert danger["tags"] == "'@home"
    assert [r["email"] for r in rows(client.get("/admin/subscribers/export.csv?tag=volunteers"))] == ["ann@example.org"]


def test_the_events_and_step_exports_are_csv_files(client):
    events = client.get("/admin/exports/events.csv")
    assert events.status_code == 200 and events.text.splitlines()[0].startswith("id,occurred_at,kind")
    steps = rows(client.get("/admin/exports/steps.csv"))
    assert [(r["campaign"], r["step"]) for r in steps] == [("test", "1"), ("test", "2"), ("test", "3")]


@pytest.mark.parametrize(
    "path",
    ["/admin/subscribers", "/admin/subscribers/1", "/admin/subscribers/1/erase", "/admin/subscribers/export.csv"],
)
def test_every_page_needs_a_signed_in_admin(app, path):
    anonymous = TestClient(app, base_url="https://testserver", follow_redirects=False)
    answer = anonymous.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"


def test_enrolling_by_tag_shows_how_many_first_and_the_question_changes_nothing(client, session_factory):
    make_campaign(session_factory, status="draft", slug="spring", title="Spring")
    manage = client.get("/admin/campaigns/spring/manage")
    assert "donors (2 active)" in manage.text and "volunteers (1 active)" in manage.text
    question = client.get("/admin/campaigns/spring/enroll-tag?tag=Donors")
    assert question.status_code == 200 and "Enroll 2 subscribers tagged \u201cdonors\u201d?" in question.text
    with session_factory() as s:
        spring = s.scalar(select(Campaign.id).where(Campaign.slug == "spring"))
        assert s.scalars(select(Enrollment).where(Enrollment.campaign_id == spring)).all() == []
    done = client.post(
        "/admin/campaigns/spring/enroll", data={"csrf": form_token(question.text), "who": "tag", "tag": "donors"}
    )
    assert "2 subscribers enrolled." in done.text
    again = client.get("/admin/campaigns/spring/enroll-tag?tag=donors")
    assert "Enroll 0 subscribers" in again.text and "2 of them are in Spring already" in again.text
    unknown = client.get("/admin/campaigns/spring/enroll-tag?tag=nobody")
    assert unknown.status_code == 400 and "No active subscriber has the tag" in unknown.text


def test_an_erasure_leaves_no_tag_name_in_the_persons_audit_entries(client, session_factory):
    sid = subscriber_id(session_factory, "cat@example.net")
    token = form_token(client.get(f"/admin/subscribers/{sid}").text)
    client.post(f"/admin/subscribers/{sid}/tags", data={"csrf": token, "tag": "relapse risk"})
    client.post(f"/admin/subscribers/{sid}/erase", data={"csrf": token})
    with session_factory() as s:
        details = s.scalars(select(AuditEntry.detail).where(AuditEntry.subscriber_id == sid)).all()
    assert "tagged" in details and not any("relapse" in d for d in details)
