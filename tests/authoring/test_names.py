"""Greetings: a first name when given, else one read off the full name, else the neutral "Hi there,"."""

from __future__ import annotations

import pytest

from campaigns.authoring.names import NEUTRAL, greeting_name


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Maria Lopez", "Maria"),
        ("Dr. Jane Smith", "Jane"),  # honorifics skipped
        ("Mrs Zoë Müller", "Zoë"),
        ("Prof. Dr. Hans Weber", "Hans"),
        ("Smith, Jane", "Jane"),  # "Last, First"
        ("Smith, Dr. Jane", "Jane"),
        ("Jane Smith, MD", "Jane"),  # a suffix after the comma is no first name
        ("J. Robert Smith", "Robert"),  # goes by the middle name
        ("MARIA LOPEZ", "Maria"),
        ("maría lópez", "María"),
        ("Jean-Luc Picard", "Jean-Luc"),
        ("d'Arcy Moss", "d'Arcy"),
        ("  Tom   Becker ", "Tom"),
        ("李 小龙", NEUTRAL),  # CJK: the family name comes first
        ("李小龙", NEUTRAL),
        ("佐藤 太郎", NEUTRAL),
        ("김민준", NEUTRAL),
        ("Nguyễn Văn An", NEUTRAL),  # Vietnamese: family name first
        ("maria@example.com", NEUTRAL),  # an address typed as a name
        ("www.example.com", NEUTRAL),
        ("Dr.", NEUTRAL),  # an honorific alone
        ("Ms. M.", NEUTRAL),  # initials only
        ("X Æ A-12", NEUTRAL),  # digits
        ("A", NEUTRAL),
        ("", NEUTRAL),
        (None, NEUTRAL),
    ],
)
def test_greeting_from_a_full_name(name, greeting):
    assert greeting_name(name) == greeting


def test_a_first_name_given_wins():
    assert greeting_name("Dr. Jane Smith", "Janie") == "Janie"
    assert greeting_name("李小龙", "Bruce") == "Bruce"
    assert greeting_name("Tom Becker", "  ") == "Tom"  # an empty field falls back to the full name
    assert greeting_name(None, "sam@example.com") == NEUTRAL  # an address in the first-name field is no name
