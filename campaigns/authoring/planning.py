"""Plan a drip series from an article: a welcome email, lessons of whole sections, a call-to-action email.

Cuts fall only between sections (never inside one, so a list is never split) and never reorder the article.
"""

from __future__ import annotations

from campaigns.authoring.article import Article, Section
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
from campaigns.authoring.sentences import split_sentences
from campaigns.authoring.series import Series, Step
from campaigns.errors import PlanError

__all__ = [
    "DEFAULT_DELAY_DAYS",
    "MAX_WORDS",
    "MIN_WORDS",
    "PREHEADER_LIMIT",
    "PREHEADER_MAX",
    "PREHEADER_MIN",
    "SUBJECT_MAX",
    "fit",
    "group_sections",
    "plan_series",
    "shorten_subject",
    "split_sentences",
]

MIN_WORDS, MAX_WORDS = 150, 450
DEFAULT_DELAY_DAYS = 2


def plan_series(
    article: Article, *, delay_days: int = DEFAULT_DELAY_DAYS, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> Series:
    """The series for an article; every block of the article lands in exactly one step, in order."""
    if delay_days < 1:
        raise PlanError(f"delay must be at least 1 day, not {delay_days}")
    if not article.sections:
        raise PlanError(f"{article.source or article.title}: the article has no sections to make lessons from")
    groups = group_sections(article.sections, min_words, max_words)
    terms = key_terms(article)
    lessons = [_lesson(i + 2, g, delay_days, terms) for i, g in enumerate(groups)]
    welcome = _welcome(article, lessons, delay_days)
    cta = _cta(article, len(lessons) + 2, delay_days)
    return Series(title=article.title, article=article, steps=(welcome, *lessons, cta))


def group_sections(sections: tuple[Section, ...], min_words: int, max_words: int) -> list[tuple[Section, ...]]:
    """Whole sections, in order, grouped greedily: a lesson takes the next section while it is short of
    `min_words` and the next one still fits under `max_words`."""
    groups: list[list[Section]] = []
    for section in sections:
        current = groups[-1] if groups else None
        if current is not None:
            words = sum(s.words for s in current)
            if words < min_words and words + section.words <= max_words:
                current.append(section)
                continue
        groups.append([section])
    # A short last lesson reads better joined to the one before it, if that still fits.
    if len(groups) > 1:
        last, before = groups[-1], groups[-2]
        if sum(s.words for s in last) < min_words and sum(s.words for s in before + last) <= max_words:
            groups[-2:] = [before + last]
    return [tuple(g) for g in groups]


def _lesson(number: int, sections: tuple[Section, ...], delay_days: int, terms: set[str]) -> Step:
    subject = lesson_subject([s.heading for s in sections], terms)
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
