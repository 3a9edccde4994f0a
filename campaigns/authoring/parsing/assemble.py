"""From a flat stream of elements (title, heading, paragraph, list item, each with its line) to an `Article`.

Every format (raw text, Markdown, HTML) only says what each piece of the page is; the rules that decide what the
article *means* live here once: which lines are page residue, where the title comes from, how headings without body
join the next one, which trailing paragraph is the author's bio, and which last section is the call to action.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import takewhile
from pathlib import Path
from typing import Literal

from campaigns.authoring.article import Article, Block, BulletList, Paragraph, Section
from campaigns.authoring.parsing import residue
from campaigns.errors import ArticleError

Kind = Literal["title", "heading", "paragraph", "item", "bio"]


@dataclass(frozen=True)
class Element:
    """One piece of the page in reading order: `line` is where it starts in the source file."""

    kind: Kind
    text: str
    line: int
    level: int = 2  # heading level (1 is the title)
    group: int = 0  # adjacent items of the same group form one list


# Words in a file name that say what the file is, not what it is about.
_FILENAME_NOISE = {"article", "post", "blog", "draft", "final", "copy", "page", "raw", "text", "content", "v1", "v2"}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "with"}

_AUTHOR_LABEL = re.compile(
    r"^(about the author|about the writer|about the reviewer|author bio|meet the author|"
    r"author|written by)\s*:?$",
    re.I,
)
# "Stephanie Robilio is ...", "Dr. Maya Chen has ..." (a first and last name, then what they are or do).
_BIO_START = re.compile(
    r"^(?:[A-Z][\w.'’-]+\s+){2,3}?(?:is|was|has|serves|works|holds|brings|joined|leads|earned|"
    r"began|specializes|specialises)\b"
)
# Words that start a sentence but never a person's name.
_NOT_A_NAME = {
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "it",
    "he",
    "she",
    "they",
    "we",
    "there",
    "here",
    "our",
    "your",
    "his",
    "her",
    "their",
    "its",
    "each",
    "every",
    "some",
    "many",
    "most",
    "one",
    "no",
}
_THIRD_PERSON = re.compile(r"\b(he|she|they|his|her|hers|their|him|them)\b", re.I)
_SECOND_PERSON = re.compile(r"\b(you|your|yours)\b", re.I)

_CTA_HEADING = re.compile(
    r"\b(contact|call|reach out|get help|getting help|seek(ing)? help|find(ing)? help|get in touch|talk to|"
    r"speak (to|with)|schedule|visit us|we can help|can help you|how we help|start your recovery|"
    r"begin your recovery|take the first step|get started|next steps?)\b",
    re.I,
)
# An invitation to act addressed to the organisation: "contact Agape Detox", "call us", "reach out to our team".
_CTA_BODY = re.compile(
    r"\b(?i:contact|call|reach out to|get in touch with|talk (?:to|with)|speak (?:to|with)|visit|email|text|"
    r"message|schedule (?:a|an|your))\s+(?:us|our|we|today|[A-Z][\w’'&-]+)"
    r"|(?i:we(?:’|')re here to help|we are here to help|don(?:’|')t hesitate to)"
)
_ORG_IN_HEADING = re.compile(r"\b(?:at|with|from)\s+((?:[A-Z][\w’'&.-]*\s?){1,4})$")
_FIRST_PERSON_PLURAL = re.compile(r"\b(we|our|us)\b", re.I)


def assemble_article(elements: Iterable[Element], path: Path, *, leading_heading_is_title: bool = False) -> Article:
    """The Article these elements make, or an ArticleError at the line where they stop making sense."""
    items = drop_residue(list(elements))
    if not any(e.kind in ("paragraph", "item", "bio") for e in items):
        first = items[0].line if items else 1
        raise ArticleError(path, first, "no body text: nothing but headings or page residue")
    title, items = _take_title(items, path, leading_heading_is_title)
    items, bio_parts = _take_labelled_bio(items)
    intro, sections = _group(items, path)
    if not sections:
        raise ArticleError(
            path,
            items[0].line if items else 1,
            "no section headings found (in raw text a heading is a short line with no final "
            "period, followed by body text)",
        )
    if not bio_parts:
        sections, found = _take_trailing_bio(sections)
        bio_parts = [found] if found else []
    closing = None
    if len(sections) > 1 and is_call_to_action(sections[-1]):
        closing, sections = sections[-1], sections[:-1]
    return Article(
        title=title,
        intro=tuple(intro),
        sections=tuple(sections),
        closing=closing,
        author_bio=" ".join(bio_parts) or None,
        source=path,
    )


def drop_residue(elements: list[Element]) -> list[Element]:
    """The elements without page chrome: contents boxes, share bars, breadcrumbs, link lists, counters."""
    cleaned = []
    for e in elements:
        text = residue.clean_heading(e.text) if e.kind in ("title", "heading") else residue.clean_paragraph(e.text)
        if text:
            cleaned.append(replace(e, text=text))
    kept: list[Element] = []
    i = 0
    while i < len(cleaned):
        e = cleaned[i]
        if e.kind != "bio" and residue.starts_contents(e.text):
            i = _skip_contents_entries(cleaned, i + 1)
        elif e.kind != "bio" and residue.starts_link_block(e.text):
            i = _skip_link_titles(cleaned, i + 1)
        elif e.kind == "item":
            # A list goes only as a whole (a share bar written as a list): "Email" in a real list is content.
            group = _list_at(cleaned, i)
            if not all(residue.is_residue(x.text) for x in group):
                kept.extend(group)
            i += len(group)
        elif e.kind != "bio" and residue.is_residue(e.text):
            i += 1
        else:
            kept.append(e)
            i += 1
    return kept


def _list_at(elements: list[Element], i: int) -> list[Element]:
    """The items of the list that starts at `i`."""
    group = elements[i].group
    return list(takewhile(lambda x: x.kind == "item" and x.group == group, elements[i:]))


def _skip_contents_entries(elements: list[Element], start: int) -> int:
    """Past a contents box's entries: lines that repeat a heading found later in the article."""
    headings = [e.text.lower() if e.kind in ("heading", "title") else None for e in elements]
    i = start
    while i < len(elements) and elements[i].kind != "bio" and elements[i].text.lower() in headings[i + 1 :]:
        i += 1
    return i


