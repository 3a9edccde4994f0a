"""The rules every format shares: title from the file name, closing call to action, author bio, residue runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.authoring.article import BulletList, Paragraph, Section
from campaigns.authoring.parsing.assemble import (
    Element,
    assemble_article,
    is_author_bio,
    is_call_to_action,
    list_element,
    title_from_filename,
)

BODY = "Recovery takes time, and it rarely follows a straight line."
BIO = (
    "Jane Marlow is a licensed counselor at Example Recovery. She has worked with families affected by "
    "addiction for twelve years."
)


@pytest.mark.parametrize(
    "name, title",
    [
        ("baclofen-misuse-article.txt", "Baclofen Misuse"),
        ("fentanyl-questions-answered-blog-post.txt", "Fentanyl Questions Answered"),
        ("the_risks_of_mixing_alcohol_and_opioids.md", "The Risks of Mixing Alcohol and Opioids"),
        ("article.html", "article"),
    ],
)
def test_title_from_filename(name: str, title: str) -> None:
    assert title_from_filename(Path(name)) == title


@pytest.mark.parametrize(
    "heading, body, expected",
    [
        ("Seeking Help for Baclofen Dependence or Misuse at Agape Detox", BODY, True),
        ("Where Can I Get Help?", BODY, True),
        ("Talk to Our Team", BODY, True),
        ("Moving Forward", "When you are ready, contact Agape Detox to talk about next steps.", True),
        ("Moving Forward", "Reach out to us any time; we answer every message.", True),
        (
            "Free Classes at Riverside Recovery",
            "Every month Riverside Recovery runs a class, and we keep it free.",
            True,
        ),
        ("Life After the First Week", "Talk to your doctor before changing any dose.", False),
        ("Treatment at Home", "Some people recover at home with support from a doctor.", False),
        ("If Someone Overdoses", "Call 911 at once and give naloxone if you have it.", False),
    ],
)
def test_call_to_action(heading: str, body: str, expected: bool) -> None:
    assert is_call_to_action(Section(heading, (Paragraph(body),))) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (BIO, True),
        ("Stephanie Robilio is an accomplished Clinical Director. Stephanie’s joy comes from her patients.", True),
        ("Dr. Maya Chen has helped hundreds of patients. Her research looks at tapering.", True),
        ("It is normal for sleep to take a while. They say patience helps.", False),
        ("The Agape Team is here for you. They answer calls day and night.", False),
        ("Jane Marlow is a counselor who can help you. Call her today.", False),  # speaks to the reader
    ],
)
def test_author_bio(text: str, expected: bool) -> None:
    assert is_author_bio(text) is expected


def _article(*elements: Element):
    return assemble_article(list(elements), Path("t.txt"))


def test_closing_and_bio_are_taken_from_the_end() -> None:
    article = _article(
        Element("paragraph", BODY, 1),
        Element("heading", "What Recovery Looks Like", 2),
        Element("paragraph", BODY, 3),
        Element("heading", "Get Help Today", 4),
        Element("paragraph", "Call us and we will talk you through the options.", 5),
        list_element(["Detox", "Therapy"], 6),
        Element("paragraph", BIO, 8),
    )
    assert [s.heading for s in article.sections] == ["What Recovery Looks Like"]
    assert article.closing == Section(
        "Get Help Today",
        (Paragraph("Call us and we will talk you through the options."), BulletList(("Detox", "Therapy"))),
    )
    assert article.author_bio == BIO and article.author_name == "Jane Marlow"


def test_a_lone_call_to_action_section_stays_a_section() -> None:
    article = _article(
        Element("paragraph", BODY, 1),
        Element("heading", "Get Help Today", 2),
        Element("paragraph", "Call us and we will talk you through the options.", 3),
    )
    assert [s.heading for s in article.sections] == ["Get Help Today"] and article.closing is None


def test_bio_that_is_a_sections_only_paragraph_is_left_in_place() -> None:
    article = _article(
        Element("paragraph", BODY, 1), Element("heading", "Our Counselor", 2), Element("paragraph", BIO, 3)
    )
    assert article.author_bio is None and article.sections[0].blocks == (Paragraph(BIO),)


def test_bio_under_an_about_the_author_heading() -> None:
    article = _article(
        Element("paragraph", BODY, 1),
        Element("heading", "Why It Matters", 2),
        Element("paragraph", BODY, 3),
        Element("heading", "About the Author", 4),
        Element("paragraph", "Written for families, by a counselor who has been there.", 5),
    )
    assert article.author_bio == "Written for families, by a counselor who has been there."
    assert [s.heading for s in article.sections] == ["Why It Matters"]


def test_separate_lists_stay_separate_and_each_stays_whole() -> None:
    article = _article(
        Element("title", "Title", 1, level=1),
        Element("heading", "Lists", 2),
        list_element(["a", "b"], 3),
        list_element(["c"], 5),
        Element("paragraph", BODY, 6),
    )
    assert article.sections[0].blocks == (BulletList(("a", "b")), BulletList(("c",)), Paragraph(BODY))


def test_a_list_is_residue_only_as_a_whole() -> None:
    article = _article(
        Element("title", "Title", 1, level=1),
        Element("paragraph", BODY, 2),
        list_element(["Facebook", "Tweet"], 3),
        Element("heading", "Ways to Reach a Counselor", 5),
        list_element(["Phone", "Email", "Text message"], 6),
    )
    assert article.intro == (Paragraph(BODY),)
    assert article.sections[0].blocks == (BulletList(("Phone", "Email", "Text message")),)
    assert [(b.rule, b.text) for b in article.dropped] == [("share-bar", "Facebook\nTweet")]


def test_block_ids_are_stable_and_staff_can_keep_or_drop_any_block_by_id() -> None:
    elements = [
        Element("title", "Title", 1, level=1),
        Element("paragraph", BODY, 2),
        list_element(["Facebook", "Tweet"], 3),
        Element("heading", "Ways to Reach a Counselor", 4),
        Element("paragraph", "Call us and we will talk you through the options.", 5),
        Element("heading", "Why It Matters", 6),
        Element("paragraph", "Talking early makes the next step easier to take.", 7),
    ]
    article = assemble_article(elements, Path("t.txt"))
    again = assemble_article(elements, Path("t.txt"))
    assert [b.id for b in article.blocks] == [b.id for b in again.blocks]  # the same source, the same ids
    edited = assemble_article(
        [*elements[:6], Element("paragraph", "A new closing line for the section.", 7)], Path("t.txt")
    )
    assert [b.id for b in edited.blocks][:6] == [b.id for b in article.blocks][:6]  # unchanged blocks keep theirs
    share = next(b for b in article.dropped if b.rule == "share-bar")
    body = next(b for b in article.blocks if b.text == BODY)
    assert article.intro[0].id == body.id  # an Article block carries the id of its source block
    reviewed = assemble_article(elements, Path("t.txt"), overrides={share.id: True, body.id: False})
    assert reviewed.intro == (BulletList(("Facebook", "Tweet")),)  # kept by staff
    assert next(b for b in reviewed.blocks if b.id == body.id).rule == "staff"
