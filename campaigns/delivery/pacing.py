"""The pace a reader sets for one series from its emails' links: the next email now, one a week, or a break.

Each move changes only the enrollment's due time (and its `pace` or `held_until`); the tick does the rest as for any
due enrollment, so nothing is sent twice and nothing is skipped. An email already created for the next step but not
yet claimed by a worker is forgotten first (as a subscriber's pause does), so the new time holds; one a worker has
claimed is on its way and is left alone.

    usual  --weekly-->  weekly        (every later email at least WEEKLY_DAYS after the one before)
    weekly --usual-->   usual         (the series' own delays again)
    any    --hold-->    held_until    (the next email HOLD_DAYS out; "resume" ends it, "next now" too)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaigns.db.models import Campaign, CampaignVersion, Delivery, Enrollment, StepRow
from campaigns.delivery import state as ds
from campaigns.delivery.schedule import next_due, window_of, zone

Pace = Literal["usual", "weekly"]
PACES: tuple[str, ...] = ("usual", "weekly")
WEEKLY_DAYS = 7
HOLD_DAYS = 14


def spaced_delay(pace: str, delay_days: int) -> int:
    """The days between two emails at this pace: a weekly reader waits at least a week, never less than planned."""
    return max(delay_days, WEEKLY_DAYS) if pace == "weekly" else delay_days


def is_held(enrollment: Enrollment, now: datetime) -> bool:
    return enrollment.held_until is not None and enrollment.held_until > now


def forget_queued(s: Session, enrollment: Enrollment) -> bool:
    """Forget the next step's email if it was created but no worker has claimed it; False when one is on its way
    (claimed or being sent), which this cannot stop."""
    if enrollment.status != "sending":
        return True
    gone = s.execute(
        delete(Delivery).where(
            Delivery.enrollment_id == enrollment.id,
            Delivery.step_number == enrollment.next_step,
            Delivery.status == ds.QUEUED,
        )
    )
    if not getattr(gone, "rowcount", 0):
        return False
    enrollment.status = "active"
    return True


def send_next_now(s: Session, enrollment: Enrollment, now: datetime) -> None:
    """The reader asked for the next email now: due at once, whatever the sending window says (the window keeps
    emails to the reader's daytime, and the reader is awake), and any break for this series ends."""
    enrollment.held_until = None
    if enrollment.status == "active":
        enrollment.next_due_at = now


def set_pace(s: Session, enrollment: Enrollment, campaign: Campaign, tz: str, pace: Pace, now: datetime) -> None:
    """Every later email at this pace; the next one moves to its new time (never into the past, nor into a break)."""
    if pace not in PACES:
        raise ValueError(f"unknown pace {pace!r}")
    enrollment.pace = pace
    if enrollment.status == "active" or forget_queued(s, enrollment):
        _reschedule(s, enrollment, campaign, tz, now)


def hold(s: Session, enrollment: Enrollment, campaign: Campaign, tz: str, now: datetime) -> None:
    """A break from this series: the next email HOLD_DAYS from now (in the window), then the pace as before."""
    enrollment.held_until = now + timedelta(days=HOLD_DAYS)
    if enrollment.status == "active" or forget_queued(s, enrollment):
        _reschedule(s, enrollment, campaign, tz, now)


def end_hold(s: Session, enrollment: Enrollment, campaign: Campaign, tz: str, now: datetime) -> None:
    """The break ends now: the next email goes when the pace says (from the last one), or at the next window."""
    enrollment.held_until = None
    if enrollment.status == "active":
        _reschedule(s, enrollment, campaign, tz, now)


def _reschedule(s: Session, enrollment: Enrollment, campaign: Campaign, tz: str, now: datetime) -> None:
    """The next step's due time from the last email, the pace and any break, in the reader's sending window."""
    if enrollment.next_due_at is None or enrollment.last_sent_at is None:
        base = enrollment.next_due_at  # not started yet: the first email's time stands (the tick gives it)
    else:
        base = next_due(enrollment.last_sent_at, spaced_delay(enrollment.pace, _delay(s, campaign, enrollment)),
                        zone(tz), window_of(campaign))  # fmt: skip
    if base is None:
        return
    window, where = window_of(campaign), zone(tz)
    earliest = max(now, enrollment.held_until or now)
    enrollment.next_due_at = base if base >= earliest else window.next_open(earliest, where)


def _delay(s: Session, campaign: Campaign, enrollment: Enrollment) -> int:
    """The planned days before the enrollment's next step (0 when the version has no such step)."""
    found = s.scalar(
        select(StepRow.delay_days)
        .join(CampaignVersion)
        .where(
            CampaignVersion.campaign_id == campaign.id,
            CampaignVersion.number == campaign.current_version,
            StepRow.number == enrollment.next_step,
        )
    )
    return found or 0
