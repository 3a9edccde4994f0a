"""The series as staff shape it: its name, the blocks they kept or dropped, and per email its subject, preheader,
delay and sections (heading and Markdown body). One `SeriesDraft` is stored with each campaign version (as JSON);
the editor shows it, the series file (`series_file`) writes and reads it, and `to_series` turns it into the `Series`
that rendering compiles, so all three read the same thing.

`from_series` makes the first draft from what the planner cut; `merge_emails` and `split_email` move where one email
ends and the next begins; `replanned` plans again from the article with the staff's kept and dropped blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from campaigns.authoring.article import Article, Section, count_words
from campaigns.authoring.bodies import to_blocks, to_markdown
from campaigns.authoring.inbox import (
    PREHEADER_LIMIT,
    SUBJECT_LIMIT,
    key_terms,
    lesson_preheader,
    lesson_subject,
    welcome_preheader,
)
from campaigns.authoring.merge_tags import to_slots
from campaigns.authoring.series import WORDS_PER_MINUTE, Series, Step, StepKind
from campaigns.errors import StateError
from campaigns.text_input import clean_line

MAX_DELAY_DAYS = 365
NAME_LIMIT = 300


@dataclass(frozen=True)
class SectionDraft:
    heading: str
    body: str  # Markdown (campaigns.authoring.bodies)
    level: int = 2


@dataclass(frozen=True)
class EmailDraft:
    kind: StepKind
    subject: str
    preheader: str
    delay_days: int
    sections: tuple[SectionDraft, ...] = ()
    intro: str = ""  # the welcome's opening, Markdown

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections]


@dataclass(frozen=True)
class SeriesDraft:
    name: str
    emails: tuple[EmailDraft, ...]
    overrides: Mapping[str, bool] = field(default_factory=dict)  # block id -> kept (True) or dropped (False)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "overrides": dict(sorted(self.overrides.items())),
            "emails": [
                {
                    "kind": e.kind,
                    "subject": e.subject,
                    "preheader": e.preheader,
                    "delay_days": e.delay_days,
                    "intro": e.intro,
                    "sections": [{"heading": s.heading, "level": s.level, "body": s.body} for s in e.sections],
                }
                for e in self.emails
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping) -> SeriesDraft:
        return cls(
            name=str(data["name"]),
            overrides={str(k): bool(v) for k, v in dict(data.get("overrides") or {}).items()},
            emails=tuple(
                EmailDraft(
                    kind=cast(StepKind, e["kind"]),
                    subject=str(e["subject"]),
                    preheader=str(e["preheader"]),
                    delay_days=int(e["delay_days"]),
                    intro=str(e.get("intro", "")),
                    sections=tuple(
                        SectionDraft(str(s["heading"]), str(s["body"]), int(s.get("level", 2)))
                        for s in e.get("sections", ())
                    ),
                )
                for e in data["emails"]
            ),
        )

    @classmethod
    def from_json(cls, text: str) -> SeriesDraft:
        return cls.from_dict(json.loads(text))


# ------------------------------------------------------------------------------------------------ series <-> draft


def from_series(series: Series, overrides: Mapping[str, bool] | None = None) -> SeriesDraft:
    """The draft of a planned series: its words as Markdown, its subjects, preheaders and delays as planned."""
    return SeriesDraft(
        name=series.title,
        overrides=dict(overrides or {}),
        emails=tuple(
            EmailDraft(
                kind=st.kind,
                subject=st.subject,
                preheader=st.preheader,
                delay_days=st.delay_days,
                intro=to_markdown(st.intro),
                sections=tuple(SectionDraft(s.heading, to_markdown(s.blocks), s.level) for s in st.sections),
            )
            for st in series.steps
        ),
    )


def to_series(draft: SeriesDraft, article: Article) -> Series:
    """The series rendering compiles: the draft's words as blocks, its merge tags as slots (StateError naming the
    email and field of the first thing that cannot be sent). `article` is the article parsed with the draft's
    overrides (for the author's name and bio)."""
    check_draft(draft)
    steps = []
    for n, e in enumerate(draft.emails, 1):
        where = f"email {n}"
        sections = tuple(
            Section(
                to_slots(s.heading, f"a heading of {where}", f"e{n}-s{k}-heading"),
                to_blocks(
                    to_slots(s.body, f"the body of {where}", f"e{n}-s{k}-body"),
                    f"the body of {where}",
                    f"e{n}-s{k}-body",
                ),
                level=s.level,
            )
            for k, s in enumerate(e.sections, 1)
        )
        steps.append(
            Step(
                number=n,
                kind=e.kind,
                subject=to_slots(e.subject, f"the subject of {where}", f"e{n}-subject"),
                preheader=to_slots(e.preheader, f"the preheader of {where}", f"e{n}-preheader"),
                sections=sections,
                delay_days=0 if n == 1 else e.delay_days,
                intro=to_blocks(
                    to_slots(e.intro, f"the opening of {where}", f"e{n}-intro"),
                    f"the opening of {where}",
                    f"e{n}-intro",
                ),
                author_bio=article.author_bio if e.kind == "cta" else None,
            )
        )
    name = to_slots(draft.name, "the series name", "name")
    return Series(title=name, article=replace(article, title=name), steps=tuple(steps))


def check_draft(draft: SeriesDraft) -> None:
    """Refuse what cannot be saved: an empty name, subject or lesson; a subject or preheader over its limit; a
    delay out of range. Each error names the email and the field (`e3-subject`, for the editor)."""
    if not clean_line(draft.name):
        raise StateError("the series needs a name (what the emails call it)", field="name")
    if len(draft.name) > NAME_LIMIT:
        raise StateError(f"the series name is {len(draft.name)} characters; keep it to {NAME_LIMIT}", field="name")
    if not draft.emails or draft.emails[0].kind != "welcome":
        raise StateError("a series starts with its welcome email")
    for n, e in enumerate(draft.emails, 1):
        subject = clean_line(e.subject)
        if not subject:
            raise StateError(f"email {n} needs a subject", field=f"e{n}-subject")
        if len(subject) > SUBJECT_LIMIT:
            raise StateError(
                f"the subject of email {n} is {len(subject)} characters; keep it to {SUBJECT_LIMIT} "
                "(inboxes show about 60)",
                field=f"e{n}-subject",
            )
        if len(clean_line(e.preheader)) > PREHEADER_LIMIT:
            raise StateError(
                f"the preheader of email {n} is {len(clean_line(e.preheader))} characters; keep it to "
                f"{PREHEADER_LIMIT} (inboxes show about 90)",
                field=f"e{n}-preheader",
            )
        if n > 1 and not 1 <= e.delay_days <= MAX_DELAY_DAYS:
            raise StateError(
                f"the delay of email {n} must be 1 to {MAX_DELAY_DAYS} days, not {e.delay_days}", field=f"e{n}-delay"
            )
        if e.kind == "lesson" and not any(s.body.strip() for s in e.sections):
            raise StateError(f"email {n} has nothing to say: give a section a body, or merge it", field=f"e{n}")


# ------------------------------------------------------------------------------------------------ cutting


def merge_emails(draft: SeriesDraft, number: int) -> SeriesDraft:
    """Email `number` and the one after it as one email (both lessons), under the first one's subject."""
    emails = list(draft.emails)
    if not 1 <= number < len(emails):
        raise StateError(f"there is no email after email {number} to merge with")
    first, second = emails[number - 1], emails[number]
    if first.kind != "lesson" or second.kind != "lesson":
        raise StateError(
            f"emails {number} and {number + 1} cannot be merged: only two lessons can (the welcome and the last "
            "email keep their own place)",
            field=f"e{number}",
        )
    emails[number - 1 : number + 1] = [replace(first, sections=first.sections + second.sections)]
    return _recounted(draft, replace(draft, emails=tuple(emails)))


def split_email(draft: SeriesDraft, number: int, at: int, article: Article | None = None) -> SeriesDraft:
    """Email `number` cut before its section `at` (1-based): the later sections become a new email after it, with
    a subject and preheader written from them as the planner writes them."""
    emails = list(draft.emails)
    if not 1 <= number <= len(emails):
        raise StateError(f"there is no email {number}")
    email = emails[number - 1]
    if email.kind != "lesson" or not 2 <= at <= len(email.sections):
        raise StateError(
            f"email {number} cannot be split before its section {at}: a lesson splits between two of its sections",
            field=f"e{number}",
        )
    head, tail = email.sections[: at - 1], email.sections[at - 1 :]
    blocks = tuple(Section(s.heading, to_blocks(s.body, "the new email"), s.level) for s in tail)
    terms = key_terms(article) if article is not None else set()
    subject = lesson_subject([s.heading for s in tail if s.heading] or ["More"], terms)
    new = EmailDraft(
        kind="lesson",
        subject=subject,
        preheader=lesson_preheader(blocks, subject),
        delay_days=email.delay_days or 2,
        sections=tail,
    )
    emails[number - 1 : number] = [replace(email, sections=head), new]
    return _recounted(draft, replace(draft, emails=tuple(emails)))


def _recounted(before: SeriesDraft, after: SeriesDraft) -> SeriesDraft:
    """The welcome's preheader says how many lessons come ("Seven short lessons, ..."): after a merge or a split it
    is written again, unless staff wrote their own."""
    welcome = after.emails[0]
    if welcome.kind != "welcome" or welcome.preheader != _welcome_line(before):
        return after
    return replace(after, emails=(replace(welcome, preheader=_welcome_line(after)), *after.emails[1:]))


def _welcome_line(draft: SeriesDraft) -> str:
    lessons = [e for e in draft.emails if e.kind == "lesson"]
    words = [sum(count_words(s.body) for s in e.sections) for e in lessons] or [0]
    return welcome_preheader(len(lessons), max(1, round(max(words) / WORDS_PER_MINUTE)))


def carried_over(new: SeriesDraft, old: SeriesDraft) -> SeriesDraft:
    """A freshly planned draft with what staff set in `old` kept where it still fits: the series name, and the
    subject, preheader and delay of each email that carries the same sections as before."""
    before = {(e.kind, tuple(e.headings)): e for e in old.emails}
    emails = tuple(
        replace(e, subject=o.subject, preheader=o.preheader, delay_days=o.delay_days)
        if (o := before.get((e.kind, tuple(e.headings)))) is not None
        else e
        for e in new.emails
    )
    return replace(new, name=old.name, emails=emails)
