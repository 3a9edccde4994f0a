"""First contact in headless Chromium (Debian's, driven by Playwright; never `playwright install`): the admin on a
staff member's own clock and on a phone, refused forms, notices, error pages, the funnel, a test email end to end,
and the subscriber's pages at 375 px. Screenshots go to tests/artifacts/first-contact/.

The apps are the real ones (create_app) served by uvicorn on 127.0.0.1, on SQLite; the same pages are checked over
HTTP in test_first_contact_admin.py and test_first_contact_pages.py.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.db.models import Campaign, Subscriber
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT, load_settings
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import KEYS, Clock, make_campaign
from tests.insight.support import sg_event
from tests.web.admin_support import PASSWORD, admin_app
from tests.web.pages import NOW as PAGES_NOW
from tests.web.pages import SECRET, TOKENS, expired_token
from web.app import create_app

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday: 7:00 AM in New York
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 812}
FOLDER = "first-contact"

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True), needs_chromium]


def shot(page, name: str, *, full_page: bool = True) -> None:
    screenshot(page, FOLDER, name, full_page=full_page)


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin")


def in_view(page, selector: str) -> bool:
    """Whether the element is inside the window as it is scrolled now (a notice nobody has to look for)."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def admin(db_url, session_factory, brand, tmp_path):
    """The admin on http://127.0.0.1:<port> with the seed campaign (a draft) and three active subscribers; the
    outbox provider writes test emails to tmp_path/outbox."""
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW - timedelta(hours=1), actor="ana")
        for name in ("ann", "bob", "cat"):
            address = f"{name}@example.com"
            s.add(
                Subscriber(
                    email=address,
                    email_key=KEYS.of(address),
                    name=name.title(),
                    timezone="America/New_York",
                    status="active",
                    created_at=NOW,
                )
            )

    def make_app(base: str):
        return admin_app(db_url, session_factory, tmp_path, base_url=base, clock=Clock(NOW))

    with served(make_app) as base:
        yield base


def test_the_admin_on_a_staff_members_own_clock_with_refused_forms_and_notices(admin, session_factory):
    base = admin
    with browser_page(DESKTOP, timezone_id="America/New_York", locale="en-US") as page:
        sign_in(page, base)
        page.goto(f"{base}/admin/campaigns/baclofen/manage")
        # The suggested start (13:00 UTC) on the staff member's clock, and what it means in UTC.
        assert page.text_content("#start-zone") == "(your time, America/New York)"
        assert page.input_value("#start") == "2026-11-30T08:00"
        assert page.input_value("#start-tz") == "America/New_York"
        assert page.text_content("#start-utc") == "That is Mon 30 Nov, 13:00 UTC."
        page.fill("#start", "2026-12-01T09:00")
        assert page.text_content("#start-utc") == "That is Tue 1 Dec, 14:00 UTC."
        assert "Checks before scheduling" in page.text_content("#checks")
        shot(page, "admin-01-manage-your-time")

        # A refused form: drawn again where the browser is, as typed, with the reason beside the hours, in view.
        page.fill("input[name=start_hour]", "17")
        page.fill("input[name=end_hour]", "9")
        page.click("#save-window")
        page.wait_for_url("**/window")
        assert page.input_value("input[name=start_hour]") == "17" and page.input_value("input[name=end_hour]") == "9"
        error = page.text_content("#window-hours-error")
        assert error.startswith("Sending window: it must open before it closes, and 17:00 is not before 9:00")
        assert in_view(page, "#window-hours-error")
        shot(page, "admin-02-window-refused", full_page=False)
        # Reloading that address from the address bar leads back to the page, not to "Method Not Allowed".
        answer = page.goto(page.url)
        assert answer.status == 200 and page.url.endswith("/admin/campaigns/baclofen/manage#window")

        # Nobody has a tag yet: the audience section says where tags come from instead of offering an empty choice;
        # a tag nobody has (typed into the address, or one whose people left since) is refused there, nobody enrolled.
        assert "No active subscriber has a tag yet" in page.text_content("#audience")
        page.goto(f"{base}/admin/campaigns/baclofen/enroll-tag?tag=families")
        assert "No active subscriber has the tag 'families'" in page.text_content("#enroll-tag-tag-error")
        shot(page, "admin-03-tag-matches-nobody", full_page=False)

        # A saved step far down the page: the notice is where the page opens, beside that step.
        page.goto(f"{base}/admin/campaigns/baclofen/manage")
        page.locator("form#step-8 input[name=subject]").fill("Using baclofen safely")
        page.locator("form#step-8 button[type=submit]").click()
        page.wait_for_url("**#step-8")
        assert page.text_content("#message") == "Step 8 saved as version 2."
        assert in_view(page, "#message")
        shot(page, "admin-04-step-saved-in-view", full_page=False)

        page.click("#enroll-all")  # asks first, saying how many
        page.click("#confirm")
        assert page.text_content("#message") == "3 subscribers enrolled."
        page.fill("#start", "2026-12-01T09:00")
        page.click("#schedule")
        assert page.text_content("#status") == "scheduled"
        start = page.text_content(".page-head .sub time")
        assert "9:00 AM your time" in start and "(Tue 1 Dec, 14:00 UTC)" in start
        shot(page, "admin-05-scheduled-your-time")
        with session_factory() as s:
            assert s.scalar(select(Campaign.start_at)) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

        # An address that does not exist: the admin's page, its navigation and a way on; no clinic footer.
        answer = page.goto(f"{base}/admin/campaigns/nope/manage")
        assert answer.status == 404 and page.text_content("h1") == "Not found"
        assert "No campaign named 'nope'." in page.text_content("main")
        assert page.locator("header.top nav").is_visible() and page.locator(".site-footer").count() == 0
        shot(page, "admin-06-not-found")


