"""What an attacker and a careless user tried (issue 19), over HTTP on the real app, on both databases: the public
pages first, then the admin's forms. Each test failed before its fix (the point of the issue heads each group)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from campaigns.db.models import StepRow, Subscriber
from campaigns.delivery.message import build_message
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.errors import ConfigError
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import DEV_SECRET_KEY, PROJECT_ROOT, load_settings
from tests.builders import Clock
from tests.web.admin_support import admin_app, form_token, signed_in_client
from tests.web.pages import ADDRESS, SQLITE_ONLY, TOKENS, add_subscriber, csrf, snapshot, subscriber, suppression
from web.app import create_app

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STRONG = "Kq8Zt3Vm6Xp1Rw9Yn4Lb7Hc2Fd5Gs0Ja"


def sign_up(client, address: str = ADDRESS, name: str = "Maria Lopez", **extra):
    form = client.get("/signup")
    data = {
        "email": address,
        "name": name,
        "timezone": "Europe/Madrid",
        "campaign": "test",
        "csrf_token": csrf(form.text),
    }
    return client.post("/signup", data={**data, **extra})


def confirm_path(provider) -> str:
    batch = provider.batches[-1]
    found = re.search(r"(/c/[\w.-]+)", batch.content.fill(batch.recipients[0].values)[1])
    assert found
    return found.group(1)


def open_confirmation(client, path: str):
    """What a person does with the link: open it, and press the page's button if it has one."""
    page = client.get(path)
    if 'name="csrf_token"' not in page.text:
        return page
    return client.post(path, data={"csrf_token": csrf(page.text)})


def one_click(client, sid: int):
    return client.post(
        f"/u/{TOKENS.make('unsubscribe', sid)}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


# 1. An old confirmation link re-subscribed someone who left ----------------------------------------------------------


def test_an_old_confirmation_link_does_not_resubscribe_someone_who_left(
    client, session_factory, web_provider, campaign_id
):
    sign_up(client)
    path = confirm_path(web_provider)
    assert open_confirmation(client, path).status_code == 200
    sid = subscriber(session_factory, 1).id
    assert one_click(client, sid).status_code == 200
    left = snapshot(session_factory)
    assert subscriber(session_factory, sid).status == "unsubscribed" and suppression(session_factory) is not None
    again = open_confirmation(client, path)
    assert again.status_code == 409 and "used already" in again.text
    assert snapshot(session_factory) == left  # still unsubscribed, still suppressed, enrollments still stopped


def test_a_link_scanner_opening_a_confirmation_link_confirms_nothing(
    client, session_factory, web_provider, campaign_id
):
    sign_up(client)
    path = confirm_path(web_provider)
    before = snapshot(session_factory)
    for _ in range(3):
        client.get(path)
        client.head(path)
    assert snapshot(session_factory) == before
    assert subscriber(session_factory, 1).status == "pending"


# 2. The public development key -------------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "key",
    [
        DEV_SECRET_KEY,
        "short-but-random-Zx8K",
        "a" * 48,
        "changeme-please-changeme-please-0123",
        "Kq8Zt3Vm6Xp1 Rw9Yn4Lb7Hc2Fd5Gs0Ja",
    ],
)
def test_a_web_app_others_can_reach_refuses_a_forgeable_key(session_factory, tmp_path, key):
    settings = load_settings(
        base_url="https://outreach.example.org", secret_key=key, address_key=STRONG, outbox_dir=tmp_path
    )
    with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY") as err:
        create_app(settings, session_factory, RecordingProvider())
    assert "\n" not in str(err.value) and "secrets.token_urlsafe" in str(err.value)


@SQLITE_ONLY
def test_the_development_key_is_only_for_localhost(session_factory, tmp_path):
    local = load_settings(base_url="http://localhost:8000", outbox_dir=tmp_path)  # the built-in keys
    assert create_app(local, session_factory, RecordingProvider())
    public = load_settings(base_url="https://outreach.example.org", secret_key=STRONG, outbox_dir=tmp_path)
    with pytest.raises(ConfigError, match="OUTREACH_ADDRESS_KEY"):
        create_app(public.model_copy(update={"address_key": "dev-only-address-key-not-secret"}), session_factory)
    assert create_app(public.model_copy(update={"address_key": STRONG[::-1]}), session_factory, RecordingProvider())


# 4. Confirmation-email bombing -------------------------------------------------------------------------------------


def test_twenty_sign_ups_for_one_victim_from_one_ipv6_network_send_one_email(
    web_app, session_factory, web_provider, campaign_id
):
    proxy = TestClient(web_app, client=("127.0.0.1", 40000))  # the trusted proxy, passing each client on
    answers = [
        proxy.post(
            "/api/signup",
            json={"email": "victim@example.com", "name": "WIN A PRIZE at evil.example", "timezone": "UTC"},
            headers={"X-Forwarded-For": f"2001:db8:1:2::{i + 1:x}"},
        ).status_code
        for i in range(20)
    ]
    assert answers[:5] == [202] * 5 and set(answers[5:]) == {429}  # one /64 is one client
    assert len(web_provider.batches) == 1  # one address, one email an hour
    [recipient] = web_provider.batches[0].recipients
    html, text = web_provider.batches[0].content.fill(recipient.values)
    assert recipient.name is None and "PRIZE" not in html + text  # the attacker's text reaches nobody


