"""The seed series as a phone shows it: the welcome, a lesson and the last email at 375 px, light and dark, in
headless Chromium; screenshots go to tests/artifacts/emails/.

Each email is filled as the send path fills it (a reader in New York, so the US crisis lines), and opened with every
network request refused: a screenshot of an email that needed anything from the network would show it broken, and
the test fails on the first request it sees.
"""

from __future__ import annotations

import pytest

from campaigns.authoring.render import compile_step, crisis_block
from campaigns.brand import load_brand
from campaigns.management.lifecycle import plan_file
from campaigns.settings import PROJECT_ROOT
from tests.browser import browser_page, needs_chromium, screenshot

pytestmark = [pytest.mark.browser, needs_chromium]

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
BRAND = load_brand(PROJECT_ROOT / "content" / "brand.toml")
SERIES = plan_file(SEED)
READER = {
    "first_name": "María",
    "unsubscribe_url": "https://outreach.agape.example/u/sample",
    "preferences_url": "https://outreach.agape.example/p/sample",
    "reader_url": "https://outreach.agape.example/r/sample",
    "next_day": "Wednesday",
    "crisis": crisis_block("US"),
}
EMAILS = {"welcome": 1, "lesson": 4, "final": len(SERIES.steps)}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(EMAILS))
def test_the_email_reads_on_a_phone(name, scheme):
    step = SERIES.step(EMAILS[name])
    html, _ = compile_step(SERIES, step, BRAND).fill(READER)
    requests: list[str] = []
    with browser_page({"width": 375, "height": 812}, color_scheme=scheme) as page:
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        page.set_content(html, wait_until="load")
        screenshot(page, "emails", f"{name}-{scheme}")
        width = page.evaluate("document.documentElement.scrollWidth")
        help_box = page.locator("text=Need help now?")
        tel = page.locator(f'a[href="{BRAND.tel_url}"]').first
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text_colour = page.evaluate(
            "getComputedStyle([...document.querySelectorAll('.card div')].find(d => d.textContent.includes('Hi ')))"
            ".color"
        )
        assert help_box.is_visible() and tel.is_visible()
        tel_box = tel.bounding_box()
    assert requests == [], "the email loaded something from the network"
    assert width <= 375, "nothing scrolls sideways on a phone"
    assert tel_box is not None and tel_box["height"] >= 18  # a number big enough to tap
    dark_page = background == "rgb(18, 21, 20)"
    assert dark_page == (scheme == "dark")
    assert (text_colour == "rgb(230, 235, 233)") == (scheme == "dark")  # light text on the dark card
