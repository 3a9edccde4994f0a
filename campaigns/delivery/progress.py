"""How an enrollment moves past a step once its email is settled, to the next due time or to completed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Enrollment,
    StepRow,
    Subscriber,
)
from campaigns.db.sql import chunked, current_locked, is_in
from campaigns.delivery.pacing import spaced_delay
from campaigns.delivery.schedule import next_due, window_of, zone


def advance_enrollments(s: Session, enrollment_ids: list[int], at: datetime) -> None:
    """Move each enrollment past the step it was sending; idempotent (only moves those still `sending`)."""
    if not enrollment_ids:
        return
    rows: list[Row] = []
    for part in chunked(list(dict.fromkeys(enrollment_ids))):
        # By id alone, `sending` tested below (see current_locked): while a big send is out, most enrollments are.
        rows += s.execute(
            select(
                Enrollment.id,
                Enrollment.next_step,
                Enrollment.status,
                Subscriber.timezone,
                Enrollment.campaign_id,
                Enrollment.pace,
                Enrollment.held_until,
            )
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            .where(is_in(s, Enrollment.id, part))
        ).all()
    rows = [r for r in rows if r.status == "sending"]
    campaigns = {c.id: c for c in s.scalars(select(Campaign).where(Campaign.id.in_({r.campaign_id for r in rows})))}
    delays = {
        c.id: list(
            s.scalars(
                select(StepRow.delay_days)
                .join(CampaignVersion)
                .where(CampaignVersion.campaign_id == c.id, CampaignVersion.number == c.current_version)
                .order_by(StepRow.number)
            )
        )
        for c in campaigns.values()
    }
    # Everyone at the same step in the same zone moves to the same time: one computation and one UPDATE for them.
    moves: dict[tuple[int, datetime | None, str], list[int]] = {}
    due_at: dict[tuple[int, str, int, str], datetime] = {}
    for eid, step, _, tz, cid, pace, held_until in rows:
        steps = delays[cid]
        if step >= len(steps):
            moves.setdefault((step, None, "completed"), []).append(eid)
            continue
        if (cid, tz, step, pace) not in due_at:
            # The reader's pace (campaigns.delivery.pacing) spaces the emails; the series' delay otherwise.
            delay = spaced_delay(pace, steps[step])
            due_at[cid, tz, step, pace] = next_due(at, delay, zone(tz), window_of(campaigns[cid]))
        when = due_at[cid, tz, step, pace]
        if held_until is not None and held_until > when:  # the reader paused this series: not before it ends
            when = window_of(campaigns[cid]).next_open(held_until, zone(tz))
        moves.setdefault((step, when, "active"), []).append(eid)
    t = Enrollment.__table__
    for (step, due, status), ids in moves.items():
        for part in chunked(ids):
            cur = current_locked(s, t, part, t.c.status, t.c.next_step)
            s.execute(
                update(t)
                .where(t.c.id == cur.c.id, cur.c.status == "sending", cur.c.next_step == step)
                .values(next_step=step + 1, next_due_at=due, status=status, last_sent_at=at)
            )