def test_the_address_cap_holds_across_web_processes_and_networks(session_factory, web_settings, web_clock, campaign_id):
    providers = [RecordingProvider(), RecordingProvider()]
    apps = [create_app(web_settings, session_factory, p, web_clock) for p in providers]
    for i in range(6):  # two processes, six networks
        client = TestClient(apps[i % 2], client=("127.0.0.1", 40000))
        response = client.post(
            "/api/signup",
            json={"email": "victim@example.com", "timezone": "UTC"},
            headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
        )
        assert response.status_code == 202
    assert sum(len(p.batches) for p in providers) == 1


def test_forwarded_for_counts_only_from_a_trusted_proxy(web_app, session_factory, web_provider, campaign_id):
    stranger = TestClient(web_app, client=("203.0.113.50", 40000))
    answers = [
        stranger.post(
            "/api/signup",
            json={"email": f"person{i}@example.com", "timezone": "UTC"},
            headers={"X-Forwarded-For": f"192.0.2.{i + 1}"},  # made up: ignored
        ).status_code
        for i in range(7)
    ]
    assert answers == [202] * 5 + [429] * 2


# 8 and 9. Control characters, NUL, lone surrogates, odd digits ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Ann\x00Lee", "AnnLee"),
        ("Ann\x07Lee", "AnnLee"),
        ("Ann\x1b[2JLee", "Ann[2JLee"),  # the ESC goes; what is left is plain text
        ("Ann\u202eeeL", "AnneeL"),  # no right-to-left override
        ("Ann\x9bLee", "AnnLee"),  # a C1 control (8-bit CSI)
        ("Ann\r\nBcc: x@evil.example", "Ann Bcc: x@evil.example"),
    ],
)
def test_control_characters_in_a_sign_up_never_reach_storage(
    client, session_factory, web_provider, campaign_id, name, stored
):
    assert sign_up(client, name=name).status_code == 200
    assert open_confirmation(client, confirm_path(web_provider)).status_code == 200
    assert subscriber(session_factory, 1).name == stored


def test_a_nul_in_the_campaign_is_a_clear_answer_not_a_server_error(client, session_factory, campaign_id):
    assert client.get("/signup?campaign=te%00st").status_code == 400
    answer = sign_up(client, campaign="te\x00st")
    assert answer.status_code == 404 and "not open" in answer.text
    api = client.post("/api/signup", json={"email": ADDRESS, "timezone": "UTC", "campaign": "te\x00st"})
    assert api.status_code == 404


