"""What readers tell us from an email's own links, stored by us (never by the provider): pacing choices, clicks on the
call to action through our redirect, and "was this useful?" answers with an optional comment for staff.

Every signal names the email it came from (campaign and step). Only a POST records a pacing choice or an answer
(mail scanners open links); a click on the call to action is recorded when it is followed, which is what it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.db.models import LessonFeedback, ReaderEvent
from campaigns.db.sql import insert_ignore
from campaigns.errors import OutreachError
from campaigns.text_input import clean_line

ReaderEventKind = Literal["pace_next", "pace_weekly", "pace_pause", "pace_usual", "pace_resume", "cta_click"]
PACE_KINDS: tuple[str, ...] = ("pace_next", "pace_weekly", "pace_pause", "pace_usual", "pace_resume")
CTA_CLICK: Final = "cta_click"
MAX_COMMENT = 200  # one line: what the form says, and what the column keeps room for


class FeedbackError(OutreachError):
    """An answer to "was this useful?" that cannot be kept as given (names the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def record_reader_event(
    s: Session, subscriber_id: int, campaign_id: int, step: int, kind: ReaderEventKind, now: datetime
) -> None:
    s.add(ReaderEvent(subscriber_id=subscriber_id, campaign_id=campaign_id, step_number=step, kind=kind, at=now))
    s.flush()


def clean_comment(comment: str | None) -> str | None:
    """A comment on one line, without control characters; None when empty; FeedbackError when too long."""
    cleaned = clean_line(comment)
    if len(cleaned) > MAX_COMMENT:
        raise FeedbackError(
            "comment", f"Please keep your comment under {MAX_COMMENT} characters (it has {len(cleaned)})."
        )
    return cleaned or None


def record_feedback(
    s: Session, subscriber_id: int, campaign_id: int, step: int, useful: bool, comment: str | None, now: datetime
) -> LessonFeedback:
    """One answer per reader and email, the last one counts; a comment given replaces the one before, none given
    keeps it (answering again with the button does not wipe what they wrote)."""
    text = clean_comment(comment)
    key = {"subscriber_id": subscriber_id, "campaign_id": campaign_id, "step_number": step}
    # Two clicks at once both land: the insert of one is a no-op, then both update the one row.
    s.execute(insert_ignore(s, LessonFeedback.__table__, list(key)).values(**key, useful=useful, answered_at=now))
    values: dict[str, object] = {"useful": useful, "answered_at": now}
    if text is not None:
        values["comment"] = text
    s.execute(
        update(LessonFeedback)
        .where(*(getattr(LessonFeedback, k) == v for k, v in key.items()))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    found = s.scalar(select(LessonFeedback).where(*(getattr(LessonFeedback, k) == v for k, v in key.items())))
    assert found is not None  # inserted or updated just above, in this transaction
    s.refresh(found)
    return found


def feedback_of(s: Session, subscriber_id: int, campaign_id: int, step: int) -> LessonFeedback | None:
    return s.scalar(
        select(LessonFeedback).where(
            LessonFeedback.subscriber_id == subscriber_id,
            LessonFeedback.campaign_id == campaign_id,
            LessonFeedback.step_number == step,
        )
    )