def test_a_test_email_is_marked_addressed_to_staff_and_its_links_say_it_was_a_test(admin, tmp_path):
    base = admin
    with browser_page(DESKTOP) as page:
        sign_in(page, base)
        page.goto(f"{base}/admin/campaigns/baclofen/steps/3")
        page.fill("#addresses", "staff@example.org")
        page.click("#send-test")
        shot(page, "admin-07-test-sent")
        assert page.text_content("#message") == "Test sent to 1 address. Check the inbox."
        shot(page, "admin-07-test-sent")
    [path] = list((tmp_path / "outbox").rglob("*.eml"))
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert email["Subject"] == "[Test] Is Baclofen Considered an Addictive Drug?"
    assert email["To"] == "staff@example.org" and email["X-Outreach-Test"] == "yes"
    text = email.get_body(("plain",)).get_content()
    assert "Sam" not in text and "Hi there" in text
    unsubscribe = re.search(r"<(http://127\.0\.0\.1:\d+/u/[^>]+)>", email["List-Unsubscribe"]).group(1)
    with browser_page(PHONE) as page:
        page.goto(unsubscribe)
        assert page.text_content("h1") == "This was a test email"
        assert "no longer exists" not in page.text_content("main")
        shot(page, "subscriber-05-test-email-link")


def test_the_admin_on_a_phone_does_not_scroll_sideways(admin, session_factory):
    base = admin
    with session_factory() as s:
        campaign_id = s.scalar(select(Campaign.id))
    with browser_page(PHONE) as page:
        sign_in(page, base)
        assert no_sideways_scroll(page)
        nav = page.locator("header.top nav")
        assert nav.bounding_box()["width"] <= 375
        shot(page, "admin-08-overview-375")
        for path, name in (
            ("/admin/campaigns/baclofen/manage", "admin-09-manage-375"),
            ("/admin/events", "admin-10-events-375"),
            ("/admin/queue", "admin-11-queue-375"),
        ):
            page.goto(f"{base}{path}")
            assert no_sideways_scroll(page), path
            shot(page, name)
    assert campaign_id


def test_the_funnel_labels_every_step(admin, session_factory):
    base = admin
    with browser_page(DESKTOP) as page:
        sign_in(page, base)
        page.goto(f"{base}/admin/campaigns/baclofen")
        page.wait_for_function("window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=funnel]'))")
        shown, labels = page.evaluate(
            "(() => { const c = Chart.getChart(document.querySelector('canvas[data-chart=funnel]'));"
            " return [c.scales.y.ticks.length, c.data.labels.length]; })()"
        )
        assert labels == 10 and shown == labels  # enrolled and the nine steps, each with its label
        assert "nothing sent yet" in page.text_content(".page-head .sub")
        shot(page, "admin-12-campaign-funnel")


