"""Plan a drip series from an article: a welcome email, lessons, a call-to-action email.

How an article is cut into lessons (`cut_lessons`): sections stay whole and in order, and a lesson takes the next
section while it is short of `min_words` and the next one still fits under `max_words`, keeping a subsection with the
section it belongs to when it can. A section longer than `max_words` is cut between its blocks (a list or a table is
never split), its later parts marked "(continued)"; an article with no headings is cut the same way between its
paragraphs. A very long article is cut into at most MAX_LESSONS lessons as evenly as its sections allow; a short one
gives fewer. The welcome always says what the series covers: the article's intro, or else the opening paragraph of
its first section. No lesson is ever empty.
"""

from __future__ import annotations

import math
from dataclasses import replace

from campaigns.authoring.article import Article, Block, Paragraph, Section
from campaigns.authoring.inbox import (  # the subjects and preheaders live there; names kept importable from here
    PREHEADER_LIMIT,
    PREHEADER_MAX,
    PREHEADER_MIN,
    SUBJECT_MAX,
    cta_preheader,
    fit,
    key_terms,
    lesson_preheader,
    lesson_subject,
    shorten_subject,
    welcome_preheader,
    welcome_subject,
)
from campaigns.authoring.sentences import first_sentence, split_sentences
from campaigns.authoring.series import Series, Step
from campaigns.errors import PlanError

__all__ = [
    "DEFAULT_DELAY_DAYS",
    "MAX_LESSONS",
    "MAX_WORDS",
    "MIN_WORDS",
    "PREHEADER_LIMIT",
    "PREHEADER_MAX",
    "PREHEADER_MIN",
    "SUBJECT_MAX",
    "cut_lessons",
    "fit",
    "group_sections",
    "plan_series",
    "shorten_subject",
    "split_sentences",
    "welcome_intro",
]

MIN_WORDS, MAX_WORDS = 150, 450
MAX_LESSONS = 12
DEFAULT_DELAY_DAYS = 2
CONTINUED = " (continued)"


