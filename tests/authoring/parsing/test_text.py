"""Raw text articles other than the seed: headings by shape, titles, lists, residue, closing and bio."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import BulletList, Paragraph, Table
from campaigns.authoring.parsing import parse_article, parse_text

from .support import FIXTURES, all_text, assert_each_once_in_order, lists_of

ALCOHOL = FIXTURES / "alcohol-withdrawal-guide.txt"
FENTANYL = FIXTURES / "fentanyl-questions-answered-blog-post.txt"


def test_titled_article_with_numbered_lists_and_no_call_to_action() -> None:
    article = parse_article(ALCOHOL)
    assert article.title == "Alcohol Withdrawal: What to Expect and How to Stay Safe"
    assert [s.heading for s in article.sections] == [
        "Why Withdrawal Happens",
        "The First Three Days",
        "Warning Signs of Delirium Tremens",
        "Who Should Not Stop Alone",
        "How Withdrawal Is Treated",
        "Life After the First Week",
    ]
    assert len(article.intro) == 2 and article.intro[0].text.startswith("People who drink heavily")
    # Numbered lists keep their items (without the numbers), each list whole.
    assert [len(b.items) for b in lists_of(article)] == [4, 4, 4]
    assert lists_of(article)[0].items[0].startswith("Six to twelve hours after the last drink")
    # The last section teaches; it does not invite the reader to call, so there is no closing and no bio.
    assert article.closing is None
    assert article.author_bio is None and article.author_name is None
    assert article.sections[-1].blocks[-1].text.startswith("It is normal for sleep")


def test_titled_article_every_unit_once(article_units) -> None:
    assert_each_once_in_order(article_units(ALCOHOL), parse_article(ALCOHOL))


def test_question_headings_with_residue_on_top() -> None:
    article = parse_article(FENTANYL)
    # The text opens with body text (after the page's chrome), so the title comes from the file name.
    assert article.title == "Fentanyl Questions Answered"
    assert [s.heading for s in article.sections] == [
        "What Is Fentanyl?",
        "Why Is Fentanyl So Dangerous?",
        "How Does Fentanyl Get Into Other Drugs?",
        "What Does a Fentanyl Overdose Look Like?",
        "What Should I Do If Someone Is Overdosing?",
        "Can Fentanyl Test Strips Help?",
    ]
    first_body = next(line for line in FENTANYL.read_text(encoding="utf-8").splitlines() if line.endswith("."))
    assert article.intro == (Paragraph(first_body),)
    assert article.closing is not None and article.closing.heading == "Where Can I Get Help?"
    assert article.closing.blocks[-1].text.startswith("If you or someone you love is using fentanyl")
    assert article.author_name == "Marcus Hale"
    assert article.author_bio.endswith("easier to take.")  # the share counter "148" is gone
    # "•", "*" and "1." lists each stay one list.
    assert [len(b.items) for b in lists_of(article)] == [4, 5, 5]


def test_question_headings_residue_is_gone() -> None:
    text = all_text(parse_article(FENTANYL))
    for residue in (
        "Home >",
        "Share",
        "Facebook",
        "Tweet",
        "Pin it",
        "Copy link",
        "Posted on",
        "In This Article",
        "Toggle",
        "148",
        "Related Posts",
        "Opioid Withdrawal Timeline",
        "Naloxone: A Guide",
    ):
        assert residue not in text, residue
    # The contents box repeated the headings: each heading is now found once, as a heading.
    assert text.count("Why Is Fentanyl So Dangerous?") == 1


def test_question_headings_every_unit_once(article_units) -> None:
    assert_each_once_in_order(article_units(FENTANYL), parse_article(FENTANYL))


def test_heading_shape_rules(tmp_path: Path) -> None:
    source = "\n".join(
        [
            "Sleep and Recovery",
            "Sleep is often the last thing to return after heavy substance use.",
            "Why Sleep Breaks Down",
            "Several things work against sleep in early recovery:",
            "- Withdrawal keeps the nervous system on alert.",
            "- Routines that once revolved around use have gone.",
            "Short line without a period, but followed by body text",
            "This line is body text, because it ends with a period.",
            "Tips That Help",
            "1. Keep the same wake-up time every day.",
            "2. Keep screens out of the bedroom.",
            "3. Get outside in the morning light.",
        ]
    )
    article = parse_text(source, tmp_path / "sleep.txt")
    assert article.title == "Sleep and Recovery"
    assert article.intro == (Paragraph("Sleep is often the last thing to return after heavy substance use."),)
    assert [s.heading for s in article.sections] == [
        "Why Sleep Breaks Down",
        "Short line without a period, but followed by body text",
        "Tips That Help",
    ]
    why = article.sections[0]
    # The paragraph ending in ':' is body text, the list after it is one list.
    assert why.blocks == (
        Paragraph("Several things work against sleep in early recovery:"),
        BulletList(
            ("Withdrawal keeps the nervous system on alert.", "Routines that once revolved around use have gone.")
        ),
    )
    assert article.sections[-1].blocks == (
        BulletList(
            (
                "Keep the same wake-up time every day.",
                "Keep screens out of the bedroom.",
                "Get outside in the morning light.",
            ),
            ordered=True,  # numbered in the source, numbered in the email
        ),
    )


def test_a_heading_followed_by_a_heading_is_not_one_unless_the_contents_box_lists_it(tmp_path: Path) -> None:
    lines = [
        "Opening paragraph that is plainly body text.",
        "Part One",
        "The Body",
        "What happens in the body comes first.",
        "Part Two",
        "The Mind",
        "What happens in the mind comes second.",
    ]
    article = parse_text("\n".join(lines), tmp_path / "parts.txt")
    # In raw text a line followed straight by a heading is an image's alt text or a placeholder as often as not.
    assert [s.heading for s in article.sections] == ["The Body", "The Mind"]
    assert [(b.text, b.rule) for b in article.dropped] == [
        ("Part One", "heading-without-body"),
        ("Part Two", "heading-without-body"),
    ]
    # A contents box that lists "Part One" and "Part Two" makes them sections, with subsections under them.
    contents = ["In This Article", "Part One", "Part Two"]
    article = parse_text("\n".join([lines[0], *contents, *lines[1:]]), tmp_path / "parts.txt")
    assert [(s.level, s.heading) for s in article.sections] == [
        (2, "Part One"),
        (3, "The Body"),
        (2, "Part Two"),
        (3, "The Mind"),
    ]


COPY = """Skip to content
Call Us 24/7: (555) 010-0199
Programs
Admissions
Home » Blog » Recovery
Sleep in Early Recovery: What to Expect
Jamie Ortiz, LCSW
May 2, 2024
6 min read
Sleep is often the last thing to settle after alcohol or drugs, and the first weeks can bring long, restless nights.
Why Sleep Suffers
The brain has to relearn how to wind down without a substance[1], and stress hormones stay high for a while.
Alcohol also changed how deep sleep and dreaming sleep were spread across the night, so the pattern feels strange.
Person lying awake in bed at night
Habits That Help
Keep the same wake time every day, even after a bad night, and get outside in the morning light.
Level\tWhat it means
Mild\tA few restless nights a week
Severe\tMost nights broken for a month or more
Our sleep clinic sees patients within a week. Ask your counselor about a referral.
Book a Sleep Visit
When to Ask for Help
If insomnia lasts more than a month, talk to a doctor, because therapy for insomnia works well and needs no pills.
Share this article
Facebook
Email
Jamie Ortiz is a counselor at Example Recovery. She has helped people sleep again for ten years.
Related Posts
Dreams in Recovery
© 2024 Example Recovery. All rights reserved.
"""


def test_a_browser_copy_loses_its_header_and_footer_bands_by_shape(tmp_path: Path) -> None:
    article = parse_text(COPY, tmp_path / "sleep.txt")
    assert article.title == "Sleep in Early Recovery: What to Expect"  # not the first line: the one the body follows
    assert [s.heading for s in article.sections] == ["Why Sleep Suffers", "Habits That Help", "When to Ask for Help"]
    assert (
        article.author_bio
        == "Jamie Ortiz is a counselor at Example Recovery. She has helped people sleep again for ten years."
    )
    dropped = {b.text: b.rule for b in article.dropped}
    assert dropped["Call Us 24/7: (555) 010-0199"] == "before-title"
    assert dropped["Jamie Ortiz, LCSW"] == dropped["May 2, 2024"] == dropped["6 min read"] == "post-info"
    assert dropped["Person lying awake in bed at night"] == "heading-without-body"  # an image's alt text
    assert dropped["Book a Sleep Visit"] == "call-out"  # a button's label under its short box text
    assert dropped["Our sleep clinic sees patients within a week. Ask your counselor about a referral."] == "call-out"
    assert {dropped["Share this article"], dropped["Related Posts"], dropped["Dreams in Recovery"]} <= {
        "after-body",
        "share-bar",
        "related",
    }
    assert dropped["© 2024 Example Recovery. All rights reserved."] == "after-body"
    habits = article.sections[1].blocks
    assert habits[1] == Table(
        (
            ("Level", "What it means"),
            ("Mild", "A few restless nights a week"),
            ("Severe", "Most nights broken for a month or more"),
        ),
        header=True,
    )
    # Citation markers leave the text.
    assert (
        article.sections[0].blocks[0].text.startswith("The brain has to relearn how to wind down without a substance,")
    )


def test_lines_under_a_heading_in_a_blank_line_copy_are_a_list(tmp_path: Path) -> None:
    source = (
        "What to Bring\n\nA short first paragraph before the list of things to pack.\n\nPack These\n\n"
        "A photo ID and your insurance card\nComfortable clothes for a week\nPhone numbers of people to call\n\n"
        "Leave valuables at home, because space in each room is small.\n"
    )
    article = parse_text(source, tmp_path / "bring.txt")
    assert article.sections[0].blocks[0] == BulletList(
        ("A photo ID and your insurance card", "Comfortable clothes for a week", "Phone numbers of people to call")
    )


def test_a_quote_and_its_attribution(tmp_path: Path) -> None:
    source = (
        "Recovery Stories\nA first paragraph that introduces the stories we collected from people in recovery.\n"
        "In Their Words\nThe first month was the hardest, and the second was only a little easier.\n"
        "— A Riverbend alumnus\nMore Stories\nAnother paragraph that closes the article on a hopeful note.\n"
    )
    article = parse_text(source, tmp_path / "stories.txt")
    quote = article.sections[0].blocks
    assert [b.role for b in quote] == ["quote", "quote"] and quote[1].text == "— A Riverbend alumnus"
