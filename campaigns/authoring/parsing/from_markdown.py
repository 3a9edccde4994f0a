"""Markdown articles (CommonMark, read with markdown-it-py): `#` is the title, `##`/`###` are sections."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.assemble import Element, assemble_article
from campaigns.authoring.parsing.from_html import html_fragment_text

_FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.S)
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)


def markdown_elements(source: str) -> list[Element]:
    """Headings, paragraphs and list items in reading order, inline markup made plain text."""
    source, front_title = _without_front_matter(source)
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    elements: list[Element] = [Element("title", front_title, 1, level=1)] if front_title else []
    group = list_depth = 0
    list_items: list[tuple[Element, bool]] = []  # the current top-level list, each item with "is an anchor link"
    heading_tag: str | None = None
    row: list[str] | None = None  # the cells of the table row being read
    row_line = 0
    for token in tokens:
        line = token.map[0] + 1 if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0:
                group += 1
                list_items = []
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            # A list of links to this page's own headings is a contents box, not content.
            if list_depth == 0 and not all(anchor for _, anchor in list_items):
                elements.extend(e for e, _ in list_items)
        elif token.type == "heading_open":
            heading_tag = token.tag
        elif token.type == "heading_close":
            heading_tag = None
        elif token.type == "tr_open":
            row, row_line = [], line
        elif token.type == "tr_close":
            if row and any(row):
                elements.append(Element("paragraph", " | ".join(row), row_line))
            row = None
        elif token.type == "inline":
            text = inline_text(token)
            if row is not None:
                row.append(text)
            elif heading_tag:
                level = int(heading_tag[1])
                elements.append(Element("title" if level == 1 else "heading", text, line, level=level))
            elif list_depth:
                list_items.append((Element("item", text, line, group=group), _is_anchor_link(token)))
            else:
                elements.append(Element("paragraph", text, line))
        elif token.type in ("fence", "code_block"):
            elements.append(Element("paragraph", token.content.strip(), line))
        elif token.type == "html_block":
            text = html_fragment_text(token.content)
            if text:
                elements.append(Element("paragraph", text, line))
    return elements


def parse_markdown(source: str, path: Path) -> Article:
    """The Article in Markdown source."""
    return assemble_article(markdown_elements(source), path)


def inline_text(token: Token) -> str:
    """The plain text of an inline token: link text kept, images and inline HTML dropped, breaks as spaces."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _is_anchor_link(token: Token) -> bool:
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    return (
        len(children) >= 3
        and children[0].type == "link_open"
        and children[-1].type == "link_close"
        and str(children[0].attrs.get("href", "")).startswith("#")
    )


def _without_front_matter(source: str) -> tuple[str, str | None]:
    """The source with a YAML front matter block blanked out (line numbers kept) and its `title:` if any."""
    m = _FRONT_MATTER.match(source)
    if not m:
        return source, None
    title = _FRONT_TITLE.search(m.group(1))
    return "\n" * m.group(0).count("\n") + source[m.end() :], (title.group(1).strip() or None) if title else None