def _skip_link_titles(elements: list[Element], start: int) -> int:
    """Past the link titles under a "Related posts" label: short lines and items, up to a real heading."""
    i = start
    while i < len(elements):
        e = elements[i]
        followed_by_body = i + 1 < len(elements) and elements[i + 1].kind in ("paragraph", "item")
        if (e.kind == "item" and is_short_line(e.text)) or (
            e.kind in ("heading", "paragraph") and is_short_line(e.text) and not followed_by_body
        ):
            i += 1
        else:
            break
    return i


def is_short_line(text: str) -> bool:
    """Heading-shaped: at most 12 words and no final period, colon or semicolon."""
    stripped = text.rstrip(" \"'”’)]")
    return 0 < len(residue.words_of(text)) <= 12 and not stripped.endswith((".", ":", ";"))


def _take_title(items: list[Element], path: Path, leading_heading_is_title: bool) -> tuple[str, list[Element]]:
    titles = [e for e in items if e.kind == "title"]
    if titles:
        first = titles[0]
        # A second h1 is a page that uses h1 for sections: keep it as a heading.
        rest = [replace(e, kind="heading", level=2) if e.kind == "title" else e for e in items if e is not first]
        return first.text, rest
    if leading_heading_is_title and items and items[0].kind == "heading":
        return items[0].text, items[1:]
    return title_from_filename(path), items


def title_from_filename(path: Path) -> str:
    """ "baclofen-misuse-article.txt" gives "Baclofen Misuse"."""
    words = [w for w in re.split(r"[\s_\-.]+", path.stem) if w and w.lower() not in _FILENAME_NOISE]
    if not words:
        return path.stem
    return " ".join(
        w.lower() if i and w.lower() in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def _take_labelled_bio(items: list[Element]) -> tuple[list[Element], list[str]]:
    """Bio paragraphs: those an author box gave, and those under an "About the author" heading."""
    kept, bio, in_bio = [], [], False
    for e in items:
        if e.kind == "heading" and _AUTHOR_LABEL.match(e.text):
            in_bio = True
        elif e.kind == "heading":
            in_bio = False
            kept.append(e)
        elif e.kind == "bio" or (in_bio and e.kind == "paragraph"):
            bio.append(e.text)
        else:
            kept.append(e)
    return kept, bio


def _group(items: list[Element], path: Path) -> tuple[list[Block], list[Section]]:
    intro: list[Block] = []
    sections: list[Section] = []
    heading: list[Element] = []  # pending headings with no body yet (joined into one)
    blocks: list[Block] = []
    i = 0
    while i < len(items):
        e = items[i]
        if e.kind == "heading":
            if heading and blocks:
                sections.append(Section(_join(heading), tuple(blocks)))
                heading, blocks = [], []
            elif not heading and blocks:
                intro, blocks = blocks, []
            heading.append(e)
            i += 1
        elif e.kind == "item":
            group = [e.text]
            i += 1
            while i < len(items) and items[i].kind == "item" and items[i].group == e.group:
                group.append(items[i].text)
                i += 1
            blocks.append(BulletList(tuple(group)))
        else:
            blocks.append(Paragraph(e.text))
            i += 1
    if heading and not blocks:
        raise ArticleError(path, heading[-1].line, f"heading {heading[-1].text!r} has no body text after it")
    if heading:
        sections.append(Section(_join(heading), tuple(blocks)))
    elif blocks:
        intro = blocks
    return intro, sections


def _join(headings: list[Element]) -> str:
    """A heading with no body of its own (a part title over a subsection) joins the next: "Part: Subsection"."""
    return ": ".join(h.text.rstrip(":") for h in headings)


def _take_trailing_bio(sections: list[Section]) -> tuple[list[Section], str | None]:
    last = sections[-1]
    if len(last.blocks) < 2 or not isinstance(last.blocks[-1], Paragraph):
        return sections, None
    text = last.blocks[-1].text
    if not is_author_bio(text):
        return sections, None
    return [*sections[:-1], Section(last.heading, last.blocks[:-1])], text


def is_author_bio(text: str) -> bool:
    """Written in the third person about a named person ("Stephanie Robilio is ... she brings ...")."""
    m = _BIO_START.match(text)
    if not m or _SECOND_PERSON.search(text):
        return False
    name = m.group(0).split()[:-1]
    if any(word.lower() in _NOT_A_NAME for word in name):
        return False
    first_name = name[1] if name[0].endswith(".") and len(name) > 2 else name[0]  # "Dr. Maya Chen": Maya
    rest = text[m.end() :]
    return bool(_THIRD_PERSON.search(rest) or re.search(rf"\b{re.escape(first_name)}\b", rest))


def is_call_to_action(section: Section) -> bool:
    """Does this section invite the reader to act (contact, call, get help) or present the organisation?"""
    if _CTA_HEADING.search(section.heading):
        return True
    body = " ".join(b.text if isinstance(b, Paragraph) else " ".join(b.items) for b in section.blocks)
    if _CTA_BODY.search(body):
        return True
    org = _ORG_IN_HEADING.search(section.heading)
    return bool(org and org.group(1).strip() in body and _FIRST_PERSON_PLURAL.search(body))
