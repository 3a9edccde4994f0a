"""The series editor, the whole journey, in headless Chromium at 1280 px (and the editor once at 375 px): create a
campaign from a file, from pasted text and from a web address; drop a block; merge two emails; a subject with a
merge tag (and one with a typo, refused beside the field); the live preview at 375 and 600 px with the text part;
save; enroll (after the confirmation) and schedule. Screenshots go to tests/artifacts/series-editor/.

The app is the real one (create_app) on SQLite, served by uvicorn on 127.0.0.1; the article "site" is a second
local server, reached because this app sets OUTREACH_FETCH_PRIVATE_ADDRESSES (off by default: the SSRF guard).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from campaigns.db.models import Campaign
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.management.records import current_steps, get_campaign
from campaigns.settings import PROJECT_ROOT
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import Clock, subscriber
from tests.web.admin_support import PASSWORD, admin_app

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
ARTICLES = PROJECT_ROOT / "tests" / "fixtures" / "articles"
PASTED = ARTICLES / "benzodiazepine-tapering.md"
PAGE = ARTICLES / "kratom-what-families-should-know.html"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    needs_chromium,
]


@pytest.fixture
def server(db_url, session_factory, brand, tmp_path):
    """The admin app (URL import allowed to reach 127.0.0.1) and a local site serving one article page."""
    with session_factory.begin() as s:
        for name in ("ann", "bob"):
            s.add(subscriber(f"{name}@example.com", name=name.title(), created_at=NOW))

    def article(request):
        return HTMLResponse(PAGE.read_text())

    def make_app(base: str):
        return admin_app(
            db_url,
            session_factory,
            tmp_path,
            base_url=base,
            clock=Clock(NOW),
            provider=RecordingProvider(),
            fetch_private=True,
        )

    with served(lambda _: Starlette(routes=[Route("/blog/kratom/", article)])) as site, served(make_app) as base:
        yield base, site


def shot(page, name: str, **kw) -> None:
    screenshot(page, "series-editor", name, **kw)


def create(page, base: str, source: str, fill) -> str:
    """Create a campaign from the new-campaign form; the review page's path."""
    page.goto(f"{base}/admin/campaigns/new")
    page.check(f"#from-{source}")
    fill()
    page.click("#create")
    page.wait_for_url("**/article?done=created*")
    return page.url