def test_a_lone_surrogate_in_json_is_dropped_not_a_server_error(client, session_factory, web_provider, campaign_id):
    body = b'{"email": "maria.lopez@example.com", "name": "Mar\\ud800ia", "timezone": "UTC"}'
    answer = client.post("/api/signup", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 202
    with session_factory() as s:
        assert s.scalar(select(Subscriber.name)) == "Maria"


def test_preferences_take_no_nul_and_no_superscript_weeks(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    url = f"/p/{TOKENS.make('preferences', sid)}"
    token = csrf(client.get(url).text)
    saved = client.post(url, data={"action": "profile", "name": "Ma\x00ria", "timezone": "UTC", "csrf_token": token})
    assert saved.status_code == 303 and subscriber(session_factory, sid).first_name == "Maria"  # the greeting name
    for weeks in ("²", "٣", "10000000000000000000000"):
        answer = client.post(url, data={"action": "pause", "weeks": weeks, "csrf_token": token})
        assert answer.status_code == 400 and "Please choose a pause" in answer.text
    assert subscriber(session_factory, sid).paused_until is None


def test_a_server_error_page_carries_the_security_headers(web_app, session_factory, campaign_id):
    with session_factory.begin() as s:  # a real failure: a column the page reads is gone (not the whole schema)
        s.execute(text("ALTER TABLE campaigns RENAME COLUMN title TO title_gone"))
    answer = TestClient(web_app, raise_server_exceptions=False).get("/signup")
    assert answer.status_code == 500 and "Something went wrong" in answer.text and "Traceback" not in answer.text
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"):
        assert header in answer.headers


# 10. Internationalised addresses ----------------------------------------------------------------------------------


def test_an_internationalised_domain_is_sent_in_punycode(client, session_factory, web_provider, campaign_id):
    assert sign_up(client, address="idn@bücher.de").status_code == 200
    [batch] = web_provider.batches
    [recipient] = batch.recipients
    assert recipient.email == "idn@xn--bcher-kva.de"
    html, body = batch.content.fill(recipient.values)
    wire = build_message(batch, recipient, now=subscriber(session_factory, 1).created_at, html=html, text=body)
    to = bytes(wire).split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0]
    assert to == b"idn@xn--bcher-kva.de"  # no encoded word inside the address
    assert subscriber(session_factory, 1).email == "idn@bücher.de"  # shown as it was typed


def test_a_non_ascii_local_part_is_refused_with_a_reason(client, session_factory, web_provider, campaign_id):
    form = sign_up(client, address="josé@example.com")
    assert form.status_code == 400 and "accented or non-Latin letters before the @" in form.text
    api = client.post("/api/signup", json={"email": "josé@example.com", "timezone": "UTC"})
    assert api.status_code == 400 and api.json()["field"] == "email" and "before the @" in api.json()["error"]
    assert web_provider.batches == []


# 11. The smaller ones ----------------------------------------------------------------------------------------------


def test_an_unconfirmed_sign_up_leaves_an_unsubscribed_persons_consent_alone(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    with session_factory.begin() as s:
        s.get(Subscriber, sid).consent_source = "paper form at the 2025 open day"
    one_click(client, sid)
    client.post("/api/signup", json={"email": ADDRESS, "timezone": "UTC"})
    assert subscriber(session_factory, sid).consent_source == "paper form at the 2025 open day"


def test_head_on_an_unsubscribe_link_answers_like_get_and_changes_nothing(client, session_factory, campaign_id):
    sid = add_subscriber(session_factory, campaign_id)
    before = snapshot(session_factory)
    head = client.head(f"/u/{TOKENS.make('unsubscribe', sid)}")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/html")
    assert snapshot(session_factory) == before


def test_the_trailing_slash_redirect_never_names_another_host(client):
    answer = client.get("/brand.css/?v=2", headers={"Host": "evil.example"})
    assert answer.status_code in (307, 308) and answer.headers["location"] == "/brand.css?v=2"
    assert client.get("//evil.example/", headers={"Host": "evil.example"}).status_code == 404


# 9, on the admin side: numbers past any column, a NUL in a form ---------------------------------------------------

BIG = "100000000000000000000"  # 10**20: more than PostgreSQL's integer holds


@pytest.fixture
def admin(db_url, session_factory, tmp_path, brand) -> TestClient:
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW, actor="ana")
    return signed_in_client(
        admin_app(db_url, session_factory, tmp_path, clock=Clock(NOW), provider=RecordingProvider())
    )


@pytest.mark.parametrize(
    "path",
    [
        "/admin/campaigns/baclofen/steps/99",
        f"/admin/campaigns/baclofen/steps/{BIG}",
        f"/admin/campaigns/baclofen/steps/2?version={BIG}",
        f"/admin/campaigns/baclofen/steps/{BIG}/email",
        f"/admin/campaigns/baclofen/diff?b={BIG}",
        f"/admin/campaigns/baclofen/diff?a={BIG}&b=1",
        "/admin/campaigns/bac%00lofen/manage",
        "/admin/campaigns/baclofen%0A/manage",
    ],
)
def test_admin_pages_answer_a_number_or_name_that_is_not_there_with_a_4xx(admin, path):
    answer = admin.get(path, follow_redirects=False)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])


@pytest.mark.parametrize("query", ["step=%C2%B2", f"step={BIG}", f"before={BIG}", "before=%D9%A3&step=%D9%A3"])
def test_the_events_page_ignores_a_filter_that_is_no_number(admin, query):
    answer = admin.get(f"/admin/events?{query}")
    assert answer.status_code == 200 and "Events" in answer.text


def test_admin_forms_refuse_numbers_past_any_column_and_clean_text(admin, session_factory):
    manage = admin.get("/admin/campaigns/baclofen/manage").text
    token = form_token(manage)
    before = snapshot(session_factory)
    for number in ("99", BIG):
        answer = admin.post(
            f"/admin/campaigns/baclofen/steps/{number}", data={"subject": "New", "csrf": token}, follow_redirects=False
        )
        assert 400 <= answer.status_code < 500 and "no step" in answer.text
    for cap in (BIG, "²", str(10**9)):
        window = {"day_mon": "on", "start_hour": "9", "end_hour": "17", "daily_cap": cap, "csrf": token}
        answer = admin.post("/admin/campaigns/baclofen/window", data=window, follow_redirects=False)
        assert 400 <= answer.status_code < 500 and "daily cap" in answer.text, cap
    window = {"day_mon": "on", "start_hour": "²", "end_hour": "17", "daily_cap": "", "csrf": token}
    assert 400 <= admin.post("/admin/campaigns/baclofen/window", data=window, follow_redirects=False).status_code < 500
    step = {"subject": "New", "delay_days": "²", "csrf": token}
    assert 400 <= admin.post("/admin/campaigns/baclofen/steps/2", data=step, follow_redirects=False).status_code < 500
    assert snapshot(session_factory) == before
    edited = admin.post(
        "/admin/campaigns/baclofen/steps/2",
        data={"subject": "Wha\x00t bac\x1blofen does", "preheader": "", "csrf": token},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    with session_factory() as s:
        subjects = set(s.scalars(select(StepRow.subject).where(StepRow.number == 2)))
    assert "What baclofen does" in subjects
