"""Page residue: the web page's chrome that a copy-and-paste or a saved page drags into an article.

Every rule here is general (the shape of a share bar, a breadcrumb, a contents box), never a list of one article's
lines. Only short lines can be residue, so a real paragraph is never dropped by accident.
"""

from __future__ import annotations

import re

# A residue line is short; anything longer is body text whatever it says.
MAX_RESIDUE_WORDS = 12

_CONTENTS = re.compile(
    r"^(table of contents|contents|in this article|on this page|in this post|in this guide|jump to|"
    r"skip to (main )?content|toggle|show|hide|toggle table of contents)$",
    re.I,
)
# A contents box's show/hide switch after its label: "Contents [hide]", "Table of Contents Toggle".
_TOGGLE_SUFFIX = re.compile(r"\s*(\[(hide|show)\]|\((hide|show)\)|\s(toggle|hide|show))$", re.I)
# "ToggleHow Does ..." (the contents box's toggle button glued to the first entry when copied).
_TOGGLE_PREFIX = re.compile(r"^Toggle(?=[A-Z0-9\"“‘'])")

_SHARE_WORDS = {
    "share",
    "shares",
    "shared",
    "sharing",
    "this",
    "post",
    "article",
    "page",
    "on",
    "via",
    "with",
    "friends",
    "facebook",
    "twitter",
    "tweet",
    "x",
    "pin",
    "it",
    "pinterest",
    "linkedin",
    "email",
    "e-mail",
    "print",
    "copy",
    "link",
    "whatsapp",
    "reddit",
    "messenger",
    "telegram",
    "threads",
    "mastodon",
    "bluesky",
    "save",
    "views",
}
_SHARE_STRONG = {
    "share",
    "shares",
    "facebook",
    "tweet",
    "twitter",
    "pinterest",
    "linkedin",
    "whatsapp",
    "reddit",
    "messenger",
    "telegram",
    "pin",
    "copy",
    "print",
    "email",
    "e-mail",
}

_BREADCRUMB_SEP = r"(?:>|»|›|/|\||→)"
_BREADCRUMB = re.compile(
    rf"^(home|blog)\s*{_BREADCRUMB_SEP}|^[^.!?]{{1,60}}\s{_BREADCRUMB_SEP}\s[^.!?]{{1,60}}\s"
    rf"{_BREADCRUMB_SEP}\s",
    re.I,
)

# Links to other pages, and the blog's own labels (categories, tags, comments): the label alone, or "Label: ...".
_LINK_LABEL = re.compile(
    r"^((related posts?|related articles?|related reading|related|you may also like|you might also like|"
    r"recent posts|popular posts|more articles|more posts|previous post|next post|previous article|next article|"
    r"leave a (reply|comment)|\d+ comments?|no comments( yet)?|comments|categories|category|tags)\s*(:.*)?"
    r"|(read more|continue reading|posted in|filed under|tagged with|also read|see also)\b.*)$",
    re.I,
)
# A label followed by a run of link titles: those titles go with it.
_LINK_BLOCK = re.compile(
    r"^(related posts?|related articles?|related reading|you may also like|you might also like|recent posts|"
    r"popular posts|more articles|more posts|categories|tags)\s*:?$",
    re.I,
)
# By-lines and dates printed above a post: "Written by Jane Doe", "Posted on March 3, 2024", "Last updated: ...".
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_BYLINE = re.compile(
    rf"^((posted|published|updated|last updated|last modified)( on)?\s*:?\s+({_MONTH}\s+\d|\d)"
    r"|(written|posted|prepared|medically reviewed|clinically reviewed|reviewed|fact[- ]checked|edited) by\s*:?\s+"
    r"(the\s+)?[A-Z])",
    re.I,
)
_LONG_BYLINE = re.compile(
    r"^(?i:(written |posted |prepared )?by|(medically |clinically )?reviewed by)\s+[A-Z][\w.'’-]+\s+[A-Z]"
)
_BYLINE_BY = re.compile(r"^[Bb]y\s+[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,3}(,\s*[A-Z]{2,6})*$")
_COUNTER_LINE = re.compile(r"^\d[\d,.]*\s*[kKmM]?\s*(shares?|views?|comments?|likes?)?$", re.I)
# A share or view counter glued after the last sentence of a paragraph ("... the Agape team.   62").
_TRAILING_COUNTER = re.compile(r"(?<=[.!?…\"”’)])\s+\d{1,7}\s*$")
# Citation markers ("[1]", "[2, 3]", "[^1]") and a document's comment markers ("[a]", "[LM1]"), with the space
# before them: an email is no place to look a footnote up.
_MARKER = re.compile(r"\s?\[(?:\^?\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|\^\w{1,20}|[a-z]{1,2}|[A-Z]{1,3}\d{1,3})\](?!\()")
# A footnote's link back to its place in the text ("... 2021. ↩︎").
_BACK_LINK = re.compile(r"\s*[↩⤴↑][\ufe0e\ufe0f]?")
# "8 min read", "9 Minute Read", "Reading time: 5 minutes", "5-minute read".
_READING_TIME = re.compile(r"^(reading time:?\s*)?\d{1,3}[\s-]*(min|mins|minute|minutes)(\s+read)?$", re.I)
# A media player's clock ("0:00 / 8:12").
_MEDIA_TIME = re.compile(r"^\d{1,2}:\d{2}(\s*/\s*\d{1,2}:\d{2})?$")
# "Hits: 1482", "Views: 2,310": a label and a number.
_LABELLED_COUNT = re.compile(r"^[A-Za-z]+( [A-Za-z]+)?:\s*\d[\d,.]*$")
# A date on its own ("January 22, 2024", "22 January 2024", "2024-01-22", "Sep 12, 2024", "03/04/2024").
_DATE_LINE = re.compile(
    rf"^(({_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}})|(\d{{1,2}}\s+{_MONTH}\s+\d{{4}})|(\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(\d{{1,2}}/\d{{1,2}}/\d{{2,4}}))$",
    re.I,
)
# Markup an editor or exporter left in the text: "[toc]", "[Insert hero image: ...]", "{{< toc >}}", U+FFFC.
_PLACEHOLDER = re.compile(r"^(\[[^\]]*\]|\{\{.*\}\}|\{%.*%\}|\ufffc+)$")


