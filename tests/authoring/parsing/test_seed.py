"""The seed article (raw text copied from Agape Detox's page) parses into the article a reader sees."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import BulletList, Paragraph
from campaigns.authoring.parsing import parse_article

from .support import all_text, assert_each_once_in_order, lists_of

SEED_HEADINGS = [
    "How Does Baclofen Work in the Body?",
    "Is Baclofen Considered an Addictive Drug?",
    "Understanding Baclofen Dependence vs. Addiction",
    "Signs and Symptoms of Baclofen Misuse",
    "Can You Develop a Tolerance to Baclofen?",
    "Baclofen Withdrawal: Symptoms and Risks",
    "Is Baclofen Safe for Long-Term Use?",
    "Using Baclofen for Alcohol Withdrawal: Risks and Benefits",
    "Safe Use Guidelines for Baclofen",
]


def test_seed_title_comes_from_the_file_name(seed_path: Path) -> None:
    assert parse_article(seed_path).title == "Baclofen Misuse"


def test_seed_sections_are_found_by_shape_in_order(seed_path: Path) -> None:
    article = parse_article(seed_path)
    assert [s.heading for s in article.sections] == SEED_HEADINGS
    assert all(s.blocks for s in article.sections)


def test_seed_intro_is_the_first_two_paragraphs(seed_path: Path) -> None:
    article = parse_article(seed_path)
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    assert article.intro == (Paragraph(lines[0]), Paragraph(lines[1]))


def test_seed_lists_stay_whole(seed_path: Path) -> None:
    article = parse_article(seed_path)
    sizes = {s.heading: [len(b.items) for b in s.blocks if isinstance(b, BulletList)] for s in article.sections}
    assert sizes["Understanding Baclofen Dependence vs. Addiction"] == [2]
    assert sizes["Signs and Symptoms of Baclofen Misuse"] == [8]
    assert sizes["Baclofen Withdrawal: Symptoms and Risks"] == [6]
    assert sizes["Safe Use Guidelines for Baclofen"] == [6]
    # The paragraph ending in ':' stays a paragraph, right before its list.
    signs = next(s for s in article.sections if s.heading.startswith("Signs"))
    assert isinstance(signs.blocks[0], Paragraph) and signs.blocks[0].text.endswith("include:")
    assert isinstance(signs.blocks[1], BulletList) and signs.blocks[1].items[0] == "Taking higher doses than prescribed"
    assert len(lists_of(article)) == 5


def test_seed_closing_is_the_call_to_action(seed_path: Path) -> None:
    article = parse_article(seed_path)
    assert article.closing is not None
    assert article.closing.heading == "Seeking Help for Baclofen Dependence or Misuse at Agape Detox"
    assert article.closing not in article.sections
    kinds = [type(b) for b in article.closing.blocks]
    assert kinds == [Paragraph, BulletList, Paragraph]
    assert article.closing.blocks[-1].text.endswith("about our treatment options.")


def test_seed_author_bio_is_apart_from_the_closing(seed_path: Path) -> None:
    article = parse_article(seed_path)
    assert article.author_bio and article.author_bio.startswith("Stephanie Robilio is an accomplished")
    assert article.author_name == "Stephanie Robilio"
    assert all("Stephanie" not in getattr(b, "text", "") for b in article.closing.blocks)


def test_seed_has_no_residue(seed_path: Path) -> None:
    text = all_text(parse_article(seed_path))
    assert "Table of Contents" not in text
    assert "Toggle" not in text
    assert "’" in text  # curly apostrophes kept as written


def test_seed_trailing_counter_is_dropped(tmp_path: Path, seed_path: Path) -> None:
    # The page's copy ends the bio with a share counter ("... the Agape team.   62").
    copy = tmp_path / seed_path.name
    copy.write_text(seed_path.read_text(encoding="utf-8").rstrip("\n") + "   62\n", encoding="utf-8")
    article = parse_article(copy)
    assert article.author_bio.endswith("fostered by the Agape team.")
    assert not article.author_bio.rstrip().endswith("62")


def test_seed_every_unit_appears_once_in_order(seed_path: Path, article_units) -> None:
    units = article_units(seed_path)
    assert len(units) > 50
    assert_each_once_in_order(units, parse_article(seed_path))
