"""The preference page: pause, name and time zone, leave, download my data, erase (with a confirm step)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from campaigns.delivery import state as ds
from tests.web.pages import (
    ADDRESS,
    NOW,
    SQLITE_ONLY,
    TOKENS,
    add_subscriber,
    bad_tokens,
    csrf,
    delivery_statuses,
    snapshot,
    subscriber,
    suppression,
)

pytestmark = SQLITE_ONLY


@pytest.fixture
def sid(session_factory, campaign_id) -> int:
    return add_subscriber(session_factory, campaign_id, deliveries=(ds.ACCEPTED, ds.QUEUED))


@pytest.fixture
def url(sid) -> str:
    return f"/p/{TOKENS.make('preferences', sid)}"


def post(client, url: str, **data):
    return client.post(url, data={**data, "csrf_token": csrf(client.get(url).text)})


def test_the_page_greets_by_first_name_and_masks_the_address(client, url):
    page = client.get(url)
    assert page.status_code == 200
    assert "Hi Maria." in page.text and "m***@example.com" in page.text
    assert ADDRESS not in page.text and "Lopez" not in page.text.split("<main", 1)[1].split('name="name"')[0]
    for action in ("pause", "profile", "unsubscribe", "export", "erase"):
        assert f'value="{action}"' in page.text


def test_pause_holds_the_emails_and_can_be_ended(client, session_factory, sid, url):
    answer = post(client, url, action="pause", weeks="4")
    assert answer.status_code == 303 and answer.headers["location"] == f"{url}?done=paused"
    assert subscriber(session_factory, sid).paused_until == NOW + timedelta(weeks=4)
    # the email queued but not sent is held back (the tick makes it again after the pause)
    assert delivery_statuses(session_factory, sid) == [ds.ACCEPTED]
    page = client.get(answer.headers["location"])
    assert "Your emails are paused." in page.text and "paused until Monday 8 February 2027" in page.text
    assert post(client, url, action="resume").status_code == 303
    assert subscriber(session_factory, sid).paused_until is None


def test_a_bad_pause_is_refused(client, session_factory, sid, url):
    answer = post(client, url, action="pause", weeks="1000")
    assert answer.status_code == 400 and "Please choose a pause" in answer.text
    assert subscriber(session_factory, sid).paused_until is None


def test_name_and_time_zone_can_be_changed(client, session_factory, sid, url):
    assert post(client, url, action="profile", name="  Mari  ", timezone="Europe/Lisbon").status_code == 303
    sub = subscriber(session_factory, sid)
    # The field is the first name the emails greet by; the full name on the To: line stays as imported.
    assert (sub.first_name, sub.name, sub.timezone) == ("Mari", "Maria Lopez", "Europe/Lisbon")
    assert 'value="Mari"' in client.get(url).text  # the form shows it back
    bad = post(client, url, action="profile", name="Mari", timezone="Europe/Atlantis")
    assert bad.status_code == 400 and 'id="timezone-error"' in bad.text
    assert subscriber(session_factory, sid).timezone == "Europe/Lisbon"


def test_leave_every_list_from_the_preferences(client, session_factory, sid, url):
    answer = post(client, url, action="unsubscribe")
    assert answer.status_code == 303
    sub = subscriber(session_factory, sid)
    assert (sub.status, sub.unsubscribe_source) == ("unsubscribed", "preferences")
    assert delivery_statuses(session_factory, sid) == [ds.ACCEPTED, ds.CANCELLED]
    assert suppression(session_factory).reason == "unsubscribed"
    assert "You are unsubscribed." in client.get(answer.headers["location"]).text


def test_download_my_data(client, sid, url):
    answer = post(client, url, action="export")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(answer.content)
    assert data["subscriber"]["email"] == ADDRESS and data["subscriber"]["name"] == "Maria Lopez"
    assert [e["status"] for e in data["emails"]] == [ds.ACCEPTED, ds.QUEUED]
    assert data["enrollments"][0]["campaign"] == "test"


def test_erase_asks_first_then_erases(client, session_factory, sid, url):
    ask = post(client, url, action="erase")
    assert ask.status_code == 200 and 'value="erase_confirm"' in ask.text
    assert subscriber(session_factory, sid).email == ADDRESS  # nothing erased yet
    done = client.post(url, data={"action": "erase_confirm", "csrf_token": csrf(ask.text)})
    assert done.status_code == 200 and "Your data is erased" in done.text
    sub = subscriber(session_factory, sid)
    assert (sub.email, sub.name, sub.status) == (None, None, "erased")
    assert suppression(session_factory).reason == "erased"
    assert "Nothing is stored about you" in client.get(url).text


@pytest.mark.parametrize("action", ["pause", "profile", "unsubscribe", "export", "erase_confirm"])
def test_every_action_needs_the_csrf_token(client, session_factory, url, action):
    client.get(url)  # the browser has its cookie, but the form field is missing
    before = snapshot(session_factory)
    answer = client.post(url, data={"action": action, "weeks": "4", "name": "X", "timezone": "UTC"})
    assert answer.status_code == 403 and ADDRESS not in answer.text
    assert snapshot(session_factory) == before


@pytest.mark.parametrize("kind", ["forged", "altered", "garbage", "expired", "wrong purpose"])
def test_a_bad_preferences_token_changes_nothing(client, session_factory, sid, url, kind):
    token = bad_tokens("preferences", sid, wrong_purpose="unsubscribe")[kind]
    before = snapshot(session_factory)
    assert client.get(f"/p/{token}").status_code == 400
    answer = client.post(f"/p/{token}", data={"action": "export", "csrf_token": csrf(client.get(url).text)})
    assert answer.status_code == 400 and ADDRESS not in answer.text
    assert snapshot(session_factory) == before
