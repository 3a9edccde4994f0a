"""Raw text copied from a web page: one paragraph a line, headings known only by their shape.

A browser copy brings the page's header band (skip link, phone banner, navigation, breadcrumb, by-line, dates,
reading time) above the article and its footer band (share bar, author box, related posts, newsletter, copyright,
legal links) below it. Both are found by shape: the title is the heading-shaped line that the body follows once
by-lines and dates are passed, the body ends with its last paragraph of prose, and what lies outside is dropped
(the author's bio excepted). Lists come with markers ("- ", "•", "1.") or, in a copy with blank lines between
paragraphs, as runs of short lines; tables as tab-separated lines.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from campaigns.authoring.article import Article, BulletList
from campaigns.authoring.parsing import residue
from campaigns.authoring.parsing.assemble import (
    Element,
    assemble_article,
    clean,
    is_author_bio,
    is_short_line,
    list_element,
    mark_residue,
    table_element,
    with_ids,
)

# "- item", "• item", "* item", "1. item", "2) item"; Safari copies a list as "\t•\tItem" or "\t1.\tItem".
_ITEM = re.compile(r"^\s*(?:[-•*–◦▪]|\d{1,3}[.)])\s+(?=\S)")
_ORDERED = re.compile(r"^\s*\d{1,3}[.)]")
# A quote's attribution on its own line: "— A Riverbend alumnus", "-- Dr. Lee".
_ATTRIBUTION = re.compile(r"^\s*(?:—|―|--|–)\s*\S")
# "Marcus Bell, LADC", "Dr. Imani Carter, MD": a person's name with letters after it (a by-line without "By").
_NAME_WITH_LETTERS = re.compile(r"^(?:Dr\.?\s+)?[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]*){1,3},\s*[A-Z][A-Za-z.]{1,8}$")
_PHONE = re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
# A button's label: a few capitalised words and no sentence ("Verify My Benefits", "Learn About Alumni Support").
_BUTTON = re.compile(
    r"^(?:[A-Z0-9][\w’'&/-]*)(?:\s+(?:[A-Z0-9][\w’'&/-]*|a|an|and|at|for|in|of|on|or|the|to|your|my))"
    r"{0,5}[!»›→]?$"
)
PROSE_WORDS = 15  # a paragraph this long (or of two sentences) is the article's prose, not a band's line
CALL_OUT_WORDS = 35


def text_elements(source: str) -> list[Element]:
    """The elements of a browser copy, with its header and footer bands and its call-out boxes dropped."""
    elements = _read_lines(source)
    elements = mark_residue(clean(with_ids(elements)))
    elements = _header_band(elements)
    elements = _footer_band(elements)
    elements = _call_outs(elements)
    return _heading_levels(elements)


def parse_text(source: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """The Article in raw text."""
    return assemble_article(text_elements(source), path, overrides=overrides)


def _read_lines(source: str) -> list[Element]:
    """Each non-blank line as a list item, a table row, a heading (by its shape) or a paragraph; items and rows
    of one run make one list or table."""
    lines = source.splitlines()
    blank_separated = sum(1 for line in lines if not line.strip()) * 4 >= sum(1 for line in lines if line.strip())
    elements: list[Element] = []
    run: list[tuple[int, str]] = []  # consecutive non-blank lines
    for number, raw in enumerate([*lines, ""], start=1):
        if raw.strip():
            run.append((number, raw))
            continue
        introduced = bool(elements) and (elements[-1].kind == "heading" or elements[-1].text.endswith(":"))
        elements += _read_run(run, blank_separated and introduced)
        run = []
    return elements


def _read_run(run: list[tuple[int, str]], may_be_list: bool) -> list[Element]:
    out: list[Element] = []
    # In a copy that puts blank lines between paragraphs, a run of several short lines under a heading or a line
    # ending with a colon is a list that lost its markers.
    if may_be_list and len(run) >= 2 and all(_is_unmarked_item(raw) for _, raw in run):
        return [list_element([" ".join(raw.split()) for _, raw in run], run[0][0])]
    i = 0
    while i < len(run):
        number, raw = run[i]
        if _cells(raw):
            rows = []
            while i < len(run) and _cells(run[i][1]):
                rows.append(_cells(run[i][1]))
                i += 1
            out.append(_table(rows, number))
            continue
        if _ITEM.match(raw):
            items, ordered = [], bool(_ORDERED.match(raw))
            while i < len(run) and (marker := _ITEM.match(run[i][1])):
                items.append(" ".join(run[i][1][marker.end() :].split()))
                i += 1
            out.append(list_element(items, number, ordered=ordered))
            continue
        line = " ".join(raw.split())
        if _ATTRIBUTION.match(line) and out and out[-1].kind == "paragraph":
            out[-1] = replace(out[-1], role="quote")
            out.append(Element("paragraph", line, number, role="quote"))
        elif is_short_line(line):
            out.append(Element("heading", line, number))
        else:
            out.append(Element("paragraph", line, number))
        i += 1
    return out


def _is_unmarked_item(raw: str) -> bool:
    line = " ".join(raw.split())
    return is_short_line(line) and not _ITEM.match(raw) and not _cells(raw)


def _cells(raw: str) -> list[str]:
    """The cells of a tab-separated table row (two or more), or nothing."""
    if "\t" not in raw.strip():
        return []
    cells = [" ".join(c.split()) for c in raw.strip().split("\t")]
    cells = [c for c in cells if c]
    if len(cells) < 2 or _ITEM.match(cells[0] + " x"):  # "\t•\tItem": a list item, not a row
        return []
    return cells


def _table(rows: list[list[str]], line: int) -> Element:
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header = len(rows) > 1 and all(is_short_line(c) and len(c.split()) <= 6 for c in rows[0] if c)
    return table_element(rows, line, header=header)


def _is_prose(e: Element) -> bool:
    if e.kind != "paragraph" or not e.kept:
        return False
    words = len(residue.words_of(e.text))
    return words >= PROSE_WORDS or (words >= 8 and len(re.findall(r"[.!?](?:\s|$)", e.text)) >= 2)


def _is_sentence(e: Element) -> bool:
    return (
        e.kind == "paragraph"
        and e.kept
        and len(residue.words_of(e.text)) >= 6
        and e.text.rstrip().endswith((".", "!", "?", ":", '."', ".”"))
    )


def _is_post_info(e: Element) -> bool:
    """A by-line, a date, a reading time, a reviewer or an author's name with letters after it."""
    return e.rule in ("post-info", "share-bar", "breadcrumb") or bool(_NAME_WITH_LETTERS.match(e.text))


