"""The article as the domain sees it: a title, an intro, ordered sections, a closing call to action, an author bio."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Paragraph:
    text: str

    @property
    def words(self) -> int:
        return count_words(self.text)


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(count_words(i) for i in self.items)


Block = Paragraph | BulletList


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]

    @property
    def words(self) -> int:
        return sum(b.words for b in self.blocks)


@dataclass(frozen=True)
class Article:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    closing: Section | None = None
    author_bio: str | None = None
    source: Path | None = field(default=None, compare=False)

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
