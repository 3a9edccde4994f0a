"""Series planning on hand-made articles: whole sections, in order, within the word bounds, welcome and CTA."""

import pytest

from campaigns.authoring.article import Article, BulletList, Paragraph, Section
from campaigns.authoring.planning import (
    MAX_LESSONS,
    MAX_WORDS,
    PREHEADER_MAX,
    PREHEADER_MIN,
    SUBJECT_MAX,
    fit,
    group_sections,
    plan_series,
    shorten_subject,
)
from campaigns.authoring.render import preview
from campaigns.errors import PlanError
from tests.builders import BRAND


def section(heading: str, words: int, with_list: bool = False) -> Section:
    body = " ".join(f"word{i}" for i in range(words - 1)) + " end."
    blocks = [Paragraph(f"{heading} opens here. {body}")]
    if with_list:
        blocks.append(BulletList(("first item", "second item", "third item")))
    return Section(heading, tuple(blocks))


def article(*sections: Section, closing: Section | None = None, bio: str | None = None) -> Article:
    return Article(
        title="Test Topic",
        intro=(Paragraph("An intro sentence for the series."),),
        sections=sections,
        closing=closing,
        author_bio=bio,
    )


def test_short_sections_are_joined_and_long_ones_stand_alone():
    groups = group_sections(
        (section("A", 60), section("B", 60), section("C", 60), section("D", 500), section("E", 200)), 150, 450
    )
    assert [[s.heading for s in g] for g in groups] == [["A", "B", "C"], ["D"], ["E"]]


def test_a_short_last_lesson_joins_the_one_before():
    groups = group_sections((section("A", 200), section("B", 200), section("C", 40)), 150, 450)
    assert [[s.heading for s in g] for g in groups] == [["A"], ["B", "C"]]


def test_plan_keeps_every_section_once_in_order_with_welcome_and_cta():
    sections = [section(f"Heading {i}", n, with_list=i % 2 == 0) for i, n in enumerate([90, 120, 300, 80, 240])]
    closing = section("Get Help Today", 80)
    series = plan_series(article(*sections, closing=closing, bio="Dr. Ann Lee is a physician."), delay_days=3)
    kinds = [s.kind for s in series.steps]
    assert kinds[0] == "welcome" and kinds[-1] == "cta" and set(kinds[1:-1]) == {"lesson"}
    lesson_sections = [sec for s in series.steps[1:-1] for sec in s.sections]
    assert lesson_sections == sections  # every section once, in the article's order, never split
    assert series.steps[-1].sections == (closing,) and series.steps[-1].author_bio.startswith("Dr. Ann Lee")
    assert series.steps[0].intro == series.article.intro
    assert [s.number for s in series.steps] == list(range(1, len(series.steps) + 1))
    assert [s.delay_days for s in series.steps] == [0] + [3] * (len(series.steps) - 1)
    for s in series.steps[1:-1]:
        assert s.words <= MAX_WORDS or len(s.sections) == 1


def test_subjects_and_preheaders_fit_their_limits():
    long_heading = "Seeking Help for Long-Term Prescription Medication Dependence at Agape Detox Centers"
    series = plan_series(
        article(section(long_heading, 200), section("B " * 40, 200), closing=section(long_heading, 50))
    )
    for s in series.steps:
        assert 0 < len(s.subject) <= SUBJECT_MAX, s.subject
        assert PREHEADER_MIN <= len(s.preheader) <= PREHEADER_MAX, s.preheader
    assert series.steps[1].subject == "Seeking Help for Long-Term Prescription Medication…"


def test_shorten_subject_cuts_a_trailing_phrase_or_at_a_word():
    assert (
        shorten_subject("Seeking Help for Baclofen Dependence or Misuse at Agape Detox")
        == "Seeking Help for Baclofen Dependence or Misuse"
    )
    assert shorten_subject("Short heading") == "Short heading"
    cut = shorten_subject("x" * 10 + " " + "y" * 70)
    assert len(cut) <= SUBJECT_MAX and cut.endswith("…")
    assert fit("one two three four", 12) == "one two…"


