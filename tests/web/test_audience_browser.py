"""Audience and team in headless Chromium (Debian's, driven by Playwright): finding and caring for a subscriber,
importing an awkward CSV, enrolling by tag, the team and its roles at 1280 px, and the sign-up form pasted into the
organisation's own site at 375 px. Screenshots go to tests/artifacts/audience/.

The apps are the real ones (create_app) served by uvicorn on 127.0.0.1, on SQLite; the same pages are checked over
HTTP, on both databases, in test_subscriber_admin.py, test_import_admin.py, test_staff_accounts.py and
test_embedded_signup.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from campaigns.audience.importing import import_csv
from campaigns.db.models import SignupRequest, Subscriber
from campaigns.delivery.providers.base import RecordingProvider
from tests.browser import browser_page, needs_chromium, screenshot, served
from tests.builders import Clock, make_campaign
from tests.servers import free_port
from tests.web.admin_support import PASSWORD, add_staff, admin_app
from web.admin.signup_form_page import snippet

NOW = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 812}
FOLDER = "audience"
PEOPLE = (
    "email,name,timezone,consent_source,tags\n"
    "ann.lee@example.org,Ann Lee,America/New_York,health fair 2026,donors;volunteers\n"
    "bob.stone@example.org,Bob Stone,Europe/Berlin,website,donors\n"
    "cat.diaz@example.net,Cat Diaz,America/Chicago,website,\n"
    "dan.wu@example.com,Dan Wu,America/Los_Angeles,phone call,volunteers\n"
)
# Excel on Windows: semicolons, Windows-1252, its own header names, a quote left open, a bad address.
AWKWARD = (
    "E-mail;First name;Last name;Time Zone;Notes\r\n"
    "eve@example.org;Eve;Adams;Europe/Paris;\r\n"
    'fay@example.org;"Fay;Ng;;met at the fair\r\n'
    "gus@example.org;Gus;M\u00fcller;;\r\n"
    "h\u00e9l\u00e8ne@example.org;H\u00e9l\u00e8ne;Roy;;\r\n"
    "not-an-address;X;Y;UTC;\r\n"
).encode("cp1252")

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True), needs_chromium]


def shot(page, name: str, *, full_page: bool = True) -> None:
    screenshot(page, FOLDER, name, full_page=full_page)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/admin")


@pytest.fixture
def people(session_factory, tmp_path):
    make_campaign(session_factory, status="running", title="Baclofen misuse: what families should know")
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    with session_factory.begin() as s:
        import_csv(s, path, now=NOW)
    for email, role in (
        ("ana@agape.example", "owner"),
        ("eli@agape.example", "editor"),
        ("vic@agape.example", "viewer"),
    ):
        add_staff(session_factory, email, role)


@pytest.fixture
def admin(db_url, session_factory, tmp_path, people):
    def make(base: str):
        return admin_app(
            db_url, session_factory, tmp_path, base_url=base, clock=Clock(NOW), provider=RecordingProvider()
        )

    with served(make) as base:
        yield base


def test_staff_find_a_person_tag_them_pause_and_erase_with_a_question_first(admin, session_factory):
    with browser_page(DESKTOP) as page:
        sign_in(page, admin, "eli@agape.example")
        page.click("nav >> text=Subscribers")
        assert page.text_content("#results h2").strip().startswith("4 found")
        shot(page, "01-subscribers")

        page.fill("#q", "stone")
        page.click("#search")
        assert page.text_content("#results h2").strip() == "1 found"
        assert "stone" not in page.url  # the typed search stays out of the address
        page.click("text=bob.stone@example.org")
        assert "Europe/Berlin" in page.text_content("#profile")
        page.fill("#new-tag", "Board")
        page.click("#add-tag")
        assert page.text_content("#tags #message") == "Tag added."
        shot(page, "02-person-tagged")

        page.click("#pause")
        page.select_option("#weeks", "2")
        shot(page, "03-pause-question")
        page.click("#confirm")
        assert page.text_content("#actions #message") == "Paused."
        assert "paused" in page.text_content("h1")

        page.click("#erase")
        assert "cannot be undone" in page.text_content(".confirm")
        shot(page, "04-erase-question")
        page.click("#confirm")
        assert "Erased" in page.text_content("#actions #message")
        assert "bob.stone@example.org" not in page.content()
        shot(page, "05-person-erased")

        # The whole address still finds what is left: the fingerprint, and nothing else.
        page.goto(f"{admin}/admin/subscribers")
        page.fill("#q", "Bob.Stone@example.org")
        page.click("#search")
        assert "erased" in page.text_content("#remnant")
        shot(page, "06-search-finds-erased-by-hash")

        # Everyone tagged "donors" (Ann only, now) gets "spring" in one go, and a campaign enrolls them after a count.
        page.goto(f"{admin}/admin/subscribers?tag=donors")
        page.fill("#bulk-name", "spring")
        page.click("#bulk-add")
        assert "added to 1 of the 1 found" in page.text_content("#bulk-tag #message")
        shot(page, "07-bulk-tag")
    with session_factory() as s:
        bob = s.scalar(select(Subscriber).where(Subscriber.name.is_(None), Subscriber.status == "erased"))
    assert bob is not None


def test_an_awkward_csv_is_read_mapped_checked_and_imported_in_the_browser(admin, session_factory, tmp_path):
    path = tmp_path / "Export from Excel.csv"
    path.write_bytes(AWKWARD)
    with browser_page(DESKTOP) as page:
        sign_in(page, admin, "eli@agape.example")
        page.goto(f"{admin}/admin/subscribers/import")
        page.set_input_files("#file", str(path))
        page.click("#upload-button")
        page.wait_for_url(re.compile(r".*/admin/subscribers/import/\d+$"))
        assert "Windows-1252" in page.text_content(".page-head") and page.is_visible("#encoding-note")
        assert "M\u00fcller" in page.text_content("table.mapping")
        assert page.input_value("#column_0") == "email" and page.input_value("#column_4") == "ignore"
        shot(page, "10-import-columns")

        page.click("#check")  # the consent statement is required: the browser says so before anything is sent
        assert page.evaluate("document.querySelector('#consent').validity.valueMissing")
        page.fill("#consent", "signed the paper form at the open day")
        page.select_option("#default_timezone", "America/New_York")
        page.fill("#tag_all", "open day 2027")
        page.click("#check")
        page.wait_for_url(re.compile(r".*#dry-run$"))
        assert page.text_content("#n-imported") == "2" and page.text_content("#n-problems") == "3"
        problems = page.text_content("#problems")
        assert "never closed" in problems and "accented or non-Latin letters" in problems and "bad address" in problems
        shot(page, "11-import-dry-run")

        page.click("#start")
        # The page follows the import by itself (it asks again every 2 s while the import runs).
        page.wait_for_selector("h2:text-is('Imported'), h2:text-is('The import stopped')")
        assert page.text_content("#progress h2") == "Imported", page.text_content("#progress")
        assert page.text_content("#n-imported") == "2"
        shot(page, "12-import-done")
        page.click("text=Everyone tagged")
        assert page.text_content("#results h2").strip() == "2 found"
    with session_factory() as s:
        gus = s.scalar(select(Subscriber).where(Subscriber.email == "gus@example.org"))
    assert (gus.name, gus.timezone) == ("Gus M\u00fcller", "America/New_York")


def test_enrolling_by_tag_shows_the_count_before_the_button(admin, session_factory):
    make_campaign(session_factory, status="draft", slug="spring", title="Spring series")
    with browser_page(DESKTOP) as page:
        sign_in(page, admin, "eli@agape.example")
        page.goto(f"{admin}/admin/campaigns/spring/manage#audience")
        page.select_option("#tag", "volunteers")
        page.click("#enroll-tag")
        assert page.text_content("h1") == "Enroll 2 subscribers tagged \u201cvolunteers\u201d?"
        shot(page, "20-enroll-by-tag-question")
        page.click("#confirm")
        assert page.text_content("#message") == "2 subscribers enrolled."


def test_the_team_roles_and_an_invitation(admin, session_factory):
    with browser_page(DESKTOP) as page:
        sign_in(page, admin, "ana@agape.example")
        page.click("text=Team")
        page.fill("#invite-email", "nia@agape.example")
        page.fill("#invite-name", "Nia Okoro")
        page.select_option("#invite-role", "viewer")
        page.click("#invite-button")
        link = page.input_value("#invite-link")
        assert link.startswith(f"{admin}/admin/welcome/")
        shot(page, "30-team-invited")
        page.goto(f"{admin}/admin/audit")
        assert "ana@agape.example" in page.text_content("table")
        shot(page, "31-audit-log")

    with browser_page(DESKTOP) as page:  # the newcomer, in their own browser
        page.goto(link)
        assert "nia@agape.example" in page.text_content(".login")
        shot(page, "32-welcome-choose-password")
        page.fill("#password", "my own long password")
        page.fill("#again", "my own long password")
        page.click("#save-password")
        page.wait_for_url(f"{admin}/admin")
        assert "viewer" in page.text_content("#me")
        page.goto(f"{admin}/admin/subscribers")
        page.click("text=ann.lee@example.org")
        assert "changes nothing" in page.text_content("#actions") and not page.is_visible("#erase")
        shot(page, "33-viewer-sees-no-actions")
        # A form posted anyway (an old tab, a crafted page) is refused, and says why.
        page.goto(f"{admin}/admin/team")
        assert "Not something your role can do" in page.text_content("h1")
        shot(page, "34-viewer-refused")


def test_the_sign_up_form_pasted_into_the_organisations_site_on_a_phone(db_url, session_factory, tmp_path, people):
    site_port, app_port = free_port(), free_port()
    site, base = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{app_port}"
    provider = RecordingProvider()

    def site_page(request):
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, "
            "initial-scale=1'><title>Agape Detox</title><style>body{font-family:Georgia,serif;margin:0;padding:16px;"
            "background:#f7f3ee;color:#2b2b2b}header{font-size:22px;font-weight:bold;color:#1f6f5c;margin-bottom:8px}"
            "</style></head><body><header>Agape Detox</header><p>Our guide to baclofen misuse, by email.</p>"
            + snippet(base, "test", "Baclofen misuse: what families should know")
            + "<footer><p>Agape Detox · 24/7 helpline</p></footer></body></html>"
        )

    def make_app(_: str):
        return admin_app(
            db_url, session_factory, tmp_path, base_url=base, clock=Clock(NOW), provider=provider, signup_origins=site
        )

    with (
        served(lambda _: Starlette(routes=[Route("/", site_page)]), site_port),
        served(make_app, app_port),
        browser_page(PHONE) as page,
    ):
        page.goto(site)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "40-embedded-form-375")
        page.fill("#outreach-email", "maria@example.com")
        page.fill("#outreach-name", "Maria")
        page.select_option("#outreach-timezone", "America/Chicago")
        page.click(".outreach-signup button")
        page.wait_for_url(f"{base}/signup/embedded")
        assert "Check your inbox" in page.text_content("h1")
        assert page.get_attribute("#back", "href") == site
        shot(page, "41-embedded-sent-375")

        page.goto(site)  # a typing slip: our own form, with what was typed and the reason
        page.fill("#outreach-email", "maria@example")
        page.evaluate("document.querySelector('.outreach-signup').noValidate = true")
        page.click(".outreach-signup button")
        assert "valid email address" in page.text_content("main")
        shot(page, "42-embedded-mistake-375")
    with session_factory() as s:
        request = s.scalar(select(SignupRequest))
    assert (request.source, request.timezone) == ("embedded form", "America/Chicago")
    assert len(provider.batches) == 1


def test_the_admin_page_with_the_form_to_paste(admin):
    with browser_page(DESKTOP) as page:
        sign_in(page, admin, "vic@agape.example")
        page.goto(f"{admin}/admin/signup-form")
        assert "OUTREACH_SIGNUP_ORIGINS" in page.text_content("#no-origins")
        assert "/signup/embedded" in page.input_value("#snippet-code")
        shot(page, "43-admin-signup-form")
