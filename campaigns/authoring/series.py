"""A planned drip series: the steps an article becomes (welcome, lessons, call to action)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from campaigns.authoring.article import Article, Block, Section

StepKind = Literal["welcome", "lesson", "cta"]
WORDS_PER_MINUTE = 200


@dataclass(frozen=True)
class Step:
    number: int  # 1-based position in the series
    kind: StepKind
    subject: str  # <= 60 characters (inbox.SUBJECT_MAX)
    preheader: str  # 40 to 90 characters as planned (inbox.PREHEADER_MIN, PREHEADER_MAX)
    sections: tuple[Section, ...]  # whole sections of the article, in order
    delay_days: int  # days after the previous step (0 for the first)
    intro: tuple[Block, ...] = ()  # blocks before the first section (welcome step only)
    author_bio: str | None = None  # the article's closing author bio (cta step only)

    @property
    def words(self) -> int:
        return sum(s.words for s in self.sections) + sum(b.words for b in self.intro)

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.words / WORDS_PER_MINUTE))

    @property
    def section_headings(self) -> list[str]:
        return [s.heading for s in self.sections]


@dataclass(frozen=True)
class Series:
    title: str
    article: Article = field(repr=False)
    steps: tuple[Step, ...]

    @property
    def lessons(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "lesson")

    def step(self, number: int) -> Step:
        from campaigns.errors import PlanError

        if not 1 <= number <= len(self.steps):
            raise PlanError(f"step {number} does not exist: this series has steps 1 to {len(self.steps)}")
        return self.steps[number - 1]

    def as_json(self) -> dict:
        from campaigns.authoring.parsing.rules import describe

        return {
            "title": self.title,
            "steps": [
                {
                    "number": s.number,
                    "kind": s.kind,
                    "subject": s.subject,
                    "preheader": s.preheader,
                    "sections": s.section_headings,
                    "words": s.words,
                    "reading_minutes": s.reading_minutes,
                    "delay_days": s.delay_days,
                }
                for s in self.steps
            ],
            # Every block the parser left out, with the rule that dropped it (staff check these before sending).
            "dropped": [
                {"id": b.id, "line": b.line, "text": b.text, "rule": b.rule, "why": describe(b.rule or "")}
                for b in self.article.dropped
            ],
        }
