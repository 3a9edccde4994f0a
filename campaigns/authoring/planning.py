"""Plan a drip series from an article: a welcome email, lessons of whole sections, a call-to-action email.

Cuts fall only between sections (never inside one, so a list is never split) and never reorder the article.
"""

from __future__ import annotations

import re

from campaigns.authoring.article import Article, Paragraph, Section, count_words
from campaigns.authoring.series import Series, Step
from campaigns.errors import PlanError

SUBJECT_MAX = 60
PREHEADER_MAX = 110
MIN_WORDS, MAX_WORDS = 150, 450
DEFAULT_DELAY_DAYS = 2

# Words a shortened subject must not end on, and where a trailing phrase may be cut off.
_CUT_BEFORE = {"at", "in", "for", "with", "from", "during", "after", "before", "on", "of", "and", "or", "to", "by"}
_SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019)]?\s+")
# A period after these (or after initials such as "U.S.") does not end a sentence.
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "etc", "st", "jr", "sr", "no", "approx", "fig"}
LEAD_MIN_WORDS = 8  # a preheader of "Yes." says nothing: take sentences until the lead says something


def plan_series(
    article: Article, *, delay_days: int = DEFAULT_DELAY_DAYS, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> Series:
    """The series for an article; every block of the article lands in exactly one step, in order."""
    if delay_days < 1:
        raise PlanError(f"delay must be at least 1 day, not {delay_days}")
    if not article.sections:
        raise PlanError(f"{article.source or article.title}: the article has no sections to make lessons from")
    groups = group_sections(article.sections, min_words, max_words)
    lessons = [_lesson(i + 2, g, delay_days) for i, g in enumerate(groups)]
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


def _lesson(number: int, sections: tuple[Section, ...], delay_days: int) -> Step:
    words = sum(s.words for s in sections)
    minutes = max(1, round(words / 200))
    lead = _first_sentence(sections)
    preheader = fit(f"{minutes}-minute read: {lead or sections[0].heading}", PREHEADER_MAX)
    return Step(
        number=number,
        kind="lesson",
        subject=shorten_subject(sections[0].heading),
        preheader=preheader,
        sections=sections,
        delay_days=delay_days if number > 1 else 0,
    )


def _welcome(article: Article, lessons: list[Step], delay_days: int) -> Step:
    total = len(lessons) + 2
    subject = shorten_subject(f"Welcome: your {total}-part guide to {article.title}")
    if len(subject) > SUBJECT_MAX or subject.endswith("…"):
        subject = shorten_subject(f"Welcome to your guide to {article.title}")
    preheader = fit(f"{total} short emails, one every {delay_days} days. First up: {lessons[0].subject}", PREHEADER_MAX)
    return Step(
        number=1,
        kind="welcome",
        subject=subject,
        preheader=preheader,
        sections=(),
        delay_days=0,
        intro=article.intro,
        topics=tuple(h for lesson in lessons for h in lesson.section_headings),
    )


def _cta(article: Article, number: int, delay_days: int) -> Step:
    closing = article.closing
    if closing is not None:
        subject = shorten_subject(closing.heading)
        lead = _first_sentence((closing,))
        preheader = fit(lead or f"How {article.title.lower()} help works, and how to reach us", PREHEADER_MAX)
        sections: tuple[Section, ...] = (closing,)
    else:
        subject, preheader, sections = (
            "When you are ready to talk, we are here",
            "Questions about what you read? Here is how to reach a real person.",
            (),
        )
    return Step(
        number=number,
        kind="cta",
        subject=subject,
        preheader=preheader,
        sections=sections,
        delay_days=delay_days,
        author_bio=article.author_bio,
    )


def shorten_subject(heading: str, limit: int = SUBJECT_MAX) -> str:
    """A subject from a heading: unchanged when it fits, else cut at a phrase boundary, else at a word."""
    s = " ".join(heading.split())
    if len(s) <= limit:
        return s
    head = re.split(r"[:\u2013\u2014]| - ", s)[0].strip()
    if 15 <= len(head) <= limit:
        return head
    words = s.split()
    for i in range(len(words) - 1, 2, -1):  # drop a trailing phrase ("... at Agape Detox")
        if words[i].lower() in _CUT_BEFORE:
            candidate = " ".join(words[:i]).rstrip(",;")
            if len(candidate) <= limit and words[i - 1].lower() not in _CUT_BEFORE:
                return candidate
    return fit(s, limit)


def fit(text: str, limit: int) -> str:
    """Text cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    words, out = text.split(), ""
    for w in words:
        if len(out) + len(w) + (1 if out else 0) > limit - 1:
            break
        out = f"{out} {w}" if out else w
    while out.split() and out.split()[-1].lower().strip(",;:") in _CUT_BEFORE:
        out = out.rsplit(" ", 1)[0]
    return out.rstrip(",;:") + "…"


def _first_sentence(sections: tuple[Section, ...]) -> str | None:
    """The opening of the first paragraph: whole sentences, enough of them to say something."""
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lead = ""
                for sentence in split_sentences(block.text):
                    lead = f"{lead} {sentence}".strip()
                    if count_words(lead) >= LEAD_MIN_WORDS:
                        break
                return lead
    return None


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, not fooled by abbreviations and initials ("U.S.", "Dr.", "e.g.")."""
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        before = (
            text[start : m.start() + 1].split()[-1].lower().rstrip(".") if text[start : m.start() + 1].split() else ""
        )
        if before in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+[a-z]|[a-z]", before):
            continue
        parts.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts
