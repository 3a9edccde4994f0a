"""Helpers for the parsing tests: paths, and checks on what a parsed article holds."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import Article, BulletList, Paragraph

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "articles"


def all_blocks(article: Article) -> list[str]:
    """Every block's text in reading order (a list's items joined), the bio last."""
    sections = [*article.sections, *([article.closing] if article.closing else [])]
    blocks = [*article.intro, *(b for s in sections for b in s.blocks)]
    texts = [b.text if isinstance(b, Paragraph) else "\n".join(b.texts) for b in blocks]
    return texts + ([article.author_bio] if article.author_bio else [])


def all_text(article: Article) -> str:
    """Everything a reader would see: title, headings, blocks, bio."""
    sections = [*article.sections, *([article.closing] if article.closing else [])]
    return "\n".join([article.title, *(s.heading for s in sections), *all_blocks(article)])


def assert_each_once_in_order(units: list[str], article: Article) -> None:
    """Each unit appears in exactly one block, verbatim (whitespace aside), and the units come in order."""
    blocks = [" ".join(t.split()) for t in all_blocks(article)]
    position = (0, 0)
    for unit in units:
        # article_units strips "-" and "•" markers but not "*" ones; the parser drops every marker.
        unit = " ".join(unit.split()).removeprefix("* ")
        holders = [i for i, b in enumerate(blocks) if unit in b]
        assert len(holders) == 1, f"{unit!r} is in {len(holders)} blocks"
        here = (holders[0], blocks[holders[0]].find(unit))
        assert here >= position, f"{unit!r} is out of order"
        position = here


def lists_of(article: Article) -> list[BulletList]:
    sections = [*article.sections, *([article.closing] if article.closing else [])]
    return [b for s in sections for b in s.blocks if isinstance(b, BulletList)] + [
        b for b in article.intro if isinstance(b, BulletList)
    ]
