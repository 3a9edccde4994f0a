"""How many emails a campaign will send on each of the coming days, and who gets which step next.

The forecast plays the drip forward the way the tick does: each remaining subscriber's next due time, then the
remaining steps' delays moved into the sending window in the subscriber's own time zone, with at most `daily_cap`
new deliveries per UTC day (the tick counts the cap per UTC day, oldest due first, and lets the rest wait for the
next day's allowance). It assumes every email is sent when due and nobody leaves, so it is an upper bound.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber, Suppression
from campaigns.delivery.schedule import first_due, next_due, window_of, zone
from campaigns.management.records import current_steps, get_campaign

DAYS = 14
SENDING_STATUSES = ("scheduled", "running")


@dataclass(frozen=True)
class NextSend:
    """The next email of each remaining subscriber, grouped by step: how many, and from when to when."""

    step: int
    subscribers: int
    first_at: datetime
    last_at: datetime


def forecast(s: Session, slug: str, now: datetime, days: int = DAYS) -> list[tuple[date, int]]:
    """Deliveries per UTC day for `days` days from today (today included); all zero unless scheduled or running."""
    counts, _ = _play(s, get_campaign(s, slug), now, days)
    return counts


def next_sends(s: Session, slug: str, now: datetime, days: int = DAYS) -> list[NextSend]:
    """Per step, the subscribers whose next email it is and when it goes (within the same horizon)."""
    _, nexts = _play(s, get_campaign(s, slug), now, days)
    return nexts


def _play(s: Session, campaign: Campaign, now: datetime, days: int) -> tuple[list[tuple[date, int]], list[NextSend]]:
    now = now.astimezone(UTC)
    today = now.date()
    counts = {today + timedelta(days=i): 0 for i in range(days)}
    if campaign.status not in SENDING_STATUSES:
        return list(counts.items()), []
    delays = {r.number: r.delay_days for r in current_steps(s, campaign)}
    last_step = max(delays, default=0)
    window = window_of(campaign)
    horizon = datetime.combine(today + timedelta(days=days), datetime.min.time(), tzinfo=now.tzinfo)

    # (due, enrollment id, step, time zone); in flight ones are being sent now and no longer count against the cap
    queue: list[tuple[datetime, int, int, str]] = []
    in_flight: list[tuple[datetime, int, int, str]] = []
    for eid, step, due, enrolled, status, tz, paused_until in _remaining(s, campaign):
        if step > last_step:
            continue
        if status == "sending":  # created: on its way now, or prepared for a start still ahead
            in_flight.append((max(due, now) if due is not None else now, eid, step, tz))
            continue
        if due is None:
            if campaign.start_at is None:
                continue
            due = first_due(campaign.start_at, enrolled, zone(tz), window)
        if paused_until is not None and paused_until > due:
            due = paused_until  # the tick holds a paused subscriber until then, then sends at once
        queue.append((max(due, now), eid, step, tz))
    heapq.heapify(queue)

    firsts: dict[int, list[datetime]] = {}
    day_start = datetime.combine(today, datetime.min.time(), tzinfo=now.tzinfo)

    def sent(at: datetime, eid: int, step: int, tz: str, first: bool) -> None:
        counts[at.date()] += 1
        if first:
            firsts.setdefault(step, []).append(at)
        if step < last_step:
            heapq.heappush(queue, (next_due(at, delays[step + 1], zone(tz), window), eid, step + 1, tz))

    seen: set[int] = set()
    for at, eid, step, tz in in_flight:
        seen.add(eid)
        sent(at, eid, step, tz, True)
    used_today = (
        s.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.campaign_id == campaign.id, Delivery.created_at >= day_start)
        )
        or 0
    )
    while day_start < horizon:
        day_end = day_start + timedelta(days=1)
        room = None if campaign.daily_cap is None else max(0, campaign.daily_cap - used_today)
        while queue and queue[0][0] < day_end and (room is None or room > 0):
            due, eid, step, tz = heapq.heappop(queue)
            sent(max(due, day_start), eid, step, tz, eid not in seen)
            seen.add(eid)
            if room is not None:
                room -= 1
        day_start, used_today = day_end, 0
    nexts = [NextSend(step, len(times), min(times), max(times)) for step, times in sorted(firsts.items())]
    return list(counts.items()), nexts


def _remaining(s: Session, campaign: Campaign):
    """Enrollments still to be mailed whose subscriber may be mailed."""
    return s.execute(
        select(
            Enrollment.id,
            Enrollment.next_step,
            Enrollment.next_due_at,
            Enrollment.enrolled_at,
            Enrollment.status,
            Subscriber.timezone,
            Subscriber.paused_until,
        )
        .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
        .where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.status.in_(("active", "sending")),
            Subscriber.status == "active",
            ~Subscriber.email_key.in_(select(Suppression.email_key)),
        )
        .order_by(Enrollment.id)
    ).all()


def describe_next(nexts: list[NextSend]) -> str:
    """'step 3: 120 subscribers from Tue 01 Dec 14:00 UTC to Wed 02 Dec 16:00 UTC; step 4: ...' (or why none)."""
    if not nexts:
        return "nothing due in the forecast window"
    parts = []
    for n in nexts:
        when = (
            f"at {n.first_at:%a %d %b %H:%M} UTC"
            if n.first_at == n.last_at
            else f"from {n.first_at:%a %d %b %H:%M} to {n.last_at:%a %d %b %H:%M} UTC"
        )
        parts.append(f"step {n.step}: {n.subscribers} subscriber{'s' if n.subscribers != 1 else ''} {when}")
    return "; ".join(parts)


@dataclass(frozen=True)
class FirstEmail:
    """When a new subscriber's first email of a campaign comes, for the page that confirms their sign-up."""

    at: datetime | None  # due time (UTC); None while the campaign waits for a start or is paused
    timezone: str  # the subscriber's own zone, to say the time in
    waiting: str | None = None  # "start" (no start set yet) or "resume" (paused) when `at` is None


def first_email(s: Session, subscriber_id: int, campaign_id: int | None, now: datetime) -> FirstEmail | None:
    """When the subscriber's first email of the campaign is due, as the tick will plan it (campaign start or their
    enrolment, moved into the sending window in their zone); None when they are not waiting for a first email."""
    if campaign_id is None:
        return None
    row = s.execute(
        select(Enrollment, Campaign, Subscriber)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
        .where(Enrollment.subscriber_id == subscriber_id, Enrollment.campaign_id == campaign_id)
    ).first()
    if row is None:
        return None
    enrollment, campaign, subscriber = row
    if enrollment.next_step != 1 or enrollment.status not in ("active", "sending"):  # `sending`: made, or prepared
        return None  # past the first email, or no longer enrolled
    if campaign.status == "paused":
        return FirstEmail(None, subscriber.timezone, "resume")
    if campaign.status not in SENDING_STATUSES or campaign.start_at is None:
        return FirstEmail(None, subscriber.timezone, "start")
    due = enrollment.next_due_at or first_due(
        campaign.start_at, enrollment.enrolled_at, zone(subscriber.timezone), window_of(campaign)
    )
    if subscriber.paused_until is not None and subscriber.paused_until > due:
        due = subscriber.paused_until
    return FirstEmail(max(due, now), subscriber.timezone)