def plan_series(
    article: Article, *, delay_days: int = DEFAULT_DELAY_DAYS, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> Series:
    """The series for an article; every block of the article lands in exactly one step, in order."""
    if delay_days < 1:
        raise PlanError(f"delay must be at least 1 day, not {delay_days}")
    if not article.sections:
        raise PlanError(f"{article.source or article.title}: the article has no sections to make lessons from")
    intro, sections = welcome_intro(article)
    groups = cut_lessons(sections, min_words, max_words)
    terms = key_terms(article)
    lessons = [_lesson(i + 2, g, delay_days, terms) for i, g in enumerate(groups)]
    welcome = _welcome(replace(article, intro=intro), lessons, delay_days)
    cta = _cta(article, len(lessons) + 2, delay_days)
    return Series(title=article.title, article=article, steps=(welcome, *lessons, cta))


def welcome_intro(article: Article) -> tuple[tuple[Block, ...], tuple[Section, ...]]:
    """The welcome's opening (the article's intro, else its first section's opening paragraph, which then leaves
    that section) and the sections left for the lessons."""
    if article.intro:
        return article.intro, article.sections
    first = article.sections[0]
    if len(first.blocks) >= 2 and isinstance(first.blocks[0], Paragraph):
        return first.blocks[:1], (replace(first, blocks=first.blocks[1:]), *article.sections[1:])
    return (), article.sections


def cut_lessons(
    sections: tuple[Section, ...],
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
    max_lessons: int = MAX_LESSONS,
) -> list[tuple[Section, ...]]:
    """The sections cut into lessons (see the module's docstring); every block once, in order."""
    units = _units(sections, max_words)
    groups = group_sections(units, min_words, max_words)
    if len(groups) > max_lessons:
        groups = _even_groups(units, max_lessons, max_words)
    return groups


def _units(sections: tuple[Section, ...], max_words: int) -> list[Section]:
    """Sections, the long ones cut between blocks into parts of at most `max_words` where blocks allow."""
    out: list[Section] = []
    for section in sections:
        if section.words <= max_words or len(section.blocks) < 2:
            out.append(section)
            continue
        for n, blocks in enumerate(_split_blocks(section.blocks, max_words)):
            heading = section.heading if n == 0 or not section.heading else section.heading + CONTINUED
            out.append(replace(section, heading=heading, blocks=blocks))
    return out


def _split_blocks(blocks: tuple[Block, ...], max_words: int) -> list[tuple[Block, ...]]:
    """Blocks in the fewest parts that keep each under `max_words` (a block longer than that stands alone), the
    parts as even as the blocks allow."""
    total = sum(b.words for b in blocks)
    for parts in range(max(2, math.ceil(total / max_words)), len(blocks) + 1):
        split = _balanced(blocks, parts)
        if all(sum(b.words for b in part) <= max_words or len(part) == 1 for part in split):
            return split
    return [(b,) for b in blocks]


def _balanced(blocks: tuple[Block, ...], parts: int) -> list[tuple[Block, ...]]:
    """Blocks in `parts` parts, each cut before the block whose middle falls past the part's even share."""
    target = sum(b.words for b in blocks) / parts
    out: list[list[Block]] = [[]]
    done = 0
    for block in blocks:
        if out[-1] and len(out) < parts and done + block.words / 2 > target * len(out):
            out.append([])
        out[-1].append(block)
        done += block.words
    return [tuple(p) for p in out if p]


def group_sections(
    sections: tuple[Section, ...] | list[Section], min_words: int, max_words: int
) -> list[tuple[Section, ...]]:
    """Whole sections, in order, grouped greedily: a lesson takes the next section while it is short of
    `min_words` and the next one still fits under `max_words`. A section with no blocks of its own (a part title)
    always goes with the one after it, and a subsection joins its section's lesson while it fits."""
    groups: list[list[Section]] = []
    for section in sections:
        current = groups[-1] if groups else None
        if current is not None:
            words = sum(s.words for s in current)
            needs_next = not current[-1].blocks
            fits = words + section.words <= max_words
            if needs_next or (fits and (words < min_words or _continues(current, section))):
                current.append(section)
                continue
        groups.append([section])
    # A short last lesson reads better joined to the one before it, if that still fits.
    if len(groups) > 1:
        last, before = groups[-1], groups[-2]
        if sum(s.words for s in last) < min_words and sum(s.words for s in before + last) <= max_words:
            groups[-2:] = [before + last]
    return [tuple(g) for g in groups]


def _continues(current: list[Section], section: Section) -> bool:
    """Is `section` a subsection (or a continued part) of a section already in this lesson?"""
    return (section.level > 2 and any(s.level < section.level for s in current)) or section.heading.endswith(CONTINUED)


def _even_groups(units: list[Section], count: int, max_words: int) -> list[tuple[Section, ...]]:
    """`units` in exactly `count` lessons (fewer if there are fewer units), as even in length as the units allow,
    preferring cuts before a section to cuts before a subsection; a part title never ends a lesson."""
    n = len(units)
    count = min(count, n)
    words = [u.words for u in units]
    prefix = [0]
    for w in words:
        prefix.append(prefix[-1] + w)
    target = prefix[-1] / count

    def cost(i: int, j: int) -> float:  # a lesson of units[i:j]
        w = prefix[j] - prefix[i]
        over = max(0, w - max_words)
        penalty = 0.0 if units[i].level == 2 and not units[i].heading.endswith(CONTINUED) else (target / 2) ** 2
        if not units[j - 1].blocks:
            penalty += 1e12  # a part title alone at the end of a lesson
        return (w - target) ** 2 + (over * 10) ** 2 + penalty

    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    cut = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, n + 1):
            for i in range(k - 1, j):
                if best[k - 1][i] < inf:
                    c = best[k - 1][i] + cost(i, j)
                    if c < best[k][j]:
                        best[k][j], cut[k][j] = c, i
    bounds, j = [], n
    for k in range(count, 0, -1):
        i = cut[k][j]
        bounds.append((i, j))
        j = i
    return [tuple(units[i:j]) for i, j in reversed(bounds)]


def _lesson(number: int, sections: tuple[Section, ...], delay_days: int, terms: set[str]) -> Step:
    headings = [s.heading for s in sections if s.heading]
    if headings:
        subject = lesson_subject(headings, terms)
    else:  # an article with no headings: the lesson is named by its first sentence
        lead = first_sentence(sections)
        subject = shorten_subject(split_sentences(lead)[0] if lead else f"Part {number - 1}")
    return Step(
        number=number,
        kind="lesson",
        subject=subject,
        preheader=lesson_preheader(sections, subject),
        sections=sections,
        delay_days=delay_days if number > 1 else 0,
    )


def _welcome(article: Article, lessons: list[Step], delay_days: int) -> Step:
    # What the series covers is listed from the lessons' subjects when it is rendered, so it follows their edits.
    return Step(
        number=1,
        kind="welcome",
        subject=welcome_subject(article),
        preheader=welcome_preheader(len(lessons), max(lesson.reading_minutes for lesson in lessons)),
        sections=(),
        delay_days=0,
        intro=article.intro,
    )


def _cta(article: Article, number: int, delay_days: int) -> Step:
    closing = article.closing
    if closing is not None:
        subject = shorten_subject(closing.heading)
        sections: tuple[Section, ...] = (closing,)
    else:
        subject, sections = "When you are ready to talk, we are here", ()
    return Step(
        number=number,
        kind="cta",
        subject=subject,
        preheader=cta_preheader(closing is not None),
        sections=sections,
        delay_days=delay_days,
        author_bio=article.author_bio,
    )
