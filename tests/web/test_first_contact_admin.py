"""The admin as a newcomer meets it, over HTTP on the real app: errors in the admin's own design, refused forms drawn
again with what was typed and the reason beside the field, GETs of form addresses, notices, the start on the staff
member's clock, the checks panel, health before anything was sent, separate alert sentences and the events page.
(In Chromium, with screenshots: test_first_contact_browser.py.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from campaigns.db.models import AuditEntry, Campaign
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT
from tests.builders import START, Clock, enroll
from tests.insight.support import sent_campaign, sg_event
from tests.web.admin_support import admin_app, form_token, signed_in_client

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(db_url, session_factory, tmp_path, brand) -> TestClient:
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW, actor="ana")
    app = admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW), provider=RecordingProvider())
    return signed_in_client(app)


def manage(client) -> str:
    return client.get("/admin/campaigns/baclofen/manage").text


def audit_count(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def in_admin_design(html: str) -> bool:
    return '<header class="top">' in html and 'href="/admin/campaigns"' in html and "site-footer" not in html


@pytest.mark.parametrize(
    "path, says",
    [
        ("/admin/campaigns/nope/manage", "No campaign named &#39;nope&#39;."),
        ("/admin/campaigns/nope", "No campaign named &#39;nope&#39;."),
        ("/admin/campaigns/baclofen/steps/99", "Campaign &#39;baclofen&#39; has no step 99: its steps are 1 to 9."),
        ("/admin/nowhere", "There is nothing at this address."),
    ],
)
def test_errors_open_in_the_admins_own_design_in_plain_words(client, path, says):
    page = client.get(path)
    assert page.status_code == 404 and in_admin_design(page.text)
    assert says in page.text
    assert "outreach campaign" not in page.text and "crisis" not in page.text.lower()
    assert re.search(r'<a class="button-link" href="/admin/campaigns">Campaigns</a>', page.text)  # a way on


def test_an_expired_form_is_a_page_in_the_admin_design(client, session_factory):
    answer = client.post("/admin/campaigns/baclofen/archive", data={"csrf": "old"})
    assert answer.status_code == 403 and in_admin_design(answer.text)
    assert "This form was open too long" in answer.text and "the form expired or did not come" not in answer.text


@pytest.mark.parametrize(
    "path, goes_to",
    [
        ("/admin/campaigns/baclofen/schedule", "/admin/campaigns/baclofen/manage#lifecycle"),
        ("/admin/campaigns/baclofen/window", "/admin/campaigns/baclofen/manage#window"),
        ("/admin/campaigns/baclofen/enroll", "/admin/campaigns/baclofen/manage#audience"),
        ("/admin/campaigns/baclofen/steps/2/test", "/admin/campaigns/baclofen/steps/2#test-send"),
    ],
)
def test_reloading_a_forms_address_leads_back_to_its_page(client, path, goes_to):
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == goes_to


def test_a_refused_form_comes_back_as_typed_with_the_reason_beside_the_field(client, session_factory):
    page = manage(client)
    before = audit_count(session_factory)
    answer = client.post(
        "/admin/campaigns/baclofen/window",
        data={"csrf": form_token(page), "day_mon": "1", "day_sat": "1", "start_hour": "17", "end_hour": "9"},
    )
    assert answer.status_code == 400 and audit_count(session_factory) == before
    html = answer.text
    window = html.split('id="window-form"', 1)[1].split("</form>", 1)[0]
    # What was typed is kept: the two days ticked, the hours as typed (not the stored Monday-Friday 9-17).
    assert re.findall(r'name="day_(\w+)" value="1" checked', window) == ["mon", "sat"]
    assert (
        'name="start_hour" min="0" max="23" value="17"' in window
        and 'name="end_hour" min="1" max="24" value="9"' in window
    )
    # The reason, in words, beside the hours (and the field marked, focused so the page opens at it).
    error = re.search(r'<p class="field-error" id="window-hours-error">([^<]+)</p>', window).group(1)
    assert error == (
        "Sending window: it must open before it closes, and 17:00 is not before 9:00 "
        "(a window that runs past midnight is not possible)."
    )
    assert 'aria-invalid="true" aria-describedby="window-hours-error" autofocus' in window
    assert "<=" not in html and "satisfy" not in html


def test_a_tag_that_matches_nobody_is_said_beside_it_and_enrolls_nobody(client, session_factory):
    page = manage(client)
    answer = client.post(
        "/admin/campaigns/baclofen/enroll", data={"csrf": form_token(page), "who": "tag", "tag": "Families"}
    )
    assert answer.status_code == 400  # (the tags on offer are those people have: this one came from an old page)
    assert "No active subscriber has the tag &#39;families&#39;: nobody was enrolled." in answer.text
    assert "Subscribers enrolled" not in answer.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "enrolled")) == 0


def test_saved_notices_say_what_happened_beside_the_form(client):
    page = manage(client)
    answer = client.post(
        "/admin/campaigns/baclofen/steps/8",
        data={"csrf": form_token(page), "subject": "Using baclofen safely", "preheader": "p", "delay_days": "2"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/admin/campaigns/baclofen/manage?done=edited&step=8&v=2#step-8"
    html = client.get(answer.headers["location"]).text
    step8 = html.split('id="step-8"', 1)[1].split("</form>", 1)[0]
    assert '<p class="alert ok" role="status" id="message">Step 8 saved as version 2.</p>' in step8
    # Only whole numbers and fixed words come from the address: anything else is no notice at all.
    forged = client.get("/admin/campaigns/baclofen/manage?done=edited&step=<b>x</b>").text
    assert 'id="message"' not in forged


def test_the_start_is_read_on_the_staff_members_clock(client, session_factory):
    page = manage(client)
    assert 'data-utc="2026-11-30T13:00:00Z"' in page  # the suggestion, for the page's script to show locally
    refused = client.post(
        "/admin/campaigns/baclofen/schedule",
        data={"csrf": form_token(page), "start": "2026-11-29T09:00", "tz": "America/New_York"},
    )
    # Nobody enrolled yet; the past start is said first, beside the picker, with what was typed kept.
    assert refused.status_code == 400
    assert 'value="2026-11-29T09:00"' in refused.text and "data-utc=" not in refused.text.split('id="start"')[1][:200]
    assert 'name="tz" id="start-tz" value="America/New_York"' in refused.text
    assert "The start time Sun 29 Nov 2026 14:00 UTC is in the past" in refused.text
    assert "(or &#39;now&#39;)" not in refused.text  # that is the command line's way

    with session_factory.begin() as s:
        s.execute(update(Campaign).values(status="scheduled", start_at=NOW + timedelta(days=3)))
        campaign_id = s.scalar(select(Campaign.id))
    enroll(session_factory, campaign_id, 1)
    answer = client.post(
        "/admin/campaigns/baclofen/schedule",
        data={"csrf": form_token(page), "start": "2026-12-01T09:00", "tz": "America/New_York"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with session_factory() as s:
        assert s.scalar(select(Campaign.start_at)) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    shown = manage(client)
    assert '<time datetime="2026-12-01T14:00:00Z" data-local>2026-12-01 14:00 UTC</time>' in shown


def test_checks_show_before_scheduling_only_and_never_a_whole_signed_link(client, session_factory):
    checks = manage(client).split('id="checks"', 1)[1].split("</section>", 1)[0]
    # The app's own links are judged once, by the base URL they start with, not once per email with a token each.
    assert "OUTREACH_BASE_URL is https://outreach.test, a placeholder host" in checks
    assert not re.search(r"/[up]/[\w-]+\.", checks)  # no signed link a reader could use
    for status in ("running", "archived"):
        with session_factory.begin() as s:
            s.execute(update(Campaign).values(status=status))
        assert 'id="checks"' not in manage(client)


def test_health_waits_for_the_first_email_and_alerts_are_separate_sentences(db_url, session_factory, tmp_path):
    cid, d = sent_campaign(session_factory, 10)
    events = [sg_event("delivered", i, d[(i, 1)], START) for i in range(8)]
    events += [sg_event("spamreport", 0, d[(0, 1)], START), sg_event("bounce", 9, d[(9, 1)], START, type="bounce")]
    with session_factory.begin() as s:
        record_events(s, [from_sendgrid(e, START) for e in events], START, soft_bounce_limit=3)
    client = signed_in_client(admin_app(db_url, session_factory, tmp_path, clock=Clock(START + timedelta(hours=1))))
    html = client.get("/admin").text
    alert = re.search(r'<div class="alert danger" role="alert">(.*?)</div>', html, re.S).group(1)
    sentences = re.findall(r"<p>(.*?)</p>", alert, re.S)
    assert (
        len(sentences) == 3
        and sentences[0].startswith("Spam complaints are at")
        and sentences[1].startswith("Bounces are at")
    )
    assert all(s.rstrip().endswith(".") for s in sentences)
    with session_factory.begin() as s:
        s.execute(update(Campaign).where(Campaign.id == cid).values(slug="sent"))
    with session_factory.begin() as s:
        from campaigns.db.models import CampaignVersion

        fresh = Campaign(slug="fresh", title="Fresh", status="draft", created_at=START, current_version=1)
        s.add(fresh)
        s.flush()
        s.add(
            CampaignVersion(campaign_id=fresh.id, number=1, article_source="", article_format="text", created_at=START)
        )
    html = client.get("/admin").text
    fresh_row = html.split('href="/admin/campaigns/fresh"', 1)[1].split("</tr>", 1)[0]
    assert "nothing sent yet" in fresh_row and "health: ok" not in fresh_row
    assert "health: danger" in html.split('href="/admin/campaigns/sent"', 1)[1].split("</tr>", 1)[0]


def test_events_show_who_and_what_was_clicked_with_filters_and_older_pages(db_url, session_factory, tmp_path):
    _, d = sent_campaign(session_factory, 60, steps=(1, 2))
    events = [sg_event("delivered", i, d[(i, 1)], START + timedelta(minutes=i)) for i in range(60)]
    events += [sg_event("delivered", i, d[(i, 2)], START + timedelta(days=1, minutes=i), step=2) for i in range(60)]
    events += [
        sg_event("click", 4, d[(4, 2)], START + timedelta(days=2), step=2, url="https://agape.test/help?from=email")
    ]
    with session_factory.begin() as s:
        record_events(s, [from_sendgrid(e, START) for e in events], START, soft_bounce_limit=3)
    client = signed_in_client(admin_app(db_url, session_factory, tmp_path, clock=Clock(START + timedelta(days=3))))
    first = client.get("/admin/events").text
    rows = re.findall(r"<tr>\s*<td class=\"when\">", first)
    assert len(rows) == 100  # a page
    assert "https://agape.test/help?from=email" in first and "#" + str(d[(4, 2)]) not in first
    assert re.search(r"<td>subscriber \d+</td>", first) and "@example.com" not in first
    older = re.search(r'href="/admin/events\?(before=\d+)" id="older"', first).group(1)
    second = client.get(f"/admin/events?{older}").text
    assert len(re.findall(r"<tr>\s*<td class=\"when\">", second)) == 121 - 100 and 'id="older"' not in second
    clicks = client.get("/admin/events?kind=clicked&campaign=test&step=2").text
    assert len(re.findall(r"<tr>\s*<td class=\"when\">", clicks)) == 1 and "agape.test/help" in clicks
    assert '<option value="test" selected>test</option>' in clicks and 'value="2"' in clicks
    none = client.get("/admin/events?kind=clicked&step=1").text
    assert "No events here yet." in none
