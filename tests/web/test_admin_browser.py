"""The dashboard in headless Chromium (Debian's /usr/bin/chromium via Playwright's Python API; never
`playwright install`): sign in, see the overview, a campaign with its charts drawn, and the suppression search.
Screenshots go to tests/artifacts/admin/ (not committed).

The app is the real one (create_app) served by uvicorn on 127.0.0.1 with a SQLite database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from campaigns.db.models import Campaign, Delivery
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.browser import ARTIFACTS, browser_page, needs_chromium, screenshot, served
from tests.builders import START, Clock
from tests.insight.support import sent_campaign, sg_event
from tests.web.admin_support import PASSWORD, admin_app

PEOPLE = 400
NOW = START + timedelta(days=7, hours=3)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    needs_chromium,
]


def seed(factory) -> None:
    """400 people through three steps two days apart, with a realistic spread of events (two complaints: 0.19 %)."""
    _, d = sent_campaign(factory, PEOPLE, steps=(1, 2, 3))
    reached = {1: range(PEOPLE), 2: range(PEOPLE - 40), 3: range(PEOPLE - 90)}
    with factory.begin() as s:
        s.execute(update(Campaign).values(title="Baclofen misuse: what to know", slug="baclofen-misuse"))
        for step in (1, 2, 3):
            s.execute(
                update(Delivery)
                .where(Delivery.step_number == step)
                .values(sent_at=START + timedelta(days=2 * (step - 1), minutes=1))
            )
            gone = [d[(i, step)] for i in range(PEOPLE) if i not in reached[step]]
            s.execute(
                update(Delivery)
                .where(Delivery.id.in_(gone))
                .values(status="queued", sent_at=None, due_at=NOW + timedelta(hours=6))
            )
    events = []
    for step, people in reached.items():
        day = START + timedelta(days=2 * (step - 1))
        for i in people:
            at = day + timedelta(hours=i % 40)
            if i % 97 == 5:
                events.append(
                    sg_event(
                        "bounce", i, d[(i, step)], at, step=step, type="bounce", reason="550 5.1.1 mailbox unavailable"
                    )
                )
                continue
            events.append(sg_event("delivered", i, d[(i, step)], at, step=step))
            if i % 9 < 4:
                events.append(sg_event("open", i, d[(i, step)], at + timedelta(hours=3), step=step))
            if i % 13 == 0:
                events.append(sg_event("click", i, d[(i, step)], at + timedelta(hours=4), step=step))
    events.append(sg_event("spamreport", 7, d[(7, 2)], START + timedelta(days=3), step=2))
    events.append(sg_event("spamreport", 11, d[(11, 3)], START + timedelta(days=5), step=3))
    events.append(sg_event("unsubscribe", 8, d[(8, 2)], START + timedelta(days=3), step=2))
    with factory.begin() as s:
        record_events(s, [from_sendgrid(e, START) for e in events], START, soft_bounce_limit=3)


@pytest.fixture
def server(db_url, session_factory, tmp_path):
    seed(session_factory)

    def make_app(base: str):
        return admin_app(
            db_url, session_factory, tmp_path, base_url=base, clock=Clock(NOW), provider=RecordingProvider()
        )

    with served(make_app) as base:
        yield base


@pytest.fixture
def page():
    with browser_page({"width": 1360, "height": 900}) as page:
        yield page


def charts_drawn(page) -> int:
    return page.evaluate("Array.from(document.querySelectorAll('canvas')).filter(c => Chart.getChart(c)).length")


def test_dashboard_in_the_browser(server, page):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{server}/admin")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin")
    assert "baclofen-misuse" in page.text_content("table")
    assert "health: warning" in page.text_content("table")  # two complaints in ~1,050 delivered: near the limit
    assert charts_drawn(page) == 2  # emails per day, and bounces/complaints/unsubscribes per day
    screenshot(page, "admin", "01-overview")

    page.click("a[href='/admin/campaigns/baclofen-misuse']")
    page.wait_for_url("**/admin/campaigns/baclofen-misuse")
    assert charts_drawn(page) == 3  # the funnel and the two per-day charts
    assert page.locator(".meter.warning").count() == 1  # complaints near the limit, bounces fine
    assert "Near the limit" in page.text_content(".meter.warning")
    screenshot(page, "admin", "02-campaign")

    page.click("nav a[href='/admin/suppressions']")
    page.fill("input[name=address]", "person7@example.com")
    page.click("form.inline button[type=submit]")
    assert "complaint" in page.text_content(".alert")
    assert "person7@example.com" not in page.content()
    screenshot(page, "admin", "03-suppressions")

    page.click("nav a[href='/admin/queue']")
    screenshot(page, "admin", "04-queue")
    assert problems == []  # no script errors and no Content-Security-Policy refusals


def test_set_aside_webhook_items_are_shown_on_the_events_page(server, session_factory):
    """Issue 19, point 7: what the webhook could not read is kept and shown, at 1280 px and 375 px."""
    from campaigns.insight.events import store_set_aside
    from campaigns.insight.sendgrid_events import read_sendgrid_batch

    deep = "[" * 3000 + "]" * 3000
    body = f'["bounce for ann@example.org", {deep}, {{"event": "open", "sg_event_id": "ok-1"}}]'.encode()
    with session_factory.begin() as s:
        store_set_aside(s, "sendgrid", read_sendgrid_batch(body, NOW).set_aside, NOW)
    for width, name in ((1280, "05-events-set-aside"), (375, "05-events-set-aside-375")):
        with browser_page({"width": width, "height": 900}) as page:
            page.goto(f"{server}/admin/login")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{server}/admin/events")
            section = page.locator("#set-aside")
            section.get_by_role("heading", name="Set aside (2)").wait_for()
            assert "nested too deeply to read" in section.inner_text() and "ann@example.org" not in page.content()
            # The raw text wraps inside its cell: the section is no wider than its own box.
            assert section.evaluate("e => e.scrollWidth <= e.clientWidth")
            assert page.get_by_role("link", name="2 webhook items could not be read").is_visible()
            screenshot(page, "admin", name)
            section.screenshot(path=str(ARTIFACTS / "admin" / f"{name}-section.png"))  # the part this is about
