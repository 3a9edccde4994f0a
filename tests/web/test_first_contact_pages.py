"""The subscriber's pages as a newcomer meets them, over HTTP on the real app: when the first email comes, error
pages with a way on, links from test emails, the preferences page's buttons, the time zone picker, and an
unsubscribe from the confirmation email counted in the campaign's stats. (In Chromium: test_first_contact_browser.py.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from campaigns.db.models import Campaign, Subscriber
from campaigns.insight.stats import campaign_stats, unmatched_events
from campaigns.tokens import SAMPLE_SUBSCRIBER
from tests.builders import make_campaign
from tests.web.pages import NOW, SQLITE_ONLY, TOKENS, add_subscriber, csrf, expired_token, snapshot

pytestmark = SQLITE_ONLY
EVERY_HOUR = (range(7), 0, 24)


def sign_up_and_confirm(client, provider, tz: str = "Europe/Madrid", before_confirming=None):
    form = client.get("/signup")
    data = {"email": "ann@example.com", "name": "Ann", "timezone": tz, "campaign": "test"}
    client.post("/signup", data={**data, "csrf_token": csrf(form.text)})
    if before_confirming:
        before_confirming()
    batch = provider.batches[-1]
    _, text = batch.content.fill(batch.recipients[0].values)
    confirm = re.search(r"http://localhost:8000(/c/[\w.-]+)", text).group(1)
    page = client.get(confirm)  # the link opens a page; its button confirms
    return client.post(confirm, data={"csrf_token": csrf(page.text)}), batch.recipients[0].values


@pytest.mark.parametrize(
    "status, start, says",
    [
        ("running", NOW - timedelta(days=7), "Your first email is on its way: it should arrive within a few minutes."),
        # Wednesday 13 January, 15:00 UTC: 4:00 PM in Madrid.
        ("scheduled", NOW + timedelta(days=2), "Your first email comes on Wednesday, January 13, at about 4:00 PM"),
        ("scheduled", NOW + timedelta(hours=3), "Your first email comes today at about 7:00 PM, your time."),
    ],
)
def test_the_confirmation_page_says_when_the_first_email_comes(
    client, session_factory, web_provider, status, start, says
):
    make_campaign(session_factory, status=status, start=start, window=EVERY_HOUR)
    page, _ = sign_up_and_confirm(client, web_provider)
    assert page.status_code == 200 and says in page.text
    assert "on its way soon" not in page.text


def test_a_paused_campaign_says_the_first_email_waits_for_it(client, session_factory, web_provider):
    make_campaign(session_factory, status="scheduled", start=NOW + timedelta(days=1), window=EVERY_HOUR)

    def pause():
        with session_factory.begin() as s:
            s.execute(update(Campaign).values(status="paused"))

    page, _ = sign_up_and_confirm(client, web_provider, before_confirming=pause)
    assert "The series is paused for the moment: your first email comes when it starts again." in page.text


def test_the_first_email_waits_for_the_sending_window_in_the_subscribers_zone(client, session_factory, web_provider):
    # Opens Monday to Friday 9-17 local time; the campaign started a week ago; it is 15:00 UTC on a Monday, so
    # 07:00 in Los Angeles: the first email comes at 9:00 AM there, "today".
    make_campaign(session_factory, status="running", start=NOW - timedelta(days=7), window=(range(5), 9, 17))
    page, _ = sign_up_and_confirm(client, web_provider, tz="America/Los_Angeles")
    assert "Your first email comes today at about 9:00 AM, your time." in page.text


def test_error_pages_offer_a_way_on_and_say_nothing_changed_only_when_something_was_refused(client, campaign_id):
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "There is nothing at this address." in missing.text
    assert "Nothing has been changed" not in missing.text
    assert 'href="https://www.example.org/agape-detox"' in missing.text or "’s website" in missing.text
    forged = client.get("/u/not-a-token")
    assert forged.status_code == 400 and "Nothing has been changed." in forged.text and "’s website" in forged.text

    sid = add_subscriber(client.app.state.context.session_factory, campaign_id, status="pending")
    expired = client.get(f"/c/{expired_token('confirm', sid, timedelta(days=8))}")
    assert expired.status_code == 400 and "This link has expired." in expired.text
    assert "Confirmation links work for 7 days. Sign up again" in expired.text
    assert re.search(r'<a class="button" href="/signup">Sign up again</a>', expired.text)
    old = client.get(f"/u/{expired_token('unsubscribe', sid, timedelta(days=400))}")
    assert old.status_code == 400 and "working unsubscribe link at the bottom" in old.text
    assert "/signup" not in old.text  # leaving is not helped by signing up again


def test_links_in_test_emails_open_a_page_that_says_so_and_change_nothing(client, session_factory, campaign_id):
    add_subscriber(session_factory, campaign_id)
    before = snapshot(session_factory)
    unsubscribe = f"/u/{TOKENS.make('unsubscribe', SAMPLE_SUBSCRIBER)}"
    preferences = f"/p/{TOKENS.make('preferences', SAMPLE_SUBSCRIBER)}"
    for answer in (
        client.get(unsubscribe),
        client.post(unsubscribe, data={"action": "unsubscribe"}),
        client.get(preferences),
        client.post(preferences, data={"action": "pause", "weeks": "4"}),
    ):
        assert answer.status_code == 200 and "This was a test email" in answer.text
        assert "no longer exists" not in answer.text and "Nothing has been changed." in answer.text
    one_click = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and one_click.text == "This was a test email: nobody was unsubscribed.\n"
    assert snapshot(session_factory) == before


def test_on_the_preferences_page_saving_is_the_one_filled_button(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    page = client.get(f"/p/{TOKENS.make('preferences', sid)}").text
    filled = re.findall(r'class="button">([^<]+)</button>', page)
    assert filled == ["Save my details"]
    assert re.search(r'value="unsubscribe" class="button button-secondary">Unsubscribe from all emails', page)


def test_the_time_zone_picker_groups_places_by_region_with_their_utc_offset(client, campaign_id):
    page = client.get("/signup").text
    groups = re.findall(r'<optgroup label="([^"]+)">', page)
    assert groups[:3] == ["Africa", "Americas", "Antarctica"] and "Europe" in groups and "Pacific Ocean" in groups
    options = re.findall(r'<option value="([^"]+)"(?: selected)?>([^<]+)</option>', page)
    assert 400 < len(options) < 450  # one per place in the tz database's zone.tab, not 600 names and aliases
    labels = dict(options)
    # NOW is in January: New York is on standard time.
    assert labels["America/New_York"] == "(UTC\N{MINUS SIGN}05:00) New York, United States"
    assert labels["Asia/Kolkata"] == "(UTC+05:30) Kolkata, India"
    assert labels["America/Argentina/Buenos_Aires"] == "(UTC\N{MINUS SIGN}03:00) Buenos Aires, Argentina"
    assert "US/Eastern" not in labels and "Etc/GMT+5" not in labels
    assert 'data-guess="true"' in page  # the browser's zone is still guessed (timezone.js)


def test_a_zone_stored_under_an_older_name_is_labelled_like_the_others(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    with session_factory.begin() as s:
        s.execute(update(Subscriber).where(Subscriber.id == sid).values(timezone="Asia/Calcutta"))
    page = client.get(f"/p/{TOKENS.make('preferences', sid)}").text
    assert '<option value="Asia/Calcutta" selected>(UTC+05:30) Calcutta</option>' in page


def test_leaving_from_the_confirmation_email_counts_in_the_campaigns_stats(client, session_factory, web_provider):
    make_campaign(session_factory, status="running", window=EVERY_HOUR)
    form = client.get("/signup")
    data = {"email": "ann@example.com", "name": "Ann", "timezone": "UTC", "campaign": "test"}
    client.post("/signup", data={**data, "csrf_token": csrf(form.text)})
    values = web_provider.batches[-1].recipients[0].values
    path = values["unsubscribe_url"].removeprefix("http://localhost:8000")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with session_factory() as s:
        (stats,) = campaign_stats(s)
        assert stats.left_before_first == 1 and stats.as_dict()["left_before_first_email"] == 1
        assert unmatched_events(s) == 0  # ours, not a provider event that matched nothing
