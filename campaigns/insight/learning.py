"""The learning loop's figures: per lesson, what readers said ("was this useful?" and their comments), how they paced
the series, how often they followed the call to action, and how many contacts came after it; per campaign, which
lessons most often came last before someone reached out. SQL aggregates, as the rest of the stats.

Comments are for staff: they appear here and on the admin pages, and are never sent to the email provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns.db.models import Contact, LessonFeedback, ReaderEvent
from campaigns.insight.reader_signals import CTA_CLICK, PACE_KINDS

COMMENTS_SHOWN = 50  # per lesson, newest first: the page and the JSON say how many there are in all


@dataclass(frozen=True)
class Comment:
    at: datetime
    useful: bool
    text: str


@dataclass
class LessonLearning:
    step: int
    useful_yes: int = 0
    useful_no: int = 0
    comment_count: int = 0
    comments: list[Comment] = field(default_factory=list)
    pacing: dict[str, int] = field(default_factory=lambda: {k.removeprefix("pace_"): 0 for k in PACE_KINDS})
    cta_clicks: int = 0
    cta_clickers: int = 0  # distinct subscribers
    contacts: int = 0  # contacts for which this was the last email before

    @property
    def answers(self) -> int:
        return self.useful_yes + self.useful_no

    @property
    def useful_rate(self) -> float | None:
        return self.useful_yes / self.answers if self.answers else None

    @property
    def is_empty(self) -> bool:
        return not (self.answers or any(self.pacing.values()) or self.cta_clicks or self.contacts)

    def as_dict(self) -> dict:
        return {
            "useful_yes": self.useful_yes,
            "useful_no": self.useful_no,
            "useful_rate": self.useful_rate,
            "comment_count": self.comment_count,
            "comments": [{"at": c.at.isoformat(), "useful": c.useful, "text": c.text} for c in self.comments],
            "pacing": dict(self.pacing),
            "cta_clicks": self.cta_clicks,
            "cta_clickers": self.cta_clickers,
            "contacts": self.contacts,
        }


@dataclass
class CampaignLearning:
    lessons: dict[int, LessonLearning] = field(default_factory=dict)
    contacts: int = 0  # every contact put down to this campaign

    def lesson(self, step: int) -> LessonLearning:
        return self.lessons.setdefault(step, LessonLearning(step))

    def last_before_contact(self) -> list[tuple[int, int]]:
        """(step, contacts) for the lessons that came last before a contact, most contacts first."""
        found = [(n, x.contacts) for n, x in self.lessons.items() if x.contacts]
        return sorted(found, key=lambda item: (-item[1], item[0]))


def campaign_learning(s: Session, campaign_ids: list[int]) -> dict[int, CampaignLearning]:
    """The learning figures of each campaign, by step."""
    out: dict[int, CampaignLearning] = {cid: CampaignLearning() for cid in campaign_ids}
    if not campaign_ids:
        return out
    f = LessonFeedback
    for cid, step, yes, no, commented in s.execute(
        select(
            f.campaign_id,
            f.step_number,
            func.count(case((f.useful.is_(True), 1))),
            func.count(case((f.useful.is_(False), 1))),
            func.count(f.comment),
        )
        .where(f.campaign_id.in_(campaign_ids))
        .group_by(f.campaign_id, f.step_number)
    ):
        lesson = out[cid].lesson(step)
        lesson.useful_yes, lesson.useful_no, lesson.comment_count = yes, no, commented
    # The newest comments of each lesson: a window function keeps COMMENTS_SHOWN per lesson, in SQL.
    newest = (
        select(
            f.campaign_id,
            f.step_number,
            f.answered_at,
            f.useful,
            f.comment,
            func.row_number()
            .over(partition_by=(f.campaign_id, f.step_number), order_by=(f.answered_at.desc(), f.id.desc()))
            .label("n"),
        )
        .where(f.campaign_id.in_(campaign_ids), f.comment.is_not(None))
        .subquery()
    )
    for cid, step, at, useful, text, _ in s.execute(
        select(newest).where(newest.c.n <= COMMENTS_SHOWN).order_by(newest.c.n)
    ):
        out[cid].lesson(step).comments.append(Comment(at, useful, text))
    e = ReaderEvent
    for cid, step, kind, n, people in s.execute(
        select(e.campaign_id, e.step_number, e.kind, func.count(), func.count(func.distinct(e.subscriber_id)))
        .where(e.campaign_id.in_(campaign_ids))
        .group_by(e.campaign_id, e.step_number, e.kind)
    ):
        lesson = out[cid].lesson(step)
        if kind == CTA_CLICK:
            lesson.cta_clicks, lesson.cta_clickers = n, people
        elif kind in PACE_KINDS:
            lesson.pacing[kind.removeprefix("pace_")] = n
    for contacted, last_step, n in s.execute(
        select(Contact.campaign_id, Contact.step_number, func.count())
        .where(Contact.campaign_id.in_(campaign_ids))
        .group_by(Contact.campaign_id, Contact.step_number)
    ):
        if contacted is None:  # not asked for (the query is by campaign); for the type checker
            continue
        out[contacted].contacts += n
        if last_step is not None:
            out[contacted].lesson(last_step).contacts = n
    return out


@dataclass(frozen=True)
class LearningTotals:
    """Totals over every campaign, for /metrics."""

    useful: dict[str, int]  # "yes" / "no" -> answers
    pacing: dict[str, int]  # action -> times
    cta_clicks: int
    contacts: dict[str, int]  # channel -> contacts
    contacts_attributed: int


def learning_totals(s: Session) -> LearningTotals:
    useful = {"yes": 0, "no": 0}
    for answer, n in s.execute(select(LessonFeedback.useful, func.count()).group_by(LessonFeedback.useful)):
        useful["yes" if answer else "no"] = n
    pacing = {k.removeprefix("pace_"): 0 for k in PACE_KINDS}
    clicks = 0
    for kind, n in s.execute(select(ReaderEvent.kind, func.count()).group_by(ReaderEvent.kind)):
        if kind == CTA_CLICK:
            clicks = n
        elif kind in PACE_KINDS:
            pacing[kind.removeprefix("pace_")] = n
    contacts = dict(s.execute(select(Contact.channel, func.count()).group_by(Contact.channel)).all())
    attributed = s.scalar(select(func.count()).select_from(Contact).where(Contact.step_number.is_not(None))) or 0
    return LearningTotals(useful, pacing, clicks, contacts, attributed)
