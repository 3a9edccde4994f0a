"""Editing and scheduling a campaign in the admin pages with headless Chromium (Debian's /usr/bin/chromium through
Playwright's Python API; never `playwright install`). Screenshots go to tests/artifacts/campaigns/.

The app is the real one (create_app) served by uvicorn on 127.0.0.1 with a SQLite database; the domain behind the
pages is tested on both databases in the other files of this folder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.db.models import AuditEntry, Campaign, Delivery, Enrollment, Subscriber
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import KEYS, Clock
from tests.web.admin_support import PASSWORD, admin_app

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    needs_chromium,
]


@pytest.fixture
def server(db_url, session_factory, brand, tmp_path):
    """The admin app on http://127.0.0.1:<port>, with the seed campaign and three subscribers."""
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW - timedelta(hours=1), actor="ana")
        for name in ("ann", "bob", "cat"):
            s.add(
                Subscriber(
                    email=f"{name}@example.com",
                    email_key=KEYS.of(f"{name}@example.com"),
                    name=name.title(),
                    timezone="America/New_York",
                    status="active",
                    created_at=NOW,
                )
            )
    provider = RecordingProvider()

    def make_app(base: str):
        return admin_app(db_url, session_factory, tmp_path, base_url=base, clock=Clock(NOW), provider=provider)

    with served(make_app) as base:
        yield base, provider


@pytest.fixture
def page():
    # The browser's own zone is UTC here, so the start picker's times are UTC (tests/web/test_first_contact_browser.py
    # schedules from another zone).
    with browser_page({"width": 1280, "height": 900}, timezone_id="UTC") as page:
        yield page


def shot(page, name: str) -> None:
    screenshot(page, "campaigns", name)


def test_staff_edit_a_step_enroll_schedule_pause_and_resume_in_the_browser(server, page, session_factory):
    base, provider = server
    page.goto(f"{base}/admin/campaigns")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/admin/campaigns")
    page.get_by_role("link", name="Manage").click()
    page.wait_for_url("**/admin/campaigns/baclofen/manage")
    assert page.text_content("#status") == "draft"
    shot(page, "01-manage-draft")

    # Edit step 3's subject and delay.
    form = page.locator("form#step-3")
    form.locator("input[name=subject]").fill("Is baclofen addictive?")
    form.locator("input[name=delay_days]").fill("3")
    form.locator("button[type=submit]").click()
    assert page.text_content("#message") == "Step 3 saved as version 2."
    assert page.locator("form#step-3 input[name=subject]").input_value() == "Is baclofen addictive?"
    assert "version 2" in page.text_content(".page-head .sub")
    assert "edited" in page.text_content("#audit") and "admin" in page.text_content("#audit")
    shot(page, "02-step-3-edited")

    # Scheduling with nobody enrolled is refused with the reason.
    page.fill("#start", "2026-12-01T14:00")
    page.click("#schedule")
    assert "has no subscribers" in page.text_content("#error")

    page.click("#enroll-all")  # asks first, saying how many
    assert page.text_content("h1") == "Enroll 3 subscribers in Baclofen Misuse?"
    page.click("#confirm")
    assert page.text_content("#message") == "3 subscribers enrolled."
    assert "3 enrolled" in page.text_content("#audience").replace("\n", " ").replace(
        "  ", " "
    ) or "3</strong> enrolled" in page.inner_html("#audience")
    page.fill("#start", "2026-12-01T14:00")
    page.click("#schedule")
    assert page.text_content("#message").startswith("Scheduled.")
    assert page.text_content("#status") == "scheduled"
    assert "step 1: 3 subscribers at Tue 01 Dec 14:00 UTC" in page.text_content("#forecast")
    shot(page, "03-scheduled")

    # A tick before the start prepares the first emails: ready for the start, not being sent, and still forecast then.
    assert drip.tick(session_factory, NOW, lambda ids: None).prepared == 3
    page.reload()
    audience = " ".join(page.text_content("#audience").split())
    assert "0 waiting, 3 ready for the start, 0 being sent" in audience
    assert "step 1: 3 subscribers at Tue 01 Dec 14:00 UTC" in page.text_content("#forecast")
    shot(page, "03b-prepared")
    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#audience").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone
    screenshot(page, "campaigns", "03c-prepared-375", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("#pause")  # releases what was prepared: they wait again
    assert page.text_content("#status") == "paused"
    assert "3 waiting, 0 being sent" in " ".join(page.text_content("#audience").split())
    page.click("#resume")
    assert page.text_content("#status") == "scheduled"

    # The diff of versions 1 and 2.
    page.click("#compare")
    changes = page.text_content("#changes")
    assert "Is Baclofen Considered an Addictive Drug?" in changes and "Is baclofen addictive?" in changes
    assert "2 days" in changes and "3 days" in changes
    shot(page, "04-diff")

    with session_factory() as s:
        c = s.scalar(select(Campaign))
        assert (c.status, c.current_version, c.start_at) == ("scheduled", 2, datetime(2026, 12, 1, 14, tzinfo=UTC))
        assert [
            a for a in s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin").order_by(AuditEntry.id))
        ] == ["edited", "enrolled", "scheduled", "paused", "resumed"]
    assert provider.batches == []


def test_preview_shows_html_text_and_a_375px_phone_and_sends_a_test(server, page, session_factory):
    base, provider = server
    page.goto(f"{base}/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/admin/campaigns/baclofen/steps/3")
    phone = page.locator("iframe.frame-phone")
    assert phone.evaluate("el => el.clientWidth") == 375
    frame = page.frame_locator("iframe.frame-phone")
    assert "Is Baclofen Considered an Addictive Drug?" in frame.locator("body").inner_text()
    assert "Sam" in frame.locator("body").inner_text()
    # The email must not be wider than the phone: no horizontal scrolling in the frame.
    assert (
        page.frame_locator("iframe.frame-phone").locator("html").evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    )
    text = page.text_content("#text")
    assert "%%" not in text and "{{" not in text and "Sam" in text
    shot(page, "05-preview-step-3")

    page.fill("#addresses", "staff.one@example.com, staff.two@example.com")
    page.click("#send-test")
    assert page.text_content("#message") == "Test sent to 2 addresses. Check the inbox."
    (batch,) = provider.batches
    assert batch.is_test and batch.step == 3 and [r.delivery_id for r in batch.recipients] == [0, 0]
    assert sorted(r.email for r in batch.recipients) == ["staff.one@example.com", "staff.two@example.com"]
    with session_factory() as s:
        assert s.scalar(select(Delivery.id)) is None and s.scalar(select(Enrollment.id)) is None
    shot(page, "06-test-sent")
