"""A reader's own controls over one series, from the links of its emails (pace, "was this useful?", the call to
action) and from their preferences page. Each takes the email a signed reader link names (campaigns.tokens) and works
in the caller's transaction; the pages only call these after a POST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audience.unsubscribe import load_subscriber
from campaigns.db.models import Campaign, CampaignVersion, Enrollment, LessonFeedback, StepRow, Subscriber
from campaigns.delivery import pacing
from campaigns.errors import NotFound, StateError
from campaigns.insight.reader_signals import CTA_CLICK, ReaderEventKind, record_feedback, record_reader_event
from campaigns.tokens import ReaderToken

PaceAction = Literal["next", "weekly", "pause", "usual", "resume"]
# What each link of an email asks (the path after the token), and the preference page's ways back.
EMAIL_PACE_ACTIONS: tuple[str, ...] = ("next", "weekly", "pause")
PACE_ACTIONS: tuple[str, ...] = ("next", "weekly", "pause", "usual", "resume")
USEFUL_ANSWERS = {"yes": True, "no": False}
_PACE_KIND: dict[str, ReaderEventKind] = {
    "next": "pace_next",
    "weekly": "pace_weekly",
    "pause": "pace_pause",
    "usual": "pace_usual",
    "resume": "pace_resume",
}


@dataclass(frozen=True)
class SeriesPlace:
    """Where a reader is in one series, and at what pace: what their pages show."""

    campaign_id: int
    title: str
    status: str  # the enrollment's: active | sending | completed | stopped
    pace: str
    held_until: datetime | None
    next_step: int
    total_steps: int
    next_subject: str | None
    next_due_at: datetime | None

    @property
    def is_open(self) -> bool:
        """Emails are still to come, so the pace can change."""
        return self.status in ("active", "sending") and self.next_step <= self.total_steps


def _enrollment(s: Session, subscriber_id: int, campaign_id: int, *, lock: bool = False) -> Enrollment:
    q = select(Enrollment).where(Enrollment.subscriber_id == subscriber_id, Enrollment.campaign_id == campaign_id)
    found = s.scalar(q.with_for_update() if lock else q)
    if found is None:
        raise NotFound("you are not on this series any more")
    return found


def series_place(s: Session, enrollment: Enrollment) -> SeriesPlace:
    campaign = s.get_one(Campaign, enrollment.campaign_id)
    subjects = dict(
        s.execute(
            select(StepRow.number, StepRow.subject)
            .join(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == campaign.current_version)
        ).all()
    )
    return SeriesPlace(
        campaign.id,
        campaign.title,
        enrollment.status,
        enrollment.pace,
        enrollment.held_until,
        enrollment.next_step,
        len(subjects),
        subjects.get(enrollment.next_step),
        enrollment.next_due_at,
    )


def reader_place(s: Session, token: ReaderToken) -> tuple[Subscriber, SeriesPlace]:
    """The subscriber and their place in the series an email's link names (for the page a GET shows)."""
    subscriber = load_subscriber(s, token.subscriber_id)
    return subscriber, series_place(s, _enrollment(s, subscriber.id, token.campaign_id))


def series_places(s: Session, subscriber_id: int) -> list[SeriesPlace]:
    """Every series the subscriber is on, oldest enrolment first (the preferences page)."""
    rows = s.scalars(select(Enrollment).where(Enrollment.subscriber_id == subscriber_id).order_by(Enrollment.id))
    return [series_place(s, e) for e in rows]


def change_pace(
    s: Session, subscriber_id: int, campaign_id: int, step: int, action: PaceAction, now: datetime
) -> SeriesPlace:
    """Apply a reader's pacing choice to their place in one series and record it against the email it came from
    (`step`; 0 for the preferences page). StateError when there is nothing left to pace."""
    if action not in PACE_ACTIONS:
        raise StateError("this link asks for something we do not know; please use the links in our email")
    subscriber = load_subscriber(s, subscriber_id)
    if subscriber.status != "active":
        raise StateError("you are not subscribed, so no more emails come and there is no pace to change")
    enrollment = _enrollment(s, subscriber.id, campaign_id, lock=True)
    campaign = s.get_one(Campaign, campaign_id)
    place = series_place(s, enrollment)
    if not place.is_open:
        raise StateError("you have had every email of this series, so there is no next one to change")
    if action == "next":
        pacing.send_next_now(s, enrollment, now)
        # They asked for the next email now: a pause they set on all their emails would hold it back.
        if subscriber.paused_until is not None and subscriber.paused_until > now:
            subscriber.paused_until = None
    elif action in ("weekly", "usual"):
        pacing.set_pace(s, enrollment, campaign, subscriber.timezone, "weekly" if action == "weekly" else "usual", now)
    elif action == "pause":
        pacing.hold(s, enrollment, campaign, subscriber.timezone, now)
    else:
        pacing.end_hold(s, enrollment, campaign, subscriber.timezone, now)
    record_reader_event(s, subscriber.id, campaign_id, step, _PACE_KIND[action], now)
    s.flush()
    return series_place(s, enrollment)


def answer_useful(s: Session, token: ReaderToken, answer: str, comment: str | None, now: datetime) -> LessonFeedback:
    """Keep a reader's "was this useful?" answer to one email (the last answer counts)."""
    if answer not in USEFUL_ANSWERS:
        raise StateError("this link asks for something we do not know; please use the links in our email")
    subscriber = load_subscriber(s, token.subscriber_id)
    if subscriber.status == "erased":
        raise StateError("nothing is stored about you any more, so your answer is not kept")
    _enrollment(s, subscriber.id, token.campaign_id)  # a link for a series they are on
    return record_feedback(s, subscriber.id, token.campaign_id, token.step, USEFUL_ANSWERS[answer], comment, now)


def record_cta_click(s: Session, token: ReaderToken, now: datetime) -> bool:
    """Count a click on an email's call to action; False (nothing kept) for a sample link or someone erased."""
    if token.is_sample:
        return False
    subscriber = s.get(Subscriber, token.subscriber_id)
    if subscriber is None or subscriber.status == "erased" or s.get(Campaign, token.campaign_id) is None:
        return False
    record_reader_event(s, subscriber.id, token.campaign_id, token.step, CTA_CLICK, now)
    return True
