"""Crisis lines as data: the file is checked when loaded, a reader's country (given, or from the time zone) picks
the lines, and each country's lines are rendered once into a block with tap-to-call and tap-to-text links."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from campaigns.authoring.crisis import (
    CRISIS_LINES_FILE,
    country_for_zone,
    crisis_lines,
    normalise_country,
    reader_country,
)
from campaigns.authoring.render import crisis_block, crisis_sentence
from campaigns.errors import ConfigError

DATA = tomllib.loads(CRISIS_LINES_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Berlin", "DE"),
        ("Australia/Sydney", "AU"),
        ("Asia/Kolkata", "IN"),
        ("America/Toronto", "CA"),
        ("America/New_York", "US"),
        ("Pacific/Auckland", "NZ"),
        ("Europe/Dublin", "IE"),
        ("Europe/London", "GB"),
        ("UTC", None),
        ("Etc/GMT+5", None),
        ("", None),
        (None, None),
        ("Not/AZone", None),
        ("Europe/Busingen", "DE"),  # in zone.tab although a link in the tz source
        ("US/Eastern", "US"),  # old names
        ("Canada/Eastern", "CA"),
        ("Asia/Calcutta", "IN"),
        ("Australia/ACT", "AU"),
        ("Europe/Belfast", "GB"),
        ("Eire", "IE"),
        ("Iceland", "IS"),  # links to Africa/Abidjan, which would say CI
        ("Atlantic/Jan_Mayen", None),  # Norway, but links to Europe/Berlin: no country rather than a wrong one
        (" europe/berlin ", "DE"),
    ],
)
def test_country_of_a_time_zone(zone, country):
    assert country_for_zone(zone) == country


def test_a_known_country_wins_over_the_time_zone():
    assert reader_country("GB", "UTC") == "GB"
    assert reader_country("uk", "America/New_York") == "GB"  # what people write for GB
    assert reader_country(None, "Europe/Dublin") == "IE"
    assert reader_country("", "Asia/Kolkata") == "IN"
    assert normalise_country("ZZ") is None and normalise_country("EL") == "GR"


def dial(country):
    return [line.call.dial for line in crisis_lines().help_for(country).lines]


def test_the_us_gets_988_call_or_text_samhsa_and_911():
    lines = crisis_lines().help_for("US").lines
    assert dial("US") == ["988", "+18006624357", "911"]
    assert lines[0].call_or_text and lines[0].text.dial == "988"
    assert lines[1].name == "SAMHSA National Helpline" and lines[1].free and lines[1].hours == "24/7"


@pytest.mark.parametrize(
    ("country", "must"),
    [
        ("CA", ["988", "911"]),
        ("GB", ["116123", "999"]),
        ("IE", ["116123", "112"]),
        ("AU", ["131114", "000"]),
        ("NZ", ["1737", "111"]),
        ("IN", ["14416", "112"]),
        ("DE", ["08001110111", "112"]),
        ("FR", ["112"]),  # an EU member with no lines of its own: 112
    ],
)
def test_each_country_the_issue_names_has_its_lines(country, must):
    assert all(number in dial(country) for number in must), dial(country)
    assert dial(country).count("112") <= 1  # Ireland has its own 112 entry: no second one from the EU


@pytest.mark.parametrize("country", [None, "JP", "CH", "ZZ"])
def test_unknown_or_unheld_countries_get_the_fallback(country):
    help_ = crisis_lines().help_for(country)
    assert help_.lines == () and help_.country is None
    assert "local emergency number" in help_.fallback


def test_unverified_entries_never_reach_an_email():
    unverified = [e["name"] for entries in DATA["lines"].values() for e in entries if e["verified"] == "unverified"]
    assert unverified, "the file keeps unverified entries for the record"
    shown = [line.name for lines in crisis_lines().by_country.values() for line in lines]
    assert not set(unverified) & set(shown)
    assert "HSE Drugs and Alcohol Helpline" not in shown


def test_every_entry_names_its_source_and_how_well_it_was_checked():
    for entries in [*DATA["lines"].values(), DATA["eu"]["lines"]]:
        for entry in entries:
            assert entry["source"].startswith(("https://", "http://")), entry["name"]
            assert entry["verified"] in ("official", "secondary", "unverified"), entry["name"]
            assert entry["verified"] == "official" or entry.get("note"), f"{entry['name']}: say why not official"


def test_a_wrong_entry_stops_loading_naming_file_and_entry(tmp_path: Path):
    text = CRISIS_LINES_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "lines.toml"
    bad.write_text(text.replace('call = { display = "911", tel = "911" }', 'call = { display = "911", tel = "9-1-1" }'))
    with pytest.raises(ConfigError, match=r"lines\.toml: lines\.US entry 3 \(911\): call: tel '9-1-1' must be digits"):
        crisis_lines(bad)
    bad.write_text(text.replace("[[lines.US]]", "[[lines.XX]]", 1))
    with pytest.raises(ConfigError, match=r"\[lines\.XX\]: not an ISO 3166-1 alpha-2 country code"):
        crisis_lines(bad)
    bad.write_text(text.replace('source = "https://www.samhsa.gov/find-help/988/faqs"', 'source = "samhsa"'))
    with pytest.raises(ConfigError, match="source must be the web page"):
        crisis_lines(bad)


def test_the_block_has_tap_to_call_and_tap_to_text_links_and_a_plain_twin():
    block = crisis_block("US")
    soup = BeautifulSoup(block.html, "html.parser")
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs == ["tel:988", "sms:988", "tel:+18006624357", "tel:911"]
    assert "Not in the United States? Call your local emergency number." in soup.get_text(" ")
    assert "- 988 Suicide & Crisis Lifeline: call or text 988, 24/7, free." in block.text
    assert "call 1-800-662-4357 (1-800-662-HELP), 24/7, free." in block.text
    assert "- In an emergency: call 911." in block.text
    assert not re.search(r"&[a-z]+;|&#\d+;", block.text)  # plain text, no HTML entities
    assert "Suicide &amp; Crisis" in block.html  # and escaped in the HTML


def test_blocks_are_rendered_once_per_country_and_shared():
    assert crisis_block("DE") is crisis_block("de") is crisis_block("DE")
    assert crisis_block("JP") is crisis_block(None)  # every country with no lines shares the fallback
    fallback = crisis_block(None)
    assert "local emergency number" in fallback.text and "<a" not in fallback.html


def test_a_text_line_on_its_own_number_gets_an_sms_link():
    soup = BeautifulSoup(crisis_block("AU").html, "html.parser")
    assert soup.find("a", href="sms:+61477131114").get_text() == "0477 13 11 14"
    assert soup.find("a", href="tel:131114").get_text() == "13 11 14"
    assert "- Talk to FRANK (drugs helpline): call 0300 123 6600, or text 82111, 24/7." in crisis_block("GB").text


def test_web_pages_say_the_home_country_lines_in_one_sentence():
    assert crisis_sentence("US") == (
        "If you are in crisis in the United States, call or text 988 (988 Suicide & Crisis Lifeline), or call 911 in "
        "an emergency. Elsewhere, call your local emergency number."
    )
    assert crisis_sentence(None) == crisis_lines().fallback
