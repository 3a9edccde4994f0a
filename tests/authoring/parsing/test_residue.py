"""The general residue rules: page chrome goes, body text that merely looks similar stays."""

from __future__ import annotations

import pytest

from campaigns.authoring.parsing.residue import (
    clean_heading,
    clean_paragraph,
    is_residue,
)


@pytest.mark.parametrize(
    "line",
    [
        "Table of Contents",
        "Contents",
        "In This Article",
        "On this page",
        "Toggle",
        "Share",
        "Share this:",
        "Share on Facebook",
        "Facebook",
        "Tweet",
        "Pin it",
        "Copy link",
        "LinkedIn  Email  Print",
        "62",
        "1.2k shares",
        "Home > Blog > Opioids",
        "Blog » Detox » Kratom",
        "Home / Resources",
        "Read more",
        "Read more: Vaping and Young People",
        "Related Posts",
        "You may also like",
        "Leave a Reply",
        "Categories: Detox, Opioids",
        "Tags:",
        "3 Comments",
        "By Jane Doe",
        "Posted on March 3, 2024",
        "Last updated: June 2024",
        "Medically Reviewed by Dr. Ann Lee",
    ],
)
def test_chrome_lines_are_residue(line: str) -> None:
    assert is_residue(line)


@pytest.mark.parametrize(
    "line",
    [
        "Is Baclofen Considered an Addictive Drug?",
        "Categories of Opioids",
        "Related Conditions",
        "Published Research on Kratom",
        "Email Us Today",
        "How Share Groups Help",
        "Contents of a Naloxone Kit",
        "By adhering to these safety guidelines, individuals can use baclofen effectively while reducing the risk.",
        # A long line is body text whatever words it holds.
        "Share your story with someone you trust on Facebook or in person, because talking helps recovery.",
    ],
)
def test_content_lines_are_not_residue(line: str) -> None:
    assert not is_residue(line)


def test_toggle_prefix_is_taken_off_headings_only_when_glued_to_one() -> None:
    assert clean_heading("ToggleHow Does Baclofen Work in the Body?") == "How Does Baclofen Work in the Body?"
    assert clean_heading("Toggle Switches and Other Fidget Tools") == "Toggle Switches and Other Fidget Tools"
    assert clean_heading("Toggles") == "Toggles"


def test_trailing_counter_is_taken_off_after_the_last_sentence_only() -> None:
    assert clean_paragraph("Stephanie attributes her success to the Agape team.   62") == (
        "Stephanie attributes her success to the Agape team."
    )
    assert clean_paragraph("He said “enough.” 1204") == "He said “enough.”"
    assert clean_paragraph("Call 988 or 911") == "Call 988 or 911"
    assert clean_paragraph("The usual adult dose is 10 mg, taken 3") == "The usual adult dose is 10 mg, taken 3"