def test_the_whole_journey_in_the_browser(server, session_factory):
    base, site = server
    with browser_page({"width": 1280, "height": 900}, timezone_id="UTC") as page:
        page.goto(f"{base}/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/admin/campaigns")
        page.click("#new-campaign")
        assert page.is_visible("#file") and not page.is_visible("#pasted")  # only the chosen source's field
        shot(page, "01-new-campaign")

        # From a file: the review shows every block, the dropped ones greyed with their rule.
        create(page, base, "file", lambda: page.set_input_files("#file", str(SEED)))
        assert page.url.startswith(f"{base}/admin/campaigns/baclofen-misuse/article")
        assert "9 emails planned" in page.text_content("#message")
        toc = page.locator("li.block.dropped").first
        assert "Table of Contents" in toc.inner_text() and "left out:" in toc.inner_text()
        shot(page, "02-review-from-file", full_page=False)

        # From pasted Markdown, and from a web address.
        create(page, base, "paste", lambda: page.fill("#pasted", PASTED.read_text()))
        assert "emails planned" in page.text_content("#message")
        shot(page, "03-review-from-paste", full_page=False)
        create(page, base, "url", lambda: page.fill("#url", f"{site}/blog/kratom/"))
        assert "emails planned" in page.text_content("#message")
        assert page.locator("li.block.dropped").count() >= 1  # the page's navigation and footer, named
        shot(page, "04-review-from-url", full_page=False)
        with session_factory() as s:
            assert len(list(s.scalars(select(Campaign.slug)))) == 3

        # Drop a block: its words leave the series, which is planned again.
        page.goto(f"{base}/admin/campaigns/baclofen-misuse/article")
        block = page.locator("li.block.kind-paragraph").nth(3)
        words = block.locator(".block-text").inner_text()[:50]
        block.locator("input[type=checkbox]").uncheck()
        page.click("#replan")
        page.wait_for_url("**/series?done=replanned*")
        assert "planned again" in page.text_content("#message")
        with session_factory() as s:
            steps = current_steps(s, get_campaign(s, "baclofen-misuse"))
            assert get_campaign(s, "baclofen-misuse").current_version == 2
            assert not any(words in st.text for st in steps)
        page.goto(f"{base}/admin/campaigns/baclofen-misuse/article")
        assert "dropped by you" in page.text_content("li.block.dropped >> nth=1")
        shot(page, "05-block-dropped", full_page=False)

        # Merge emails 3 and 4.
        page.goto(f"{base}/admin/campaigns/baclofen-misuse/series")
        before = page.locator("fieldset.email").count()
        page.click("#merge-3")
        page.wait_for_url("**/series?done=merged*")
        assert page.locator("fieldset.email").count() == before - 1
        assert page.text_content("#message").startswith("Emails merged and saved as version 3")
        shot(page, "06-merged", full_page=False)

        # A subject with a merge tag; the counter warns past 60 characters.
        subject = page.locator("#e3-subject")
        subject.fill("{{ first_name }}, what baclofen does and why it matters for you and your family")
        counter = page.locator('.counter[data-for="e3-subject"]')
        assert "(inboxes cut it)" in counter.inner_text() and "warn" in (counter.get_attribute("class") or "")
        subject.fill("{{ first_name }}, is baclofen addictive?")
        assert counter.inner_text() == "40 / 60"
        page.wait_for_timeout(1000)  # the live preview refreshes 0.7 s after the typing stops: let it
        # The live preview of the unsaved draft: 600 and 375 px, and the text part.
        page.select_option("#preview-email", "3")  # refreshes the preview by itself; the button does it too
        page.wait_for_timeout(300)
        page.click("#preview")
        expect(page.frame_locator("#frame-text").locator("body")).to_contain_text("Subject: Sam, is baclofen")
        text = page.frame_locator("#frame-text").locator("body").inner_text()
        assert "{{" not in text and "%%" not in text
        expect(page.frame_locator("#frame-600").locator("body")).to_contain_text("email 3 of")
        expect(page.frame_locator("#frame-375").locator("body")).to_contain_text("email 3 of")
        page.wait_for_timeout(500)  # the three frames are loaded one after the other
        assert page.locator("#frame-375").evaluate("el => el.clientWidth") == 373  # 375 less its 1 px borders
        narrow = page.frame_locator("#frame-375").locator("html")
        assert narrow.evaluate("el => el.scrollWidth <= el.clientWidth + 1")  # no sideways scrolling on a phone
        page.set_viewport_size({"width": 1280, "height": 1800})  # tall enough to show all three previews at once
        page.locator(".preview-panel").scroll_into_view_if_needed()
        shot(page, "07-preview-375-600-text", full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})

        # A typo in a tag is refused beside the field, and nothing typed is lost.
        page.fill("#e4-subject", "Hi {{ nmae }}")
        page.click("#save")
        assert "Unknown merge tag `nmae` in the subject of email 4" in page.text_content("#e4-subject-error")
        assert page.input_value("#e3-subject") == "{{ first_name }}, is baclofen addictive?"
        page.locator("#e4").scroll_into_view_if_needed()
        shot(page, "08-refused-tag", full_page=False)
        page.fill("#e4-subject", "Hi {{ first_name }}, a safer way off baclofen")
        page.click("#save")
        page.wait_for_url("**/series?done=saved*")
        assert page.text_content("#message") == "Saved as version 4."
        shot(page, "09-saved", full_page=False)
        with session_factory() as s:
            steps = current_steps(s, get_campaign(s, "baclofen-misuse"))
        assert steps[2].subject == "%%first_name%%, is baclofen addictive?"

        # Enroll everyone (after the confirmation says how many) and schedule.
        page.goto(f"{base}/admin/campaigns/baclofen-misuse/manage")
        page.click("#enroll-all")
        assert page.text_content("h1").startswith("Enroll 2 subscribers in")
        shot(page, "10-confirm-enroll-all", full_page=False)
        page.click("#confirm")
        assert page.text_content("#message") == "2 subscribers enrolled."
        page.click("#archive")
        assert "2 subscribers" in page.text_content(".lead")
        shot(page, "11-confirm-archive", full_page=False)
        page.click("#cancel")
        page.fill("#start", "2026-12-01T14:00")
        page.click("#schedule")
        assert page.text_content("#status") == "scheduled", page.text_content("#checks")
        shot(page, "12-scheduled")

    with browser_page({"width": 375, "height": 800}, timezone_id="UTC") as phone:
        phone.goto(f"{base}/admin/login")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("button[type=submit]")
        phone.goto(f"{base}/admin/campaigns/baclofen-misuse/series")
        assert phone.evaluate("document.documentElement.scrollWidth <= 376")
        shot(phone, "13-editor-375", full_page=False)
        for path, name in (
            ("new", "14-new-campaign-375"),
            ("baclofen-misuse/article", "15-review-375"),
            ("baclofen-misuse/confirm/archive", "16-confirm-archive-375"),
        ):
            phone.goto(f"{base}/admin/campaigns/{path}")
            assert phone.evaluate("document.documentElement.scrollWidth <= 376"), path
            shot(phone, name, full_page=False)
