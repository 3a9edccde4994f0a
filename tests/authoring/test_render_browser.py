"""Emails with the article's richer blocks (a table, a figure caption, a quote, a nested numbered list, subsection
headings) as a subscriber sees them on a phone: rendered from corpus articles, opened in headless Chromium 375 px
wide, screenshots in tests/artifacts/emails/. Nothing may be wider than the screen."""

from __future__ import annotations

import pytest

from campaigns.authoring.render import preview
from campaigns.brand import load_brand
from campaigns.management.lifecycle import plan_file
from campaigns.settings import PROJECT_ROOT
from tests.browser import browser_page, needs_chromium, screenshot

CORPUS = PROJECT_ROOT / "tests" / "fixtures" / "articles"
BRAND = load_brand(PROJECT_ROOT / "content" / "brand.toml")
PHONE = {"width": 375, "height": 812}
pytestmark = [pytest.mark.browser, needs_chromium]

# (article, what the email must show): the step is the first lesson that holds it.
CASES = [
    ("does-insurance-cover-rehab.txt", "table"),
    ("gabapentin-misuse.html", "caption"),
    ("gabapentin-misuse.html", "quote"),
    ("benzodiazepine-tapering.md", "nested"),
    ("cannabis-hyperemesis-syndrome.html", "subsection"),
]


def lesson_with(article: str, kind: str):
    from campaigns.authoring.article import BulletList, Paragraph, Table

    series = plan_file(CORPUS / article)
    wanted = {
        "table": lambda b: isinstance(b, Table),
        "caption": lambda b: isinstance(b, Paragraph) and b.role == "caption",
        "quote": lambda b: isinstance(b, Paragraph) and b.role == "quote",
        "nested": lambda b: isinstance(b, BulletList) and any(b.depths),
    }
    for step in series.steps[1:-1]:
        if kind == "subsection" and any(s.level > 2 for s in step.sections):
            return series, step
        if kind in wanted and any(wanted[kind](b) for s in step.sections for b in s.blocks):
            return series, step
    raise AssertionError(f"{article}: no lesson with a {kind}")


@pytest.mark.parametrize("article, kind", CASES, ids=[f"{a.split('.')[0]}-{k}" for a, k in CASES])
def test_rich_blocks_read_on_a_phone(article: str, kind: str) -> None:
    series, step = lesson_with(article, kind)
    html = preview(series, step, BRAND, "html")
    selector = {
        "table": "div[style*='border-left']",
        "caption": "p[style*='italic']",
        "quote": "blockquote",
        "nested": "li ul",
        "subsection": "h3",
    }[kind]
    with browser_page(PHONE) as page:
        page.set_content(html, wait_until="load")
        target = page.locator(selector).first
        assert target.is_visible()
        widest = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert widest <= PHONE["width"], f"{widest} px wide: the email scrolls sideways on a phone"
        target.scroll_into_view_if_needed()
        screenshot(page, "emails", f"{article.split('.')[0]}-{kind}")
