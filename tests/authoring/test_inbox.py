"""What the inbox shows: subjects naming the whole email, preheaders that add to them, cadence in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaigns.authoring.article import Article, BulletList, Paragraph, Section
from campaigns.authoring.inbox import (
    PREHEADER_MAX,
    PREHEADER_MIN,
    SUBJECT_MAX,
    cadence_words,
    lesson_preheader,
    lesson_subject,
    welcome_subject,
)
from campaigns.authoring.parsing import FORMATS, parse_source
from campaigns.authoring.parsing.source import read_article_text
from campaigns.authoring.planning import plan_series
from campaigns.authoring.sentences import first_sentence, sentence_case

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = [ROOT / "content" / "baclofen-misuse-article.txt", *sorted((ROOT / "tests/fixtures/articles").iterdir())]


def planned(path: Path, delay_days: int = 2):
    return plan_series(
        parse_source(read_article_text(path), FORMATS.get(path.suffix.lower(), "text"), path), delay_days=delay_days
    )


SEED = planned(ARTICLES[0])


def test_seed_subjects_name_every_topic_of_each_email():
    assert [s.subject for s in SEED.steps] == [
        "Welcome: what to know about baclofen misuse",
        "How Does Baclofen Work in the Body?",
        "Is Baclofen Considered an Addictive Drug?",
        "Baclofen Dependence vs. Addiction, and Signs of Misuse",
        "Can You Develop a Tolerance to Baclofen? And Withdrawal",
        "Is Baclofen Safe for Long-Term Use?",
        "Using Baclofen for Alcohol Withdrawal: Risks and Benefits",
        "Safe Use Guidelines for Baclofen",
        "Seeking Help for Baclofen Dependence or Misuse",
    ]


def test_seed_preheaders_add_to_the_subject():
    preheaders = [s.preheader for s in SEED.steps]
    assert preheaders[1] == "By mimicking GABA, baclofen decreases nerve signal transmission."
    assert preheaders[3] == "Misuse of baclofen increases the risk of addiction."  # "(such as …)" left out
    assert preheaders[7] == "Follow the prescribed dosage, avoid abrupt discontinuation, and more"


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_every_subject_and_preheader_is_written_for_the_inbox(path):
    series = planned(path)
    for step in series.steps:
        assert 0 < len(step.subject) <= SUBJECT_MAX, step.subject
        assert PREHEADER_MIN <= len(step.preheader) <= PREHEADER_MAX, step.preheader
        assert "minute read" not in step.preheader and "…" not in step.preheader
        assert not re.search(r"\b(at|in|for|with|from|of|and|or|to|by|the|a)$", step.preheader.rstrip(".")), step
        assert step.preheader.lower() != step.subject.lower()
    for step in series.lessons:
        opening = first_sentence(step.sections) or ""
        assert step.preheader not in opening, "the preheader repeats the email's first line"


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_preheaders_do_not_depend_on_the_delay(path):
    """A staff edit of a delay must not leave a preheader saying something untrue."""
    assert [s.preheader for s in planned(path, 2).steps] == [s.preheader for s in planned(path, 5).steps]


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_welcome_subject_names_the_subject_matter_plainly(path):
    series = planned(path)
    subject = series.steps[0].subject
    head = re.split(r":|(?<=\?)\s", series.title)[0]
    assert subject.startswith("Welcome: ")
    # The topic is named whole where it fits, else by its opening phrase: never cut after a dangling word.
    named = head if len(head) <= SUBJECT_MAX - len("Welcome: ") else " ".join(head.split()[:3])
    assert named.lower() in subject.lower(), "the welcome names the topic"
    assert subject.rstrip("?").split()[-1].lower() not in {"what", "how", "the", "a", "and", "or", "to", "of"}
    assert "guide to" not in subject.lower() and "-part" not in subject


def test_a_long_title_keeps_its_topic_in_the_welcome_subject():
    article = Article(
        "Alcohol Withdrawal: What to Expect and How to Stay Safe in the First Week at Home",
        (Paragraph("Alcohol withdrawal is common."),),
        (Section("Why withdrawal happens", (Paragraph("Alcohol slows the brain."),)),),
    )
    assert welcome_subject(article) == "Welcome: what to know about alcohol withdrawal"


def test_merged_lessons_name_both_topics():
    subject = lesson_subject(
        ["Understanding Baclofen Dependence vs. Addiction", "Signs and Symptoms of Baclofen Misuse"], {"baclofen"}
    )
    assert subject == "Baclofen Dependence vs. Addiction, and Signs of Misuse"
    assert lesson_subject(["Why Withdrawal Happens", "The First Three Days"]) == (
        "Why Withdrawal Happens, and the First Three Days"
    )
    # A term that is not the series' own stays where the heading needs it.
    assert lesson_subject(["What Counts as Misuse?", "Why People Misuse Stimulants"], {"stimulant"}) == (
        "What Counts as Misuse? And Why People Misuse Stimulants"
    )
    # Too many to name in 60 characters: as many as fit, and it says there is more.
    many = lesson_subject(["Mental health", "Dependence", "Warning signs for parents", "Starting the conversation"])
    assert many.endswith("and more") and many.startswith("Mental health, dependence") and len(many) <= SUBJECT_MAX


def section(heading: str, *paragraphs: str, items: tuple[str, ...] = ()) -> Section:
    blocks: list = [Paragraph(p) for p in paragraphs]
    if items:
        blocks.append(BulletList(items))
    return Section(heading, tuple(blocks))


def test_a_preheader_is_never_cut_where_the_meaning_turns_or_through_a_list():
    s = section(
        "Recovery After Detox",
        "Recovery after detox takes months for most people who go through it.",
        "Dependence can be hard to overcome, but with the right support and guidance recovery is possible.",
        "The prefrontal cortex handles planning, judgement and impulse control in adults.",
    )
    line = lesson_preheader([s], s.heading)
    assert line != "Dependence can be hard to overcome."  # cutting before "but" would say the opposite
    assert not line.endswith("handles planning.")  # a list keeps all its items or goes whole
    assert line == "The prefrontal cortex handles planning, judgement and impulse control in adults."


def test_a_preheader_stands_on_its_own():
    s = section(
        "Tapering",
        "Tapering means lowering the dose step by step over weeks.",
        "This is why a doctor should plan it with you from the very start.",
        "However, a slow taper lowers the risk of seizures and rebound anxiety a great deal.",
    )
    assert (
        lesson_preheader([s], s.heading) == "A slow taper lowers the risk of seizures and rebound anxiety a great deal."
    )


@pytest.mark.parametrize(
    ("delays", "words"),
    [
        ([1, 1], "every day"),
        ([2, 2], "every other day"),
        ([3, 3], "every 3 days"),
        ([3, 4, 3, 4], "twice a week"),
        ([7], "once a week"),
        ([14, 14], "every two weeks"),
        ([21], "every three weeks"),
        ([2, 5], "every 2 to 5 days"),
        ([], None),
    ],
)
def test_cadence_words_are_right_for_any_delay(delays, words):
    assert cadence_words(delays) == words


def test_sentence_case_keeps_the_names_the_article_keeps():
    article = Article(
        "x",
        (Paragraph("People call Agape Detox about baclofen and AUD every day."),),
        (Section("s", (Paragraph("Baclofen is one option."),)),),
    )
    assert sentence_case("Baclofen Misuse at Agape Detox and AUD", article) == "Baclofen misuse at Agape Detox and AUD"
    assert sentence_case("Baclofen Misuse", article, first=False) == "baclofen misuse"
