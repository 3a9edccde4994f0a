"""What people type, made safe to store, send and show: the one place that cleans text input.

Every field a person or a file gives us (sign-up and preference forms, the JSON sign-up, CSV cells, admin forms,
CLI options) goes through `clean_line` (one line: names, subjects, tags, slugs) or `clean_text` (several lines) before
it is checked or stored. They drop what no field of ours may hold:

* C0 and C1 control characters and DEL: NUL is refused by PostgreSQL's text type, BEL and ESC ring and clear an
  operator's terminal, CR and LF inject email headers. Tab, line and paragraph separators become a space on one line.
* lone surrogates (U+D800–U+DFFF, e.g. from a JSON `"\\ud800"`): they are not characters, cannot be encoded as
  UTF-8, and made the database driver fail;
* the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text display in another order
  than it is stored ("Trojan Source"); joiners, which some scripts and emoji need, stay.

Cleaning never refuses: the caller checks what is left (empty, too long, not a time zone) and names the field.
"""

from __future__ import annotations

import re

# Controls that vanish; the whitespace controls (\t \n \v \f \r, U+0085, U+2028, U+2029) are handled first.
_DROP = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Everything a terminal or a one-line field must not be given as it is (all of the above, and the whitespace ones).
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# A campaign's slug: 3-80 lower-case letters, digits and dashes. fullmatch, so "slug\n" is not one.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,78}[a-z0-9]")


def clean_line(value: str | None) -> str:
    """One line of text: controls dropped, any run of whitespace (tabs and line breaks too) made one space, trimmed."""
    if not value:
        return ""
    if not value.isprintable():  # the common case (plain text) skips the regex
        value = _DROP.sub("", value)
    return " ".join(value.split())


def clean_text(value: str | None) -> str:
    """Several lines: line breaks made \\n, tabs kept, every other control dropped, trailing space per line trimmed."""
    if not value:
        return ""
    value = _LINE_BREAKS.sub("\n", value)
    value = _DROP.sub("", value)
    return "\n".join(line.rstrip() for line in value.split("\n"))


def is_clean_line(value: str) -> bool:
    """True when `clean_line` would leave `value` as it is."""
    return value == clean_line(value)


def is_slug(value: str) -> bool:
    """True for a well-formed campaign slug (the whole string; a trailing newline does not pass)."""
    return SLUG.fullmatch(value) is not None


MAX_INT = 2**31 - 1  # the largest value of PostgreSQL's integer: ids, steps, versions, caps


def whole_number(text: str | None, most: int = MAX_INT) -> int | None:
    """A whole number typed in ASCII digits, from 0 to `most`; None for anything else. ("²" and "٣" are digits to
    str.isdigit() and int() refuses the first; 10**20 fits no integer column.)"""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if value <= most else None
