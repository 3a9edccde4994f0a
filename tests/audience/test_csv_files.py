"""Reading CSV files as people save them: encodings, delimiters, and a broken quote reported on its own line while
every row after it is still read."""

from __future__ import annotations

import codecs

import pytest

from campaigns.audience.csv_files import (
    MAX_RECORD_LINES,
    BadLine,
    Record,
    detect_format,
    header_and_rows,
    records,
)
from campaigns.errors import ImportRowError


def read(data: bytes) -> list[Record | BadLine]:
    return list(records(data, detect_format(data)))


@pytest.mark.parametrize(
    "data, encoding, delimiter",
    [
        (b"email,name\na@x.org,Ann\n", "utf-8", ","),
        ("email;name\na@x.org;Zo\u00eb\n".encode(), "utf-8", ";"),
        (codecs.BOM_UTF8 + "E-mail;Name\na@x.org;Jos\u00e9\n".encode(), "utf-8-sig", ";"),
        ("email\tname\r\na@x.org\tJos\u00e9\r\n".encode("utf-16"), "utf-16", "\t"),
        ("email;name\na@x.org;Fran\u00e7ois \u2013 \u20ac\n".encode("cp1252"), "cp1252", ";"),
        (b"email|name\na@x.org|Ann\n", "utf-8", "|"),
        (b"email\na@x.org\nb@x.org\n", "utf-8", ","),  # one column: nothing to sniff, a comma does no harm
    ],
)
def test_the_encoding_and_delimiter_are_found(data, encoding, delimiter):
    fmt = detect_format(data)
    assert (fmt.encoding, fmt.delimiter) == (encoding, delimiter)
    rows = [r.cells for r in read(data) if isinstance(r, Record)]
    assert rows[1][0] == "a@x.org"


def test_a_file_that_is_not_utf8_is_read_as_windows_1252_with_a_note_saying_so():
    fmt = detect_format("email;name\na@x.org;Jos\u00e9 M\u00fcller\n".encode("cp1252"))
    assert fmt.encoding == "cp1252" and "not UTF-8" in (fmt.note or "") and "CSV UTF-8" in (fmt.note or "")
    assert detect_format("email\n\u00e9@x.org\n".encode()).note is None


def test_commas_inside_quoted_names_do_not_fool_the_delimiter_of_a_semicolon_file():
    data = b'email;name;timezone\na@x.org;"Lee, Ann";UTC\nb@x.org;"Stone, Bob";UTC\nc@x.org;"Diaz, Cat";UTC\n'
    assert detect_format(data).delimiter == ";"


def test_an_unclosed_quote_is_reported_on_its_line_and_the_rows_after_it_are_still_read():
    data = b'email,name,timezone\na@x.org,"Ann,UTC\nb@x.org,Bob,UTC\nc@x.org,Cat,UTC\n'
    items = read(data)
    assert isinstance(items[1], BadLine) and items[1].line == 2 and "never closed" in items[1].reason
    assert [(r.line, r.cells[0]) for r in items[2:]] == [(3, "b@x.org"), (4, "c@x.org")]


def test_an_unclosed_quote_closed_by_a_later_one_does_not_swallow_the_rows_between():
    data = b'email,name,timezone\na@x.org,"Ann,UTC\nb@x.org,Bob,UTC\nc@x.org,"Diaz, Cat",UTC\nd@x.org,Dan,UTC\n'
    items = read(data)
    assert [type(i).__name__ for i in items] == ["Record", "BadLine", "Record", "Record", "Record"]
    assert [i.line for i in items] == [1, 2, 3, 4, 5]
    assert items[3].cells == ["c@x.org", "Diaz, Cat", "UTC"]


def test_a_quote_open_for_more_than_a_few_lines_is_broken_even_without_delimiters():
    data = b'email\n"a@x.org\n' + b"".join(b"p%d@x.org\n" % i for i in range(MAX_RECORD_LINES + 5))
    items = read(data)
    assert isinstance(items[1], BadLine) and items[1].line == 2
    assert len([i for i in items if isinstance(i, Record)]) == 1 + MAX_RECORD_LINES + 5


def test_a_quoted_cell_with_a_line_break_is_one_row_starting_on_its_first_line():
    data = b'email,note\na@x.org,"first line\nsecond line"\nb@x.org,plain\n'
    items = read(data)
    assert [(i.line, i.cells) for i in items if isinstance(i, Record)][1:] == [
        (2, ["a@x.org", "first line\nsecond line"]),
        (4, ["b@x.org", "plain"]),
    ]


def test_blank_lines_are_skipped_and_line_numbers_stay_physical():
    items = read(b"email\n\na@x.org\n\r\n\nb@x.org\n")
    assert [(i.line, i.cells) for i in items] == [(1, ["email"]), (3, ["a@x.org"]), (6, ["b@x.org"])]


def test_an_empty_file_or_a_broken_header_is_refused_naming_it():
    with pytest.raises(ImportRowError, match=r"people\.csv: the file is empty"):
        header_and_rows(b"", detect_format(b""), "people.csv")
    data = b'"email,name\na@x.org,Ann\n'
    with pytest.raises(ImportRowError, match=r"people\.csv:1: the header line cannot be read"):
        header_and_rows(data, detect_format(data), "people.csv")
