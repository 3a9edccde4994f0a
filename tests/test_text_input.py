"""campaigns.text_input: the one cleaner of typed text, and is_slug."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.text_input import UNPRINTABLE, clean_line, clean_text, is_slug


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Maria   Lopez ", "Maria Lopez"),
        ("Ma\x00ria", "Maria"),
        ("Ann\r\nBcc: x@evil.example", "Ann Bcc: x@evil.example"),
        ("Ann\x1b[2J", "Ann[2J"),
        ("Dee\u202eevil", "Deeevil"),
        ("Cy\x9b31m", "Cy31m"),
        ("Zo\ud800e", "Zoe"),
        ("Ali\tBaba\u2028x", "Ali Baba x"),
        ("José Ñúñez 李小龍 👩\u200d👩\u200d👧", "José Ñúñez 李小龍 👩\u200d👩\u200d👧"),  # letters and joiners stay
        (None, ""),
    ],
)
def test_clean_line(typed, kept):
    assert clean_line(typed) == kept


def test_clean_text_keeps_lines_and_tabs():
    assert clean_text("a\r\nb\rc\x00\td \n\x85e") == "a\nb\nc\td\n\ne"


@given(st.text(st.characters(codec=None)))
def test_a_cleaned_line_is_storable_and_printable_anywhere(text):
    line = clean_line(text)
    line.encode("utf-8")  # no lone surrogate
    assert not UNPRINTABLE.search(line) and clean_line(line) == line


@pytest.mark.parametrize(
    ("slug", "ok"),
    [("baclofen", True), ("a-b-9", True), ("baclofen\n", False), ("ab", False), ("-ab", False), ("Ab1", False)],
)
def test_is_slug_matches_the_whole_string(slug, ok):
    assert is_slug(slug) is ok