def test_article_without_closing_still_ends_with_a_cta_step():
    series = plan_series(article(section("Only", 200)))
    assert series.steps[-1].kind == "cta" and series.steps[-1].sections == ()


def test_json_has_the_contract_fields():
    data = plan_series(article(section("A", 200))).as_json()
    assert data["title"] == "Test Topic"
    assert set(data["steps"][0]) >= {"number", "subject", "preheader", "sections", "words", "delay_days"}


def test_no_sections_and_bad_delay_are_clear_errors():
    with pytest.raises(PlanError, match="no sections"):
        plan_series(article())
    with pytest.raises(PlanError, match="delay"):
        plan_series(article(section("A", 100)), delay_days=0)


def test_step_out_of_range_names_the_range():
    series = plan_series(article(section("A", 200)))
    with pytest.raises(PlanError, match="steps 1 to 3"):
        series.step(9)


def paragraphs(n: int, words: int = 60) -> tuple[Paragraph, ...]:
    return tuple(
        Paragraph(f"Paragraph {i} says something. " + " ".join(f"w{i}x{j}" for j in range(words - 4)) + ".")
        for i in range(n)
    )


def every_block(series) -> list:
    blocks = [*series.steps[0].intro]
    for step in series.steps[1:]:
        blocks += [b for s in step.sections for b in s.blocks]
    return blocks


def test_an_article_without_headings_is_cut_between_paragraphs() -> None:
    body = paragraphs(16)  # 960 words, no heading at all
    art = Article(title="Test Topic", intro=(), sections=(Section("", body),))
    series = plan_series(art)
    lessons = series.steps[1:-1]
    assert series.steps[0].intro == body[:1]  # the welcome opens with the article's first paragraph
    assert every_block(series) == list(body)  # every paragraph once, in order, none cut
    assert [s.words for s in lessons] == [300, 300, 300]  # 15 paragraphs of 60 words: three even lessons
    assert lessons[0].subject == "Paragraph 1 says something."  # named by its first sentence
    welcome = " ".join(preview(series, series.steps[0], BRAND, "text").split())
    assert all(s.subject in welcome for s in lessons)  # the welcome lists what each lesson covers


def test_a_very_long_article_gives_at_most_twelve_lessons_and_a_short_one_fewer_emails() -> None:
    long = article(*(section(f"Part {i}", 180) for i in range(40)))  # 7,200 words
    series = plan_series(long)
    lessons = series.steps[1:-1]
    assert len(lessons) == MAX_LESSONS
    assert [sec.heading for s in lessons for sec in s.sections] == [f"Part {i}" for i in range(40)]
    assert {len(s.sections) for s in lessons} == {3, 4}  # as even as whole sections allow
    short = plan_series(article(section("Only", 120)))
    assert [s.kind for s in short.steps] == ["welcome", "lesson", "cta"]


def test_a_long_section_is_cut_between_its_blocks_and_a_part_title_never_ends_a_lesson() -> None:
    big = Section("One Long Section", paragraphs(12))  # 720 words in one section
    part = Section("Part Two", (), level=2)  # a part title with subsections under it
    sub = Section("First Subsection", paragraphs(2), level=3)
    series = plan_series(article(big, part, sub))
    lessons = series.steps[1:-1]
    headings = [[sec.heading for sec in s.sections] for s in lessons]
    assert headings[0] == ["One Long Section"] and headings[1][0] == "One Long Section (continued)"
    assert all(s.sections and s.words > 0 for s in lessons)  # never an empty lesson
    assert all(s.sections[-1].blocks for s in lessons)  # a part title always goes with what is under it
    assert ["Part Two", "First Subsection"] in [h[-2:] for h in headings]
    assert lessons[-1].subject == "Part Two, and First Subsection"  # a part title names its lesson first
