"""The article corpus (issue 14): articles shaped as real sites publish them, each with what its series must hold.

Every article in tests/fixtures/articles that has a sidecar NAME.expect.toml is planned and each email rendered,
as `outreach series plan` and `outreach preview --format text|html` do, and then:
  * the series title is the sidecar's `title`, and no section heading repeats it;
  * each `body` sentence is in exactly one email, and they come in order (each email at or after the one before);
  * each `bio` sentence (the author box, kept as the bio) is in exactly one email;
  * each of the `headings` is in at least one email (a welcome may list them again);
  * no `residue` string (navigation, sidebars, call-out boxes, TOC lines, alt text, share bars, forms, footers...)
    is in any email, text or HTML.
Sentences are compared as lower-case words (punctuation, quote styles and citation markers like [1] aside).

The sidecars are written with the articles by tests/fixtures/article_sources/build.py; the second test checks that
each sidecar still fits its article (every expected sentence and residue string is in the file).
"""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
SIDECARS = sorted(CORPUS.glob("*.expect.toml"))


def article_for(sidecar: Path) -> Path:
    stem = sidecar.name.removesuffix(".expect.toml")
    found = [CORPUS / f"{stem}{suffix}" for suffix in ARTICLE_SUFFIXES if (CORPUS / f"{stem}{suffix}").is_file()]
    assert len(found) == 1, f"{sidecar.name}: expected one article named {stem}.*, found {found}"
    return found[0]


def expected(sidecar: Path) -> dict:
    data = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    for key in ("title", "body", "residue"):
        assert key in data, f"{sidecar.name}: no {key!r}"
    return {"headings": [], "bio": [], **data}


def norm(text: str) -> str:
    """Lower-case words joined by single spaces: what two renderings of one sentence have in common."""
    text = re.sub(r"\[\d+(?:[,\u2013-]\s*\d+)*\]", " ", text)  # citation markers: compared without them
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def holds(haystack: str, needle: str) -> bool:
    return f" {needle} " in f" {haystack} "


def series_emails(article: Path) -> tuple[str, list[str], list[str], list[list[str]]]:
    """(series title, each email's text, each email's HTML, each email's section headings), computed as `outreach
    series plan ARTICLE [--json]` and `outreach preview ARTICLE --step N --format text|html` compute them. The one
    place that knows the product's API."""
    from campaigns.authoring.render import preview
    from outreach.bootstrap import get_brand
    from outreach.commands.series import load_series

    series = load_series(article)
    brand = get_brand()
    texts = [preview(series, step, brand, "text") for step in series.steps]
    htmls = [preview(series, step, brand, "html") for step in series.steps]
    return series.title, texts, htmls, [list(step.section_headings) for step in series.steps]


def short(s: str, n: int = 80) -> str:
    return repr(s if len(s) <= n else s[:n] + "...")


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expect.toml"))
def test_series_carries_the_body_once_in_order_and_no_residue(sidecar):
    want = expected(sidecar)
    article = article_for(sidecar)
    try:
        title, texts, htmls, sections = series_emails(article)
    except Exception as err:  # an article the product cannot plan fails here, with the product's own words
        pytest.fail(f"{article.name} gives no series: {type(err).__name__}: {err}")
    emails = [norm(t) for t in texts]
    problems: list[str] = []

    if norm(title) != norm(want["title"]):
        problems.append(f"series title {title!r}, expected {want['title']!r}")
    for i, headings in enumerate(sections):
        problems += [
            f"the title repeated as a section heading in email {i + 1}: {short(h)}"
            for h in headings
            if norm(h).startswith(norm(want["title"]))
        ]

    last = 0
    for unit in want["body"]:
        holders = [i + 1 for i, e in enumerate(emails) if holds(e, norm(unit))]
        if not holders:
            problems.append(f"body sentence in no email: {short(unit)}")
        elif len(holders) > 1:
            problems.append(f"body sentence in emails {holders}: {short(unit)}")
        else:
            if holders[0] < last:
                problems.append(f"body sentence out of order (email {holders[0]} after {last}): {short(unit)}")
            last = max(last, holders[0])

    for unit in want["bio"]:
        holders = [i + 1 for i, e in enumerate(emails) if holds(e, norm(unit))]
        if len(holders) != 1:
            problems.append(f"bio sentence in emails {holders or 'none'}: {short(unit)}")

    for heading in want["headings"]:
        text = heading.lstrip("#").strip()
        if not any(holds(e, norm(text)) for e in emails):
            problems.append(f"heading in no email: {heading!r}")

    for residue in want["residue"]:
        variants = {residue, html.escape(residue, quote=False), html.escape(residue)}
        found = [
            i + 1 for i, (t, h) in enumerate(zip(texts, htmls, strict=True)) if any(v in t or v in h for v in variants)
        ]
        if found:
            problems.append(f"residue in emails {found}: {short(residue)}")

    body = len(want["body"])
    missing = sum(p.startswith("body sentence in no email") for p in problems)
    assert not problems, (
        f"{article.name}: {len(texts)} emails; {body - missing} of {body} body sentences carried; "
        f"{len(problems)} problems:\n  " + "\n  ".join(problems)
    )


def article_text(article: Path) -> tuple[str, str]:
    """(the words a reader sees, the whole file with entities decoded), both normalised."""
    raw = article.read_text(encoding="utf-8")
    if article.suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup

        seen = BeautifulSoup(raw, "html.parser").get_text(" ")
        return norm(seen), norm(html.unescape(raw))
    if article.suffix in (".md", ".markdown"):
        return norm(re.sub(r"\]\([^)]*\)", "]", raw)), norm(raw)  # link targets are not text
    return norm(raw), norm(raw)


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expect.toml"))
def test_sidecar_fits_its_article(sidecar):
    """Every expected sentence is in the article, each residue string is on the page and in none of them, and no
    sentence is contained in another (so "in exactly one email" can be decided)."""
    want = expected(sidecar)
    article = article_for(sidecar)
    seen, raw = article_text(article)
    source = html.unescape(article.read_text(encoding="utf-8"))
    kept = [want["title"], *want["body"], *want["bio"], *(h.lstrip("#").strip() for h in want["headings"])]
    problems = [
        f"not in the article: {short(u)}"
        for u in kept
        if not holds(seen, norm(u)) and not (u is want["title"] and holds(norm(article.stem), norm(u)))
    ]  # a title from the file name
    problems += [
        f"residue not on the page: {short(r)}"
        for r in want["residue"]
        if r not in source and not (norm(r) and (holds(seen, norm(r)) or holds(raw, norm(r))))
    ]
    kept_words = " | ".join(norm(u) for u in kept)
    kept_text = " | ".join(kept)
    # a residue string of one word or of punctuation is compared as it is written, longer ones as words
    problems += [
        f"residue is also body text: {short(r)}"
        for r in want["residue"]
        if (holds(kept_words, norm(r)) if len(norm(r).split()) > 1 else r in kept_text)
    ]
    units = [norm(u) for u in [*want["body"], *want["bio"]]]
    problems += [
        f"sentence inside another: {short(a)}"
        for i, a in enumerate(units)
        if any(j != i and holds(b, a) for j, b in enumerate(units))
    ]
    problems += [f"sentence under 5 words: {short(u)}" for u in units if len(u.split()) < 5]
    assert not problems, "\n".join(problems)
