"""The subscriber's journey in headless Chromium (Debian's, driven by Playwright): sign up, confirm from the email,
unsubscribe with the page's button, resubscribe; with a 375 px wide screenshot of each page in tests/artifacts/web/.

The app runs for real: uvicorn on a free loopback port in a thread, the outbox provider writing .eml files, the
confirm and unsubscribe links read from the written email.
"""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.db.models import Subscriber
from campaigns.settings import load_settings
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import make_campaign
from tests.web.pages import SECRET, SQLITE_ONLY
from web.app import create_app

PHONE = {"width": 375, "height": 812}

pytestmark = [SQLITE_ONLY, pytest.mark.browser, needs_chromium]


@pytest.fixture
def live(db_url, session_factory, tmp_path):
    """(base URL, outbox dir, session factory) of the app served by uvicorn on 127.0.0.1."""
    outbox = tmp_path / "outbox"
    make_campaign(session_factory, status="running")

    def make_app(base: str):
        settings = load_settings(database_url=db_url, outbox_dir=outbox, secret_key=SECRET, base_url=base)
        return create_app(settings, session_factory)

    with served(make_app) as base:
        yield base, outbox, session_factory


def shot(page, name: str) -> None:
    screenshot(page, "web", name)


def the_email(outbox: Path):
    """The one email the outbox holds, parsed."""
    deadline = time.monotonic() + 10  # the confirmation goes out just after the answer (a background task)
    while not (files := list(outbox.rglob("*.eml"))):
        assert time.monotonic() < deadline, "no confirmation email was written"
        time.sleep(0.05)
    [path] = files
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def status_of(factory) -> tuple[str, str, str | None]:
    with factory() as s:
        sub = s.scalar(select(Subscriber))
        return sub.status, sub.timezone, sub.unsubscribe_source


def test_sign_up_confirm_unsubscribe_resubscribe(live):
    base, outbox, factory = live
    with browser_page(PHONE, timezone_id="Europe/Paris", locale="en-US") as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # e.g. a CSP violation

        page.goto(f"{base}/signup")
        assert page.locator("#timezone").input_value() == "Europe/Paris"  # guessed by the small script
        assert page.locator("#timezone-guessed").is_visible()
        shot(page, "signup")
        page.get_by_label("Email address").fill("maria.lopez@example.com")
        page.get_by_label("First name").fill("Maria")
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        shot(page, "signup-sent")

        email = the_email(outbox)
        text = email.get_body(("plain",)).get_content()
        confirm = re.search(rf"{re.escape(base)}/c/\S+", text).group(0)
        unsubscribe = re.fullmatch(r"<(.+)>", email["List-Unsubscribe"]).group(1)
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "@" not in confirm and "@" not in unsubscribe

        page.goto(confirm)
        page.get_by_role("heading", name="Confirm your subscription").wait_for()
        assert status_of(factory)[0] == "pending"  # opening the link (a mail scanner does too) changes nothing
        shot(page, "confirm")
        page.get_by_role("button", name="Yes, send me the emails").click()
        page.get_by_role("heading", name="Thank you, Maria").wait_for()
        assert status_of(factory)[:2] == ("active", "Europe/Paris")
        shot(page, "confirmed")

        page.goto(unsubscribe)
        page.get_by_role("heading", name="Unsubscribe").wait_for()
        assert status_of(factory)[0] == "active"  # opening the page changes nothing
        shot(page, "unsubscribe")
        page.get_by_role("button", name="Unsubscribe").focus()
        page.keyboard.press("Enter")  # the button works from the keyboard
        page.get_by_role("heading", name="You are unsubscribed").wait_for()
        assert status_of(factory) == ("unsubscribed", "Europe/Paris", "page")
        shot(page, "unsubscribed")

        page.get_by_role("button", name="Resubscribe").click()
        page.get_by_text("Welcome back, Maria").wait_for()
        assert status_of(factory)[0] == "active"
        shot(page, "resubscribed")

        page.get_by_role("link", name="Pause the emails or change your details").click()
        page.get_by_role("heading", name="Your email preferences").wait_for()
        assert "maria.lopez@example.com" not in page.content()
        shot(page, "preferences")

        assert errors == []  # no script error, no CSP violation, no missing file

        page.goto(f"{base}/u/forged-token")
        page.get_by_role("heading", name="This link does not work").wait_for()
        shot(page, "bad-link")

        page.goto(confirm)  # the old confirmation link, once used: it confirms nothing again
        page.get_by_text("used already").wait_for()
        shot(page, "confirm-used")


def test_sign_up_works_without_javascript(live):
    base, outbox, factory = live
    with browser_page(PHONE, java_script_enabled=False) as page:
        page.goto(f"{base}/signup")
        assert page.locator("#timezone").input_value() == "America/New_York"  # the server's default, editable
        page.get_by_label("Email address").fill("sam@example.com")
        page.get_by_label("Time zone").select_option("America/Chicago")
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
    the_email(outbox)
    assert status_of(factory) == ("pending", "America/Chicago", None)
