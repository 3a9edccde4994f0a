"""Raw text copied from a web page: one paragraph a line, headings known only by their shape."""

from __future__ import annotations

import re
from pathlib import Path

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.assemble import (
    Element,
    assemble_article,
    is_short_line,
)

# "- item", "• item", "* item", "1. item", "2) item"
_ITEM = re.compile(r"^\s*(?:[-•*–]|\d{1,3}[.)])\s+(?=\S)")


def text_elements(source: str) -> list[Element]:
    """Each non-blank line as a list item, a heading (by its shape) or a paragraph."""
    elements: list[Element] = []
    group = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        line = " ".join(raw.split())
        if not line:
            continue
        marker = _ITEM.match(raw)
        if marker:
            if not elements or elements[-1].kind != "item":
                group += 1
            elements.append(Element("item", raw[marker.end() :].strip(), number, group=group))
        elif is_short_line(line):
            elements.append(Element("heading", line, number))
        else:
            elements.append(Element("paragraph", line, number))
    return elements


def parse_text(source: str, path: Path) -> Article:
    """The Article in raw text; a leading heading-shaped line before any body text is the title."""
    return assemble_article(text_elements(source), path, leading_heading_is_title=True)