def test_the_events_page_with_a_click_and_filters(admin, session_factory):
    from tests.insight.support import sent_campaign

    _, d = sent_campaign(session_factory, 3, steps=(1,))
    events = [sg_event("delivered", i, d[(i, 1)], NOW) for i in range(3)]
    events += [sg_event("click", 1, d[(1, 1)], NOW + timedelta(minutes=5), url="https://agape.test/help")]
    with session_factory.begin() as s:
        record_events(s, [from_sendgrid(e, NOW) for e in events], NOW, soft_bounce_limit=3)
    base = admin
    with browser_page(DESKTOP) as page:
        sign_in(page, base)
        page.goto(f"{base}/admin/events")
        page.select_option("#kind", "clicked")
        page.click("#filters button[type=submit]")
        rows = page.locator("table.events tbody tr")
        assert rows.count() == 1 and "https://agape.test/help" in rows.first.text_content()
        assert re.search(r"subscriber \d+", rows.first.text_content())
        shot(page, "admin-13-events-clicked")


@pytest.fixture
def public(db_url, session_factory, tmp_path):
    """The public pages with a campaign that starts in two days, every hour open; emails go to the outbox."""
    make_campaign(session_factory, status="scheduled", start=PAGES_NOW + timedelta(days=2), window=(range(7), 0, 24))
    outbox = tmp_path / "outbox"

    def make_app(base: str):
        settings = load_settings(database_url=db_url, outbox_dir=outbox, secret_key=SECRET, base_url=base)
        return create_app(settings, session_factory, clock=Clock(PAGES_NOW))

    with served(make_app) as base:
        yield base, outbox


def the_email(outbox: Path):
    deadline = time.monotonic() + 10  # the confirmation goes out just after the answer (a background task)
    while not (files := list(outbox.rglob("*.eml"))):
        assert time.monotonic() < deadline, "no confirmation email was written"
        time.sleep(0.05)
    return message_from_bytes(files[0].read_bytes(), policy=policy.default)


def test_the_subscribers_pages_on_a_phone(public, session_factory):
    base, outbox = public
    with browser_page(PHONE, timezone_id="Asia/Kolkata") as page:
        page.goto(f"{base}/signup")
        # The browser's zone is chosen for them, labelled like the list (Chromium calls it Asia/Calcutta).
        chosen = page.evaluate("(() => { const s = document.getElementById('timezone'); return s.value; })()")
        label = page.evaluate("document.getElementById('timezone').selectedOptions[0].textContent")
        assert chosen in ("Asia/Kolkata", "Asia/Calcutta") and label.startswith("(UTC+05:30) ")
        assert page.locator("optgroup[label=Americas] option").count() > 100
        page.fill("#email", "ann@example.com")
        page.fill("#name", "Ann")
        shot(page, "subscriber-01-signup-zone-guessed")
        page.click("button[type=submit]")
        confirm = re.search(r"http://127\.0\.0\.1:\d+/c/[\w.-]+", the_email(outbox).get_body(("plain",)).get_content())
        page.goto(confirm.group(0))
        page.get_by_role("button", name="Yes, send me the emails").click()
        page.locator("#first-email").wait_for()
        # 15:00 UTC on Wednesday 13 January is 8:30 PM in India.
        assert page.text_content("#first-email") == (
            "Your first email comes on Wednesday, January 13, at about 8:30 PM, your time."
        )
        shot(page, "subscriber-02-confirmed-says-when")

        answer = page.goto(f"{base}/no-such-page")
        assert answer.status == 404 and "Nothing has been changed" not in page.text_content("main")
        assert page.get_by_role("link", name=re.compile("website")).is_visible()
        shot(page, "subscriber-03-not-found")
        with session_factory() as s:
            sid = s.scalar(select(Subscriber.id))
        page.goto(f"{base}/c/{expired_token('confirm', sid, timedelta(days=8))}")
        assert page.get_by_role("link", name="Sign up again").get_attribute("href") == "/signup"
        assert "Confirmation links work for 7 days" in page.text_content("main")
        shot(page, "subscriber-04-expired-confirm-link")

        page.goto(f"{base}/p/{TOKENS.make('preferences', sid)}")
        colours = page.evaluate(
            "[...document.querySelectorAll('main button')].map(b => [b.textContent.trim(),"
            " getComputedStyle(b).backgroundColor])"
        )
        filled = [text for text, colour in colours if colour not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")]
        assert filled == ["Save my details"], colours
        shot(page, "subscriber-06-preferences")
