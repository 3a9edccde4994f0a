"""The article as the domain sees it: a title, an intro, ordered sections, a closing call to action, an author bio,
and every block of the source in reading order with what the parser decided about it (kept, or dropped by a rule).

Blocks carry an `id` that depends only on what the block says (its kind and words, and which repeat it is), so the
same source always gives the same ids and an edited article keeps the ids of the blocks it did not change: a
staff decision "keep block X" or "drop block Y" can be stored by id and given back to the parser
(`parse_source(..., overrides={id: True | False})`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ParagraphRole = Literal["text", "quote", "caption"]


@dataclass(frozen=True)
class Paragraph:
    text: str
    role: ParagraphRole = "text"  # a quote is set apart in an email, a caption is small print under a figure
    id: str = field(default="", compare=False)

    @property
    def words(self) -> int:
        return count_words(self.text)

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.text,)


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    ordered: bool = False
    depths: tuple[int, ...] = ()  # nesting depth of each item (0 = top level); empty for a flat list
    id: str = field(default="", compare=False)

    @property
    def words(self) -> int:
        return sum(count_words(i) for i in self.items)

    @property
    def texts(self) -> tuple[str, ...]:
        return self.items

    @property
    def tree(self) -> tuple[ListNode, ...]:
        """The items as nested nodes, for templates that write nested lists."""
        depths = self.depths or (0,) * len(self.items)
        root: list[ListNode] = []
        stack: list[tuple[int, list[ListNode]]] = [(-1, root)]
        for text, depth in zip(self.items, depths, strict=True):
            while len(stack) > 1 and stack[-1][0] >= depth:
                stack.pop()
            node = ListNode(text, [])
            stack[-1][1].append(node)
            stack.append((depth, node.children))
        return tuple(root)


@dataclass(frozen=True)
class ListNode:
    text: str
    children: list[ListNode]


@dataclass(frozen=True)
class Table:
    """A table kept as rows of cells; an email shows each row as a small card (it reads on a phone)."""

    rows: tuple[tuple[str, ...], ...]
    header: bool = False  # the first row names the columns
    caption: str = ""
    id: str = field(default="", compare=False)

    @property
    def words(self) -> int:
        return sum(count_words(t) for t in self.texts)

    @property
    def texts(self) -> tuple[str, ...]:
        return ((self.caption,) if self.caption else ()) + tuple(c for row in self.rows for c in row if c)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.rows[0] if self.header and self.rows else ()

    @property
    def body(self) -> tuple[tuple[str, ...], ...]:
        return self.rows[1:] if self.header else self.rows


Block = Paragraph | BulletList | Table


@dataclass(frozen=True)
class Section:
    heading: str  # empty for an article with no headings at all
    blocks: tuple[Block, ...]
    level: int = 2  # 2 for a section, 3 and 4 for its subsections (h3, h4)
    id: str = field(default="", compare=False)

    @property
    def words(self) -> int:
        return sum(b.words for b in self.blocks)


SourceKind = Literal["title", "heading", "paragraph", "list", "table", "bio"]


@dataclass(frozen=True)
class SourceBlock:
    """One block of the source as the parser read it: kept, or dropped by `rule` (see parsing.rules.RULES)."""

    id: str
    kind: SourceKind
    text: str
    line: int
    rule: str | None = None

    @property
    def kept(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class Article:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    closing: Section | None = None
    author_bio: str | None = None
    source: Path | None = field(default=None, compare=False)
    # Every block of the source in reading order, kept or dropped (what staff review before a campaign starts).
    blocks: tuple[SourceBlock, ...] = field(default=(), compare=False, repr=False)

    @property
    def dropped(self) -> tuple[SourceBlock, ...]:
        return tuple(b for b in self.blocks if not b.kept)

    @property
    def author_name(self) -> str | None:
        """The bio's leading proper name ("Stephanie Robilio is ..." gives "Stephanie Robilio")."""
        if not self.author_bio:
            return None
        m = re.match(r"((?:[A-Z][\w.'\u2019-]+\s){1,3}?)(?:is|was|has|serves|works)\b", self.author_bio)
        return m.group(1).strip() if m else None


_WORD = re.compile(r"[\w\u2019']+")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))
