"""From a flat stream of elements (title, heading, paragraph, list, table, bio, each with its line) to an `Article`.

Every format (raw text, Markdown, HTML) says what each piece of the source is, and marks what its own rules drop;
the rules that decide what the article *means* live here once: which lines are page residue, where the title comes
from, which headings have no body, which trailing paragraph is the author's bio, which last section is the call to
action. Nothing is removed silently: a dropped element keeps its place in the stream with the rule that dropped it
(rules.RULES), and the Article carries the whole stream as `blocks`, so staff see every decision and can reverse it
by block id (`overrides`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from campaigns.authoring.article import (
    Article,
    Block,
    BulletList,
    Paragraph,
    ParagraphRole,
    Section,
    SourceBlock,
    Table,
)
from campaigns.authoring.parsing import residue
from campaigns.errors import ArticleError

Kind = Literal["title", "heading", "paragraph", "list", "table", "bio"]
CONTENT = ("paragraph", "list", "table")


@dataclass(frozen=True)
class Element:
    """One piece of the source in reading order: `line` is where it starts in the source file."""

    kind: Kind
    text: str
    line: int
    level: int = 2  # heading level (1 is the title)
    role: ParagraphRole = "text"
    block: BulletList | Table | None = None  # what a list or table element holds
    rule: str | None = None  # the rule that dropped it (rules.RULES), None while kept
    id: str = ""

    @property
    def kept(self) -> bool:
        return self.rule is None

    @property
    def texts(self) -> tuple[str, ...]:
        """The element's texts: a list's items, a table's cells, or its one text."""
        return self.block.texts if self.block is not None else (self.text,)

    def drop(self, rule: str) -> Element:
        """This element dropped by `rule` (the first rule that drops an element is the one it keeps)."""
        return self if self.rule else replace(self, rule=rule)


def list_element(
    items: Iterable[str], line: int, *, ordered: bool = False, depths: Iterable[int] = (), rule: str | None = None
) -> Element:
    items, depths = tuple(items), tuple(depths)
    if depths and not any(depths):
        depths = ()
    return Element("list", "\n".join(items), line, block=BulletList(items, ordered=ordered, depths=depths), rule=rule)


def table_element(rows: Iterable[Iterable[str]], line: int, *, header: bool = False, caption: str = "") -> Element:
    cells = tuple(tuple(r) for r in rows)
    table = Table(cells, header=header, caption=caption)
    return Element("table", "\n".join(" | ".join(r) for r in cells), line, block=table)


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


def assemble_article(
    elements: Iterable[Element], path: Path, *, overrides: Mapping[str, bool] | None = None
) -> Article:
    """The Article these elements make, or an ArticleError at the line where they stop making sense.

    `overrides` maps block ids to a staff decision: True keeps a block a rule dropped, False drops a kept one.
    """
    items = with_ids(list(elements))
    items = _drop_orphan_labels(mark_residue(clean(items)))
    items = _apply(items, overrides or {})
    if not any(e.kept and e.kind in (*CONTENT, "bio") for e in items):
        first = next((e.line for e in items if e.kept), items[0].line if items else 1)
        raise ArticleError(path, first, "no body text: nothing but headings or page residue")
    items, title = _take_title(items, path)
    items, bio_parts = _take_labelled_bio(items)
    items = _normalise_levels(_drop_empty_headings(items))
    items = _apply(items, overrides or {})
    intro, sections = _group([e for e in items if e.kept and e.kind != "bio"])
    if not bio_parts and sections:
        sections, found = _take_trailing_bio(sections)
        bio_parts = [found] if found else []
    closing = None
    if len(sections) > 1 and sections[-1].level == 2 and is_call_to_action(sections[-1]):
        closing, sections = sections[-1], sections[:-1]
    return Article(
        title=title,
        intro=tuple(intro),
        sections=tuple(sections),
        closing=closing,
        author_bio=" ".join(bio_parts) or None,
        source=path,
        blocks=tuple(SourceBlock(e.id, e.kind, e.text, e.line, e.rule) for e in items),
    )


