"""The subscriber's journey in headless Chromium (Debian's, driven by Playwright): sign up, confirm from the email,
unsubscribe with the page's button, resubscribe; with a 375 px wide screenshot of each page in tests/artifacts/web/.

The app runs for real: uvicorn on a free loopback port in a thread, the outbox provider writing .eml files, the
confirm and unsubscribe links read from the written email.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.db.models import Subscriber
from campaigns.settings import load_settings
from tests.builders import make_campaign
from tests.web.pages import SECRET, SQLITE_ONLY
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
PHONE = {"width": 375, "height": 812}

pytestmark = [SQLITE_ONLY, pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                                                                "/usr/bin/chromium (apt-get install chromium)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(db_url, session_factory, tmp_path):
    """(base URL, outbox dir, session factory) of the app served by uvicorn on 127.0.0.1."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(database_url=db_url, outbox_dir=tmp_path / "outbox", secret_key=SECRET, base_url=base)
    make_campaign(session_factory, status="running")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, session_factory), host="127.0.0.1", port=port,
                                          log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield base, settings.outbox_dir, session_factory
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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


def test_sign_up_confirm_unsubscribe_resubscribe(live, browser):
    base, outbox, factory = live
    context = browser.new_context(viewport=PHONE, timezone_id="Europe/Paris", locale="en-US")
    page = context.new_page()
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
    context.close()


def test_sign_up_works_without_javascript(live, browser):
    base, outbox, factory = live
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/signup")
    assert page.locator("#timezone").input_value() == "America/New_York"  # the server's default, editable
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    the_email(outbox)
    assert status_of(factory) == ("pending", "America/Chicago", None)
    context.close()
