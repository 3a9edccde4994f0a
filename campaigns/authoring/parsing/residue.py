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
    r"|(written|posted|medically reviewed|clinically reviewed|reviewed|fact[- ]checked|edited) by\s*:?\s+[A-Z])",
    re.I,
)
_BYLINE_BY = re.compile(r"^[Bb]y\s+[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,3}(,\s*[A-Z]{2,6})*$")
_COUNTER_LINE = re.compile(r"^\d[\d,.]*\s*[kKmM]?\s*(shares?|views?|comments?|likes?)?$", re.I)
# A share or view counter glued after the last sentence of a paragraph ("... the Agape team.   62").
_TRAILING_COUNTER = re.compile(r"(?<=[.!?…\"”’)])\s+\d{1,7}\s*$")


def words_of(line: str) -> list[str]:
    return re.findall(r"[\w’'-]+", line.lower())


def is_residue(line: str) -> bool:
    """Is this whole line page chrome (contents box, share bar, breadcrumb, link label, by-line, counter)?"""
    text = " ".join(line.split())
    if not text:
        return True
    words = words_of(text)
    if len(words) > MAX_RESIDUE_WORDS:
        return False
    if _COUNTER_LINE.match(text):
        return True
    bare = text.strip(" :-–—|•·")
    if _CONTENTS.match(bare) or _BREADCRUMB.match(text) or _LINK_LABEL.match(bare):
        return True
    if _is_byline(bare):
        return True
    counters_removed = [w for w in words if not re.fullmatch(r"\d[\d,.]*k?", w)]
    return (
        bool(counters_removed) and set(counters_removed) <= _SHARE_WORDS and bool(set(counters_removed) & _SHARE_STRONG)
    )


def _is_byline(text: str) -> bool:
    if text.endswith((".", "?", "!")) and not re.search(r"\b[A-Z]\.$", text):
        return False
    return bool(_BYLINE_BY.match(text) or _BYLINE.match(text))


def starts_link_block(line: str) -> bool:
    """Is this a label ("Related posts", "Tags") whose following short lines are link titles, not content?"""
    return bool(_LINK_BLOCK.match(" ".join(line.split()).strip(" :")))


def starts_contents(line: str) -> bool:
    """Is this the heading of a contents box ("Table of Contents", "In This Article")?"""
    return bool(_CONTENTS.match(" ".join(line.split()).strip(" :-–—|")))


def clean_heading(text: str) -> str:
    """A heading without the contents box's "Toggle" glued in front of it."""
    return _TOGGLE_PREFIX.sub("", " ".join(text.split()))


def clean_paragraph(text: str) -> str:
    """A paragraph with runs of whitespace made single and a trailing share/view counter removed."""
    return _TRAILING_COUNTER.sub("", " ".join(text.split()))