def _is_byline(e: Element) -> bool:
    return residue.is_byline(e.text) or bool(_NAME_WITH_LETTERS.match(e.text))


def _header_band(elements: list[Element]) -> list[Element]:
    """The title is the heading-shaped line the body follows once by-lines, dates and contents are passed; the
    lines above it are the site's header band."""
    first = next((i for i, e in enumerate(elements) if _is_prose(e)), None)
    if first is None:  # a short article: its first sentence
        first = next((i for i, e in enumerate(elements) if _is_sentence(e)), None)
    if first is None:
        return elements
    i = first - 1
    while i >= 0 and (not elements[i].kept or _is_post_info(elements[i])):
        i -= 1
    if i < 0 or elements[i].kind != "heading" or not _can_be_title(elements[i]):
        return elements
    # "Title / By-line / First heading / prose": a heading right under by-lines is the first section's heading.
    j, bylines = i - 1, 0
    while j >= 0 and (_is_post_info(elements[j]) or (not elements[j].kept and elements[j].rule != "contents")):
        bylines += _is_byline(elements[j])
        j -= 1
    if bylines and j >= 0 and elements[j].kind == "heading" and _can_be_title(elements[j]):
        i = j
    out = list(elements)
    out[i] = replace(out[i], kind="title", level=1)
    for k in range(i + 1, first):
        if out[k].kept and _is_post_info(out[k]):
            out[k] = out[k].drop("post-info")
    return out


def _can_be_title(e: Element) -> bool:
    return e.kept and not _PHONE.search(e.text) and len(residue.words_of(e.text)) >= 2


