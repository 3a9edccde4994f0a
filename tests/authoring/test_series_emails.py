"""The whole article-to-emails path on the seed and on articles it has never seen: every sentence of the body lands
in exactly one email, in order, with no page residue, and each email is within its limits."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from campaigns.authoring.article import BulletList
from campaigns.authoring.parsing import SUFFIXES
from campaigns.authoring.planning import PREHEADER_MAX, SUBJECT_MAX
from campaigns.authoring.render import preview
from campaigns.brand import load_brand
from campaigns.management.lifecycle import plan_file
from campaigns.settings import PROJECT_ROOT

ARTICLES = sorted(p for p in (PROJECT_ROOT / "tests" / "fixtures" / "articles").iterdir() if p.suffix in SUFFIXES)
SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
BRAND = load_brand(PROJECT_ROOT / "content" / "brand.toml")


def words(s: str) -> str:
    s = s.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


def sentences(path: Path) -> list[str]:
    """The body's sentences as the parser kept them (its own tests hold it to the page), five words or more."""
    article = plan_file(path).article
    blocks = [*article.intro, *(b for s in (*article.sections, *filter(None, [article.closing])) for b in s.blocks)]
    texts = [t for b in blocks for t in b.texts]
    texts += [article.author_bio] if article.author_bio else []
    return [u for t in texts for u in re.split(r"(?<=[.!?])\s+", t) if len(words(u).split()) >= 5]


@pytest.mark.parametrize("path", [SEED, *ARTICLES], ids=lambda p: p.name)
def test_every_sentence_in_exactly_one_email_in_order(path):
    series = plan_file(path)
    texts = [words(preview(series, step, BRAND, "text")) for step in series.steps]
    last = -1
    for unit in sentences(path):
        holders = [i for i, t in enumerate(texts) if words(unit) in t]
        assert len(holders) == 1, f"{unit[:60]!r} is in emails {holders}"
        assert holders[0] >= last, f"{unit[:60]!r} is out of order"
        last = holders[0]


@pytest.mark.parametrize("path", [SEED, *ARTICLES], ids=lambda p: p.name)
def test_each_email_is_within_its_limits_and_clean(path):
    series = plan_file(path)
    assert series.steps[0].kind == "welcome" and series.steps[-1].kind == "cta"
    for step in series.steps:
        assert 0 < len(step.subject) <= SUBJECT_MAX and 0 < len(step.preheader) <= PREHEADER_MAX
        html = preview(series, step, BRAND, "html")
        assert len(html.encode()) < 102_400
        for residue in ("Table of Contents", "Toggle", "{{", "{%", "Share on", "In This Article"):
            assert residue not in html
    for step in series.steps[1:-1]:
        assert 150 <= step.words <= 450 or len(step.sections) == 1 or step is series.steps[-2], (
            f"step {step.number}: {step.words} words in {len(step.sections)} sections"
        )


def test_seed_gives_the_expected_series():
    series = plan_file(SEED)
    assert [s.kind for s in series.steps] == ["welcome"] + ["lesson"] * 7 + ["cta"]
    assert series.steps[1].subject == "How Does Baclofen Work in the Body?"
    assert series.steps[3].section_headings == [
        "Understanding Baclofen Dependence vs. Addiction",
        "Signs and Symptoms of Baclofen Misuse",
    ]
    cta = preview(series, series.steps[-1], BRAND, "html")
    assert 'href="tel:' in cta and f'href="{BRAND.website}/r/sample"' in cta and "Agape Detox" in cta
    assert not any(isinstance(b, BulletList) and len(b.items) < 2 for s in series.article.sections for b in s.blocks)


@pytest.mark.skipif(not (PROJECT_ROOT.parent / "shared" / "checks").is_dir(), reason="../shared/checks is absent")
def test_seed_units_of_the_external_check_are_all_carried():
    sys.path.insert(0, str(PROJECT_ROOT.parent / "shared" / "checks"))
    from article_units import article_units

    series = plan_file(SEED)
    texts = [words(preview(series, step, BRAND, "text")) for step in series.steps]
    for unit in article_units(SEED):
        assert sum(words(unit) in t for t in texts) == 1, unit
