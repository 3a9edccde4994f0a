"""Checks before scheduling: each kind of problem is found, and a blocking one stops scheduling with the list."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns.db.models import Campaign, StepRow
from campaigns.errors import StateError
from campaigns.management.checks import (
    HTML_MAX_BYTES,
    bad_link,
    blocking,
    check_campaign,
    check_step,
)
from campaigns.management.lifecycle import schedule_campaign
from campaigns.management.records import get_campaign
from campaigns.settings import load_settings
from tests.builders import START, enroll, make_campaign

VALUES = {
    "first_name": "Sam",
    "unsubscribe_url": "https://outreach.example.net/u/t",
    "preferences_url": "https://outreach.example.net/p/t",
}
GOOD_HTML = (
    "<p>Hi %%first_name%%</p><a href='https://agapedetox.com/contact'>Call us</a>"
    "<a href='%%unsubscribe_url%%'>Unsubscribe</a>"
)


def step(**changes) -> StepRow:
    values = dict(
        number=2,
        kind="lesson",
        subject="How baclofen works",
        preheader="What it does in the body, and why the dose matters",
        delay_days=2,
        sections=[],
        words=100,
        html=GOOD_HTML,
        text="Hi %%first_name%%\n%%unsubscribe_url%%",
    )
    values.update(changes)
    return StepRow(**values)


def messages(row: StepRow, real: bool = True) -> list[str]:
    return [p.message for p in check_step(row, VALUES, real=real, skip_links=set(VALUES.values()))]


def test_a_good_step_has_no_problem():
    assert messages(step()) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"subject": ""}, "the subject is empty"),
        ({"subject": "x" * 61}, "the subject is 61 characters"),
        ({"preheader": "y" * 111}, "the preheader is 111 characters"),
        ({"preheader": "A two-minute read"}, "the preheader is 17 characters; 40 to 90 read best"),
        ({"html": GOOD_HTML + "<p>{{ brand.phone }}</p>"}, "unrendered template syntax in the HTML version"),
        ({"text": "Hi {% if x %}"}, "unrendered template syntax in the text version"),
        ({"html": GOOD_HTML + "%%last_name%%"}, "unknown placeholder(s) %%last_name%%"),
        ({"html": GOOD_HTML + "<p>" + "a" * HTML_MAX_BYTES + "</p>"}, "Gmail clips emails over 102 KB"),
        ({"html": "<a href='https://www.example.org/contact'>x</a>"}, "placeholder host www.example.org"),
        ({"html": "<a href='http://agapedetox.com/'>x</a>"}, "not https"),
        ({"html": "<a href='https://agapedetox.com/{{ cta }}'>x</a>"}, "template"),
        ({"text": "Call us: https://localhost:8000/contact"}, "placeholder host localhost"),
        ({"html": " ", "text": "x"}, "the HTML version is empty"),
    ],
)
def test_each_problem_is_found_with_a_clear_message(changes, expected):
    found = messages(step(**changes))
    assert any(expected in m for m in found), found


def test_placeholder_links_only_warn_for_the_outbox_but_a_malformed_one_always_blocks():
    outbox = check_step(
        step(html="<a href='https://www.example.org/x'>x</a><a href='https:///nohost'>y</a>"),
        VALUES,
        real=False,
        skip_links=set(VALUES.values()),
    )
    assert [(p.blocking, "placeholder" in p.message) for p in outbox] == [(True, False), (False, True)]
    assert bad_link("mailto:help@agapedetox.com") is None and bad_link("tel:+15550100") is None
    assert bad_link("https://agapedetox.com/contact") is None


def test_failed_checks_block_scheduling_with_the_list_of_what_to_fix(session_factory):
    cid = make_campaign(session_factory, status="draft")
    enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        s.execute(update(StepRow).where(StepRow.number == 2).values(subject="x" * 151))
        s.execute(update(StepRow).where(StepRow.number == 3).values(html="<p>{{ unrendered }}</p>"))
    with pytest.raises(StateError) as caught, session_factory.begin() as s:
        schedule_campaign(s, "test", START, START - timedelta(days=1), actor="ana")
    message = str(caught.value)
    assert message.startswith("cannot schedule campaign 'test': 2 check(s) failed:")
    assert "step 2: the subject is 151 characters" in message and "step 3: unrendered template syntax" in message
    with session_factory() as s:
        assert s.scalar(select(Campaign.status)) == "draft"


def test_a_real_backend_makes_the_example_brand_and_http_links_block(session_factory, brand, tmp_path, db_url):
    make_campaign(session_factory, status="draft")
    real = load_settings(database_url=db_url, email_backend="sendgrid", base_url="http://localhost:8000")
    outbox = load_settings(database_url=db_url, base_url="https://outreach.agapedetox.com")
    with session_factory() as s:
        c = get_campaign(s, "test")
        strict = blocking(check_campaign(s, c, settings=real))
        relaxed = check_campaign(s, c, settings=outbox)
    assert any("OUTREACH_BASE_URL is http://localhost:8000" in str(p) for p in strict)
    # The unsubscribe and preference links only repeat that: not listed once per email again.
    assert not any("/u/" in str(p) or "/p/" in str(p) for p in strict)
    assert blocking(relaxed) == []
    assert brand.is_example  # the shipped brand file is the example one: with it, a real backend is blocked
    with session_factory() as s:
        [problem] = [
            p
            for p in blocking(check_campaign(s, get_campaign(s, "test"), brand=brand, settings=real))
            if "placeholder values" in str(p)
        ]
        assert "website (www.example.org is reserved for examples)" in str(problem)  # one line for them all
        # By value too: a placeholder left out of `examples` still blocks (and only warns for the outbox).
        unlisted = replace(brand, examples=())
        [found] = [
            p
            for p in blocking(check_campaign(s, get_campaign(s, "test"), brand=unlisted, settings=real))
            if "placeholder values" in str(p)
        ]
        for key in ("phone (", "phone_display (", "cta_url (", "address (says Example)", "reply_to ("):
            assert key in str(found), key
        relaxed = check_campaign(s, get_campaign(s, "test"), brand=unlisted, settings=outbox)
        assert [p for p in relaxed if "placeholder values" in str(p) and p.blocking] == []


def test_a_short_preheader_only_warns():
    [problem] = check_step(step(preheader="Short"), VALUES, real=True, skip_links=set(VALUES.values()))
    assert not problem.blocking and "40 to 90" in problem.message


def test_a_signed_token_is_never_shown_whole():
    from campaigns.management.checks import shown_link
    from tests.builders import LINKS

    link = LINKS.unsubscribe_url(12, 3)
    shown = shown_link(link)
    assert shown.startswith("https://outreach.test/u/") and shown.endswith("…") and len(shown) < len(link) - 20
    plain = "https://agape.test/help/baclofen-misuse-and-addiction-treatment-guide.html?from=email"
    assert shown_link(plain) == plain