def with_ids(elements: list[Element]) -> list[Element]:
    """Each element with an id from its kind and words (and which repeat of them it is): stable across parses."""
    seen: dict[str, int] = {}
    out = []
    for e in elements:
        words = " ".join(residue.words_of(e.text))[:400]
        digest = hashlib.sha1(f"{e.kind}:{words}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(replace(e, id=f"{e.kind[0]}{digest}" + (f"-{seen[digest]}" if seen[digest] > 1 else "")))
    return out


def clean(elements: list[Element]) -> list[Element]:
    """Whitespace, citation markers, counters and "Toggle" prefixes out of every text; what is left empty is a
    placeholder."""
    out = []
    for e in elements:
        if e.kind in ("title", "heading"):
            e = replace(e, text=residue.clean_heading(e.text))
        elif isinstance(e.block, BulletList):
            kept = [(residue.clean_paragraph(t), d) for t, d in zip(e.block.items, _depths(e.block), strict=True)]
            kept = [(t, d) for t, d in kept if t]
            e = replace(
                list_element([t for t, _ in kept], e.line, ordered=e.block.ordered, depths=[d for _, d in kept]),
                id=e.id,
                rule=e.rule,
            )
        elif isinstance(e.block, Table):
            rows = [tuple(residue.clean_paragraph(c) for c in row) for row in e.block.rows]
            rows = [r for r in rows if any(r)]
            table = Table(tuple(rows), header=e.block.header, caption=residue.clean_paragraph(e.block.caption))
            e = replace(e, block=table, text="\n".join(" | ".join(r) for r in rows))
        else:
            e = replace(e, text=residue.clean_paragraph(e.text))
        out.append(e if re.search(r"\w", e.text) else e.drop("placeholder"))  # nothing but an icon or a rule
    return out


def _depths(block: BulletList) -> tuple[int, ...]:
    return block.depths or (0,) * len(block.items)


def mark_residue(elements: list[Element]) -> list[Element]:
    """Page chrome by the shape of its lines: contents boxes and their entries, "Related" labels and the link titles
    under them, share bars, breadcrumbs, by-lines, counters, placeholders."""
    out = list(elements)
    headings_after = _headings_after(out)
    i = 0
    while i < len(out):
        e = out[i]
        if not e.kept or e.kind in ("bio", "title"):
            i += 1
            continue
        # A contents box's label, alone or as the first line of a run of such lines ("In This Article / Toggle").
        if residue.starts_contents(e.texts[0]) and all(residue.is_residue(t) for t in e.texts):
            out[i] = e.drop("contents")
            i = _drop_contents_entries(out, i + 1, headings_after)
            continue
        if residue.starts_link_block(e.text):
            out[i] = e.drop("related")
            i = _drop_link_titles(out, i + 1)
            continue
        if isinstance(e.block, BulletList):
            rules = {residue.line_rule(t) for t in e.block.items}
            if None not in rules:  # a list goes only as a whole (a share bar written as a list)
                out[i] = e.drop(sorted(r for r in rules if r)[0])
        elif e.kind in ("paragraph", "heading"):
            rule = residue.line_rule(e.text)
            if rule:
                out[i] = e.drop(rule)
        i += 1
    return out


def _drop_orphan_labels(elements: list[Element]) -> list[Element]:
    """A short line introducing what comes next ("More reading:") goes with it when that was dropped."""
    out = list(elements)
    for i, e in enumerate(out[:-1]):
        after = out[i + 1]
        if e.kept and e.kind == "paragraph" and e.text.endswith(":") and len(e.text.split()) <= 6 and after.rule:
            out[i] = e.drop(after.rule)
    return out


def _headings_after(elements: list[Element]) -> list[set[str]]:
    """For each position, the lower-cased texts of the headings that come after it."""
    after: list[set[str]] = [set() for _ in elements]
    running: set[str] = set()
    for i in range(len(elements) - 1, -1, -1):
        after[i] = set(running)
        if elements[i].kind in ("heading", "title"):
            running.add(_key(elements[i].text))
    return after


def _key(text: str) -> str:
    return " ".join(residue.words_of(text))


def _drop_contents_entries(elements: list[Element], start: int, headings_after: list[set[str]]) -> int:
    """Past a contents box's entries: lines or lists that repeat headings found later in the article."""
    i = start
    while i < len(elements):
        e = elements[i]
        if e.kind == "bio":
            break
        texts = e.block.items if isinstance(e.block, BulletList) else (e.text,)
        entries = [_key(_ENTRY_NUMBER.sub("", t)) for t in texts]
        if not entries or not all(t in headings_after[i] for t in entries if t):
            break
        elements[i] = e.drop("contents")
        i += 1
    return i


# "1 Before You Arrive", "1.1 What to Bring", "3. Why It Happens": a numbered contents entry.
_ENTRY_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+")


def _drop_link_titles(elements: list[Element], start: int) -> int:
    """Past the link titles under a "Related posts" label: short lines and lists, up to a real heading."""
    i = start
    while i < len(elements):
        e = elements[i]
        if not e.kept:
            i += 1
            continue
        after = next((x for x in elements[i + 1 :] if x.kept), None)
        followed_by_body = after is not None and after.kind in CONTENT and not is_short_line(after.text)
        if (isinstance(e.block, BulletList) and all(is_short_line(t) for t in e.block.items)) or (
            e.kind in ("heading", "paragraph") and is_short_line(e.text) and not followed_by_body
        ):
            elements[i] = e.drop("related")
        elif e.kind == "paragraph" and residue.line_rule(e.text) == "post-info":
            elements[i] = e.drop("related")  # a related post's date
        else:
            break
        i += 1
    return i


def is_short_line(text: str) -> bool:
    """Heading-shaped: at most 12 words and no final period, colon or semicolon."""
    stripped = text.rstrip(" \"'”’)]")
    return 0 < len(residue.words_of(text)) <= 12 and not stripped.endswith((".", ":", ";"))


def _apply(elements: list[Element], overrides: Mapping[str, bool]) -> list[Element]:
    """Staff decisions win over every rule."""
    if not overrides:
        return elements
    out = []
    for e in elements:
        decision = overrides.get(e.id)
        if decision is True and e.rule:
            e = replace(e, rule=None)
        elif decision is False and e.kept:
            e = e.drop("staff")
        out.append(e)
    return out


def _take_title(items: list[Element], path: Path) -> tuple[list[Element], str]:
    """The title (the first kept title element, else one made from the file name); what comes before it on the
    page is the site's header band, other titles are sections of a page that uses h1 for them, and a heading that
    repeats the title is left out."""
    at = next((i for i, e in enumerate(items) if e.kept and e.kind == "title"), None)
    if at is None:
        return items, title_from_filename(path)
    title = items[at].text
    out = []
    for i, e in enumerate(items):
        if i < at and e.kept and e.kind != "bio":
            e = e.drop("before-title")
        elif i > at and e.kind == "title":
            e = replace(e, kind="heading")
        if i > at and e.kept and e.kind == "heading" and _key(e.text) == _key(title):
            e = e.drop("title-repeat")
        out.append(e)
    return out, title


def title_from_filename(path: Path) -> str:
    """ "baclofen-misuse-article.txt" gives "Baclofen Misuse"."""
    words = [w for w in re.split(r"[\s_\-.]+", path.stem) if w and w.lower() not in _FILENAME_NOISE]
    if not words:
        return path.stem
    return " ".join(
        w.lower() if i and w.lower() in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def _take_labelled_bio(items: list[Element]) -> tuple[list[Element], list[str]]:
    """Bio paragraphs: those an author box gave, and those under an "About the author" label (the label, and the
    name and job title lines between it and the bio, are dropped)."""
    out, bio = [], []
    state = "out"  # "label": after the label, before the bio; "bio": in the bio's paragraphs
    for e in items:
        if not e.kept:
            out.append(e)
            continue
        if e.kind == "heading" and _AUTHOR_LABEL.match(e.text):
            state = "label"
            out.append(e.drop("author-box"))
        elif state == "label" and e.kind in ("paragraph", "heading") and is_short_line(e.text):
            out.append(e.drop("author-box"))
        elif e.kind == "bio" or (state != "out" and e.kind == "paragraph"):
            state = "bio" if state != "out" else state
            bio.append(e.text)
            out.append(replace(e, kind="bio"))
        else:
            state = "out"
            out.append(e)
    return out, bio


def _drop_empty_headings(items: list[Element]) -> list[Element]:
    """A heading followed by no body before the next heading of its rank or above (or the end) has nothing to
    say: an image's alt text, a box's label whose box went, a placeholder. A heading followed by a deeper one is a
    part title and stays."""
    out = list(items)
    kept = [i for i, e in enumerate(out) if e.kept and e.kind != "bio"]
    for n, i in enumerate(kept):
        e = out[i]
        if e.kind != "heading":
            continue
        following = out[kept[n + 1]] if n + 1 < len(kept) else None
        if following is None or (following.kind == "heading" and following.level <= e.level):
            out[i] = e.drop("heading-without-body")
    return out


def _normalise_levels(items: list[Element]) -> list[Element]:
    """Heading levels made relative: the highest section heading becomes level 2 (h1-sectioned exports, pages
    whose sections start at h3), the ones under it 3 and 4."""
    levels = [e.level for e in items if e.kept and e.kind == "heading"]
    if not levels:
        return items
    shift = min(levels) - 2
    return [replace(e, level=max(2, min(4, e.level - shift))) if e.kind == "heading" and e.kept else e for e in items]


def _group(items: list[Element]) -> tuple[list[Block], list[Section]]:
    """Intro blocks (before the first heading) and sections; an article with no headings is one section with no
    heading."""
    intro: list[Block] = []
    sections: list[Section] = []
    current: tuple[Element, list[Block]] | None = None
    for e in items:
        if e.kind == "heading":
            if current:
                sections.append(Section(current[0].text, tuple(current[1]), current[0].level, current[0].id))
            current = (e, [])
        elif e.kind in CONTENT:
            (current[1] if current else intro).append(_block(e))
    if current:
        sections.append(Section(current[0].text, tuple(current[1]), current[0].level, current[0].id))
    if not sections and intro:
        return [], [Section("", tuple(intro))]
    return intro, sections


def _block(e: Element) -> Block:
    if e.block is not None:
        return replace(e.block, id=e.id)
    return Paragraph(e.text, role=e.role, id=e.id)


def _take_trailing_bio(sections: list[Section]) -> tuple[list[Section], str | None]:
    last = sections[-1]
    if len(last.blocks) < 2 or not isinstance(last.blocks[-1], Paragraph):
        return sections, None
    text = last.blocks[-1].text
    if not is_author_bio(text):
        return sections, None
    return [*sections[:-1], replace(last, blocks=last.blocks[:-1])], text


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
    body = " ".join(t for b in section.blocks for t in b.texts)
    if _CTA_BODY.search(body):
        return True
    org = _ORG_IN_HEADING.search(section.heading)
    return bool(org and org.group(1).strip() in body and _FIRST_PERSON_PLURAL.search(body))