def words_of(line: str) -> list[str]:
    return re.findall(r"[\w’'-]+", line.lower())


def line_rule(line: str) -> str | None:
    """The rule (see rules.RULES) under which this whole line is page chrome, or None when it may be content."""
    text = " ".join(line.split())
    if not text:
        return "placeholder"
    words = words_of(text)
    if _LONG_BYLINE.match(text) and len(words) <= 2 * MAX_RESIDUE_WORDS and not text.endswith((".", "!", "?")):
        return "post-info"  # "By Jane Doe, Admissions Director | Reviewed by John Roe, MBA, Revenue Manager"
    if len(words) > MAX_RESIDUE_WORDS:
        return None
    bare = text.strip(" :-–—|•·")
    if _COUNTER_LINE.match(text) or _READING_TIME.match(bare) or _MEDIA_TIME.match(bare) or _LABELLED_COUNT.match(bare):
        return "post-info"
    if starts_contents(bare):
        return "contents"
    if _BREADCRUMB.match(text):
        return "breadcrumb"
    if _LINK_LABEL.match(bare):
        return "related"
    if _is_byline(bare) or _DATE_LINE.match(bare):
        return "post-info"
    counters_removed = [w for w in words if not re.fullmatch(r"\d[\d,.]*k?", w)]
    if counters_removed and set(counters_removed) <= _SHARE_WORDS and set(counters_removed) & _SHARE_STRONG:
        return "share-bar"
    if _PLACEHOLDER.match(bare):
        return "placeholder"
    return None


def is_residue(line: str) -> bool:
    """Is this whole line page chrome (contents box, share bar, breadcrumb, link label, by-line, counter)?"""
    return line_rule(line) is not None


def is_byline(line: str) -> bool:
    """A by-line, reviewer line or a date on its own: what sits between a post's title and its first words."""
    text = " ".join(line.split()).strip(" :-–—|•·")
    return _is_byline(text) or bool(_DATE_LINE.match(text) or _LONG_BYLINE.match(text))


def _is_byline(text: str) -> bool:
    if text.endswith((".", "?", "!")) and not re.search(r"\b[A-Z]\.$", text):
        return False
    return bool(_BYLINE_BY.match(text) or _BYLINE.match(text))


def starts_link_block(line: str) -> bool:
    """Is this a label ("Related posts", "Tags") whose following short lines are link titles, not content?"""
    return bool(_LINK_BLOCK.match(" ".join(line.split()).strip(" :")))


def starts_contents(line: str) -> bool:
    """Is this the heading of a contents box ("Table of Contents", "In This Article", "Contents [hide]")?"""
    return bool(_CONTENTS.match(_TOGGLE_SUFFIX.sub("", " ".join(line.split())).strip(" :-–—|")))


def clean_heading(text: str) -> str:
    """A heading without the contents box's "Toggle" glued in front of it, or markers glued after it."""
    return _MARKER.sub("", _TOGGLE_PREFIX.sub("", " ".join(text.replace("\ufffc", " ").split()))).strip()


def clean_paragraph(text: str) -> str:
    """A paragraph with runs of whitespace made single, citation and comment markers ("[1]", "[^2]", "[a]") and a
    trailing share/view counter removed."""
    text = _MARKER.sub("", " ".join(_BACK_LINK.sub(" ", text.replace("\ufffc", " ")).split()))
    return _TRAILING_COUNTER.sub("", " ".join(text.split())).strip()
