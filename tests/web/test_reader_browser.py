"""A reader's controls in headless Chromium at 375 px: a real lesson of the seed series goes out through the send
path to the outbox; its footer's links are followed from the written email (pace: next now, weekly, pause; "was this
useful?" with a comment; the preferences page changing the pace back; the call to action; a broken link).
Then staff import the calls they logged and read the campaign's page at 1280 px. Screenshots of the email's footer
and of every page go to tests/artifacts/reader/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from campaigns.brand import load_brand
from campaigns.db.models import Delivery, Enrollment, LessonFeedback, ReaderEvent
from campaigns.delivery import sending
from campaigns.delivery.providers.outbox import OutboxProvider
from campaigns.management.lifecycle import create_campaign
from campaigns.settings import PROJECT_ROOT
from campaigns.tokens import Links, Tokens
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import NO_WAIT, Clock, subscriber
from tests.web.admin_support import PASSWORD, SECRET_KEY, admin_app
from tests.web.pages import NOW, SQLITE_ONLY

PHONE = {"width": 375, "height": 812}
SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
BRAND = load_brand(PROJECT_ROOT / "content" / "brand.toml")
LESSON = 4

pytestmark = [SQLITE_ONLY, pytest.mark.browser, needs_chromium]


def shot(page, name: str) -> None:
    screenshot(page, "reader", name)


@pytest.fixture
def sent_lesson(db_url, session_factory, tmp_path):
    """The seed campaign running, Maria at lesson 4, and lesson 4 sent to her through the outbox; yields the base URL,
    the email's HTML and the session factory."""
    clock = Clock(NOW)
    with session_factory.begin() as s:
        campaign = create_campaign(s, SEED, "baclofen", BRAND, NOW - timedelta(days=10), actor="test")
        campaign.status, campaign.start_at = "running", NOW - timedelta(days=10)
        sub = subscriber(
            "maria@example.com", name="Maria Lopez", timezone="America/New_York", created_at=NOW - timedelta(days=10)
        )
        s.add(sub)
        s.flush()
        e = Enrollment(
            campaign_id=campaign.id,
            subscriber_id=sub.id,
            next_step=LESSON,
            next_due_at=NOW,
            status="sending",
            enrolled_at=NOW - timedelta(days=10),
            last_sent_at=NOW - timedelta(days=2),
        )
        s.add(e)
        s.flush()
        d = Delivery(
            enrollment_id=e.id, campaign_id=campaign.id, step_number=LESSON, status="queued", due_at=NOW, created_at=NOW
        )
        s.add(d)
        s.flush()
        delivery_id = s.scalar(select(Delivery.id))
    outbox = tmp_path / "outbox"

    def make_app(base: str):
        return admin_app(db_url, session_factory, tmp_path, base_url=base, clock=clock)

    with served(make_app) as base:
        links = Links(base, Tokens(SECRET_KEY))
        outcome = sending.send_deliveries(
            session_factory, OutboxProvider(outbox, clock), links, BRAND, [delivery_id], clock, retry=NO_WAIT
        )
        assert outcome.accepted == 1
        [eml] = list(outbox.rglob("*.eml"))
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        html = message.get_body(("html",)).get_content()
        yield base, html, session_factory


