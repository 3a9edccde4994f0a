"""The series editor over HTTP (in process): create from a file, pasted text or an address (refusals keep what was
typed), keep and drop blocks, save, merge, preview an unsaved draft, the confirmations, and who may do what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.db.models import Campaign, CampaignVersion, StepRow, Subscriber
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT
from tests.builders import KEYS, Clock
from tests.web.admin_support import add_staff, admin_app, form_token, signed_in_client, staff_client

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(db_url, session_factory, tmp_path, brand):
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW, actor="ana")
        s.add(
            Subscriber(
                email="ann@example.com",
                email_key=KEYS.of("ann@example.com"),
                name="Ann",
                timezone="UTC",
                status="active",
                created_at=NOW,
            )
        )
    return admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW), provider=RecordingProvider())


@pytest.fixture
def client(app) -> TestClient:
    return signed_in_client(app)


def editor_form(html: str) -> dict[str, str]:
    """Every field of the editor's form as the browser would send it."""
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<input name="([^"]+)" id="[^"]+" (?:maxlength="\d+" )?value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(
        r'<input type="number" name="([^"]+)" id="[^"]+" min="1" max="365" value="(\d+)"', html
    ):
        fields[name] = value
    for name, value in re.findall(r'<textarea name="([^"]+)" id="[^"]+" rows="\d+"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = value
    import html as h

    return {k: h.unescape(v) for k, v in fields.items()}


def count_versions(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(CampaignVersion))


def test_create_from_pasted_text_proposes_a_slug_and_opens_the_review(client, session_factory):
    page = client.get("/admin/campaigns/new")
    text = SEED.read_text()
    answer = client.post(
        "/admin/campaigns/new",
        data={"csrf": form_token(page.text), "source": "paste", "pasted": text, "delay": "3"},
    )
    assert answer.status_code == 400 and 'id="new-title-error">The pasted text states no title' in answer.text
    answer = client.post(
        "/admin/campaigns/new",
        data={"csrf": form_token(page.text), "source": "paste", "pasted": text, "title": "Baclofen misuse"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    slug = answer.headers["location"].split("/")[3]
    assert slug == "baclofen-misuse" and answer.headers["location"].endswith("/article?done=created&n=9")
    review = client.get(answer.headers["location"])
    assert "Draft campaign created: 9 emails planned" in review.text
    assert 'class="block kind-heading dropped"' in review.text and "left out: " in review.text
    with session_factory() as s:
        assert s.scalar(select(Campaign.status).where(Campaign.slug == slug)) == "draft"


def test_create_from_a_file_and_refusals_keep_what_was_typed(client, session_factory):
    token = form_token(client.get("/admin/campaigns/new").text)
    made = client.post(
        "/admin/campaigns/new",
        data={"csrf": token, "source": "file", "slug": "from-a-file", "title": "Baclofen, plainly"},
        files={"file": ("baclofen.txt", SEED.read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/admin/campaigns/from-a-file/article")
    refused = client.post(
        "/admin/campaigns/new",
        data={"csrf": token, "source": "file", "slug": "other", "title": "Kept title"},
        files={"file": ("notes.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert refused.status_code == 400
    assert re.search(r'<p class="field-error" id="new-file-error">Notes.pdf: a .pdf is not an article', refused.text)
    assert 'value="Kept title"' in refused.text and 'value="other"' in refused.text
    taken = client.post(
        "/admin/campaigns/new",
        data={"csrf": token, "source": "paste", "pasted": "Some text\n\nMore", "slug": "from-a-file", "title": "T"},
    )
    assert taken.status_code == 400 and "exists already" in taken.text and "Some text" in taken.text
    address = client.post(
        "/admin/campaigns/new", data={"csrf": token, "source": "url", "url": "http://127.0.0.1/article"}
    )
    assert address.status_code == 400 and 'id="new-url-error">Give the article' in address.text
    local = client.post(
        "/admin/campaigns/new", data={"csrf": token, "source": "url", "url": "https://127.0.0.1:9/article"}
    )
    assert local.status_code == 400 and "private or local address" in local.text  # the SSRF guard, on by default
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 2


def test_a_bad_merge_tag_is_refused_beside_its_field_and_the_typing_kept(client, session_factory):
    page = client.get("/admin/campaigns/baclofen/series")
    data = editor_form(page.text)
    assert data["emails"] == "9" and data["name"]
    data["e3-subject"] = "Hi {{ nmae }}, a question"
    data["e4-s1-body"] = data["e4-s1-body"] + "\n\nA sentence staff typed."
    answer = client.post("/admin/campaigns/baclofen/series", data={**data, "op": "save"})
    assert answer.status_code == 400
    assert re.search(
        r'id="e3-subject-error">Unknown merge tag `nmae` in the subject of email 3; allowed: first_name', answer.text
    )
    assert 'value="Hi {{ nmae }}, a question"' in answer.text and "A sentence staff typed." in answer.text
    assert count_versions(session_factory) == 1


def test_saving_merging_and_the_diff(client, session_factory):
    data = editor_form(client.get("/admin/campaigns/baclofen/series").text)
    data["e3-subject"] = "{{ first_name }}, is baclofen addictive?"
    data["e4-s1-body"] = data["e4-s1-body"] + "\n\nA sentence staff typed."
    saved = client.post("/admin/campaigns/baclofen/series", data={**data, "op": "save"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved&v=2")
    again = client.get(saved.headers["location"])
    assert "Saved as version 2." in again.text and 'value="{{ first_name }}, is baclofen addictive?"' in again.text
    stale = client.post("/admin/campaigns/baclofen/series", data={**data, "op": "save"})
    assert stale.status_code == 409 and "changed while you edited it" in stale.text
    data = editor_form(again.text)
    merged = client.post("/admin/campaigns/baclofen/series", data={**data, "op": "merge-4"}, follow_redirects=False)
    assert merged.headers["location"].endswith("?done=merged&v=3#e4")
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StepRow).where(StepRow.version_id == 3)) == 8
        subject = s.scalar(select(StepRow.subject).where(StepRow.version_id == 2, StepRow.number == 3))
    assert subject == "%%first_name%%, is baclofen addictive?"
    diff = client.get("/admin/campaigns/baclofen/diff?a=1&b=2")
    assert "<ins>A sentence staff typed.</ins>" in diff.text and "is baclofen addictive?" in diff.text


def test_the_preview_shows_an_unsaved_draft_in_a_sandbox(client, session_factory):
    data = editor_form(client.get("/admin/campaigns/baclofen/series").text)
    data["e3-subject"] = "{{ first_name }}, a new subject"
    data["e3-s1-body"] = "Words typed a moment ago, with [a link](https://example.org/x)."
    data["preview_email"] = "3"
    html = client.post("/admin/campaigns/baclofen/series/preview?part=html", data=data)
    assert "sandbox" in html.headers["content-security-policy"]
    assert "Words typed a moment ago" in html.text and 'href="https://example.org/x"' in html.text
    text = client.post("/admin/campaigns/baclofen/series/preview?part=text", data=data)
    assert text.text.startswith("Subject: Sam, a new subject") or text.text.startswith("Subject: ")
    assert "a link (https://example.org/x)" in text.text and "{{" not in text.text
    data["e3-s1-body"] = "Bad *|FNAME|* tag"
    bad = client.post("/admin/campaigns/baclofen/series/preview?part=html", data=data)
    assert "is a Mailchimp merge tag" in bad.text
    assert count_versions(session_factory) == 1  # a preview stores nothing


def test_dropping_a_block_plans_again(client, session_factory):
    review = client.get("/admin/campaigns/baclofen/article")
    kept = re.findall(r'name="keep" value="([^"]+)" checked', review.text)
    first_paragraph = re.search(r'kind-paragraph" id="block-([^"]+)"', review.text).group(1)
    answer = client.post(
        "/admin/campaigns/baclofen/article",
        data={"csrf": form_token(review.text), "keep": [k for k in kept if k != first_paragraph]},
        follow_redirects=False,
    )
    assert answer.headers["location"].endswith("/series?done=replanned&v=2")
    again = client.get("/admin/campaigns/baclofen/article")
    assert f'class="block kind-paragraph dropped" id="block-{first_paragraph}"' in again.text
    assert "dropped by you" in again.text


def test_archive_and_enroll_all_ask_first_with_numbers(client, session_factory):
    manage = client.get("/admin/campaigns/baclofen/manage")
    assert 'href="/admin/campaigns/baclofen/confirm/archive"' in manage.text
    assert 'action="/admin/campaigns/baclofen/confirm/enroll-all"' in manage.text
    enroll = client.get("/admin/campaigns/baclofen/confirm/enroll-all")
    assert "Enroll 1 subscriber in" in enroll.text and "1 active subscriber can be mailed" in enroll.text
    archive = client.get("/admin/campaigns/baclofen/confirm/archive")
    assert "Nobody is waiting for an email of this series." in archive.text
    with session_factory() as s:
        assert s.scalar(select(Campaign.status)) == "draft"  # a GET changes nothing


def test_a_viewer_reads_the_editor_but_cannot_save_or_create(app, session_factory):
    add_staff(session_factory, "vi@example.org", "viewer")
    viewer = staff_client(app, "vi@example.org")
    page = viewer.get("/admin/campaigns/baclofen/series")
    assert page.status_code == 200 and 'id="save"' not in page.text
    assert viewer.get("/admin/campaigns/new").status_code == 403
    data = editor_form(page.text)
    assert viewer.post("/admin/campaigns/baclofen/series", data={**data, "op": "save"}).status_code == 403
    assert count_versions(session_factory) == 1