def _footer_band(elements: list[Element]) -> list[Element]:
    """After the body's last paragraph of prose (and a list it introduces), what is left is the site's footer
    band: share bar, author box (its bio kept), related posts, newsletter, copyright, legal links."""
    last = next(
        (i for i in range(len(elements) - 1, -1, -1) if _is_prose(elements[i]) and not _is_bio(elements[i])), None
    )
    if last is None:
        return elements
    end = last + 1
    if elements[last].text.rstrip().endswith(":") and end < len(elements) and elements[end].kind in ("list", "table"):
        end += 1
    tail = [e for e in elements[end:] if e.kept]
    if not tail or not _looks_like_a_band(elements[end:]):
        return elements
    out = elements[:end]
    for e in elements[end:]:
        if e.kept and _is_bio(e):
            out.append(replace(e, kind="bio"))
        else:
            out.append(e.drop("after-body"))
    return out


def _is_bio(e: Element) -> bool:
    return e.kind == "paragraph" and is_author_bio(e.text)


def _looks_like_a_band(tail: list[Element]) -> bool:
    """Page furniture rather than the article's last words: some line of it is chrome by its shape (a share bar,
    a related label, a date, a copyright line), or it is a run of short lines."""
    if any(not e.kept and e.rule for e in tail):
        return True
    if any("©" in e.text or re.search(r"\ball rights reserved\b", e.text, re.I) for e in tail):
        return True
    return sum(1 for e in tail if e.kind in ("heading", "paragraph") and is_short_line(e.text)) >= 4


def _call_outs(elements: list[Element]) -> list[Element]:
    """A call-out box copied as text: a short paragraph and the label of its button under it, before the next
    heading ("Not sure what your plan covers? ... / Check My Coverage")."""
    out = list(elements)
    kept = [i for i, e in enumerate(out) if e.kept]
    for n, i in enumerate(kept):
        e = out[i]
        after = out[kept[n + 1]] if n + 1 < len(kept) else None
        before = out[kept[n - 1]] if n > 0 else None
        if not (e.kind == "heading" and _BUTTON.match(e.text) and len(e.text.split()) <= 6):
            continue
        if after is not None and after.kind != "heading":
            continue  # a heading with body under it
        if before is None or before.kind != "paragraph" or not _is_short_paragraph(before.text):
            continue
        if not _echoes(e.text, before.text):
            continue  # a button's label takes up its box's words ("Verify My Benefits" under "verify ... benefits")
        out[i] = e.drop("call-out")
        out[kept[n - 1]] = before.drop("call-out")
    return out


def _echoes(label: str, text: str) -> bool:
    """Does the label share a word of four letters or more with the text (by its first five letters)?"""
    stems = {w[:5] for w in residue.words_of(text) if len(w) >= 4}
    return any(w[:5] in stems for w in residue.words_of(label) if len(w) >= 4)


def _is_short_paragraph(text: str) -> bool:
    sentences = len(re.findall(r"[.!?](?:\s|$)", text))
    return len(residue.words_of(text)) <= CALL_OUT_WORDS and sentences <= 2


def _heading_levels(elements: list[Element]) -> list[Element]:
    """Levels from the article's own contents box when it has one: its entries are sections ("1.1" entries are
    subsections), other headings are subsections of the section before them. Without a contents box every heading
    is a section."""
    entries: dict[str, int] = {}
    for e in elements:
        if e.rule != "contents":
            continue
        texts = e.block.items if isinstance(e.block, BulletList) else (e.text,)
        for t in texts:
            number = re.match(r"^\s*(\d+(?:\.\d+)*)\.?\s+", t)
            depth = number.group(1).count(".") if number else 0
            key = " ".join(residue.words_of(t[number.end() :] if number else t))
            entries.setdefault(key, 2 + min(depth, 2))
    if not entries:
        return elements
    out = []
    for e in elements:
        if e.kind == "heading" and e.kept:
            e = replace(e, level=entries.get(" ".join(residue.words_of(e.text)), 3))
        out.append(e)
    return out