def test_every_reader_page_at_375_px(sent_lesson):
    base, html, factory = sent_lesson
    links = dict(re.findall(r'href="(http://127\.0\.0\.1:\d+/r/[^"]+)"[^>]*>([^<]+)</a>', html))
    by_text = {text.strip(): href for href, text in links.items()}
    assert set(by_text) == {"Yes", "Not really", "Send me the next one now", "Slow down to one a week",
                            "Pause for two weeks"}  # fmt: skip
    tokens = {href.split("/r/")[1].split("/")[0] for href in by_text.values()}
    assert len(tokens) == 1, "one signed token per email, every link derived from it"
    with browser_page(PHONE) as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # The email's new footer, as a phone shows it.
        page.route("**/*", lambda route: route.abort())  # an email loads nothing from the network
        page.set_content(html, wait_until="load")
        page.get_by_text("Was this useful?").scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, 200)")
        screenshot(page, "reader", "lesson-email-footer", full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.unroute("**/*")

        # Send me the next one now.
        page.goto(by_text["Send me the next one now"])
        page.get_by_role("heading", name="Send the next email now?").wait_for()
        shot(page, "pace-next")
        page.get_by_role("button", name="Send it now").click()
        page.get_by_role("heading", name="On its way").wait_for()
        shot(page, "pace-next-done")

        # Slow down to one a week.
        page.goto(by_text["Slow down to one a week"])
        shot(page, "pace-weekly")
        page.get_by_role("button", name="One a week, please").click()
        page.get_by_role("heading", name="One email a week").wait_for()
        shot(page, "pace-weekly-done")

        # Pause for two weeks.
        page.goto(by_text["Pause for two weeks"])
        shot(page, "pace-pause")
        page.get_by_role("button", name="Pause for two weeks").click()
        page.get_by_role("heading", name="Paused for two weeks").wait_for()
        shot(page, "pace-pause-done")

        # The preferences page shows the pace and the pause, and changes them back.
        page.get_by_role("link", name="Change the pace on your preferences page").click()
        page.get_by_role("heading", name="Your pace").wait_for()
        shot(page, "preferences-pace")
        page.get_by_role("button", name="End the pause").click()
        page.get_by_role("button", name="Back to the usual pace").click()
        page.get_by_text("Pace: as planned").wait_for()
        shot(page, "preferences-pace-back")

        # Was this useful? Not really, with a comment.
        page.goto(by_text["Not really"])
        page.get_by_role("heading", name="Was this email useful?").wait_for()
        shot(page, "useful-no")
        page.get_by_label("Anything you would like to tell us?").fill("A lot to take in at once.")
        page.get_by_role("button", name="Send my answer").click()
        page.get_by_role("heading", name="Thank you, Maria").wait_for()
        shot(page, "useful-no-thanks")
        page.goto(by_text["Yes"])
        page.get_by_role("button", name="Send my answer").click()
        page.get_by_text("this email was useful").wait_for()
        shot(page, "useful-yes-thanks")

        assert errors == []  # no CSP violation, no failed request, on any page so far

        # A link cut short in the mail client (a 400 page: the only error the browser sees).
        page.goto(by_text["Yes"][:-40] + "/useful/yes")
        shot(page, "broken-link")
        assert "This link does not work" in page.content()

        # The call to action: our redirect, then the brand's page only.
        answer = page.request.get(f"{base}/r/{tokens.pop()}?next=https://evil.example/", max_redirects=0)
        assert answer.status == 302 and answer.headers["location"] == BRAND.cta_url
    with factory() as s:
        kinds = s.scalars(select(ReaderEvent.kind).order_by(ReaderEvent.id)).all()
        answer_row = s.execute(select(LessonFeedback.step_number, LessonFeedback.useful, LessonFeedback.comment)).one()
        e = s.scalars(select(Enrollment)).one()
    assert kinds == ["pace_next", "pace_weekly", "pace_pause", "pace_resume", "pace_usual", "cta_click"]
    assert tuple(answer_row) == (LESSON, True, "A lot to take in at once.")
    assert (e.pace, e.held_until) == ("usual", None)


def test_staff_import_the_calls_and_see_which_lesson_came_last(sent_lesson, tmp_path):
    base, html, _ = sent_lesson
    [reader_root] = re.findall(r'href="(http://127\.0\.0\.1:\d+/r/[^"/]+)/useful/yes"', html)
    calls = tmp_path / "calls.csv"
    # The app's clock stands at NOW, when the lesson went out: the call came a minute later.
    calls.write_text(
        "Email,Time,Channel\n"
        f"maria@example.com,{(NOW + timedelta(minutes=1)).strftime('%Y-%m-%d %H:%M')},phone\n"
        "someone.else@example.com,2027-01-10 09:00,call\n"
    )
    with browser_page({"width": 375, "height": 812}) as phone:  # Maria finds the lesson useful, with a word
        phone.goto(f"{reader_root}/useful/yes")
        phone.get_by_label("Anything you would like to tell us?").fill("Finally someone explains it plainly.")
        phone.get_by_role("button", name="Send my answer").click()
        phone.get_by_role("heading", name="Thank you, Maria").wait_for()
    with browser_page({"width": 1280, "height": 900}) as page:
        page.goto(f"{base}/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/admin/contacts/import")
        page.set_input_files("#file", str(calls))
        page.get_by_role("button", name="Import contacts").click()
        page.get_by_text("1 contact imported, 1 put down to a lesson").wait_for()
        assert "matched no subscriber" in page.content()
        shot(page, "admin-contacts-imported")
        page.goto(f"{base}/admin/campaigns/baclofen")
        readers = page.locator("#readers")
        readers.scroll_into_view_if_needed()
        page.locator("#readers details").first.click()
        readers.screenshot(path=str(screenshot_path("admin-campaign-readers")))
        text = readers.inner_text()
    assert "Finally someone explains it plainly." in text
    assert f"{LESSON}. " in text and "1 contact" in text


def screenshot_path(name: str):
    from tests.browser import ARTIFACTS

    path = ARTIFACTS / "reader" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
