"""Campaign statistics, computed with SQL aggregates (never a Python loop over every row).

Counts are per delivery: an email opened five times counts once in `opened`. `sent` is every delivery the provider
accepted (delivery_state.SENT); engagement rates are over `delivered`, bounce rate over `sent`. Opens are inflated by
mail privacy features (Apple Mail Privacy Protection fetches every image), so read them as an upper bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    Event,
    StepRow,
    Subscriber,
    Suppression,
)
from campaigns.delivery import state as ds
from campaigns.delivery.tick import cap_day_start, sendable_now
from campaigns.insight.events import LOCAL_EVENT_PREFIX, EventKind
from campaigns.insight.learning import CampaignLearning, campaign_learning

OPENS_NOTE = (
    "Opens are an upper bound: mail privacy features (Apple Mail Privacy Protection, image proxies) "
    "load images without a person reading the email."
)

#: Mailbox providers' limits (Gmail, Yahoo, Outlook bulk-sender rules): spam complaints under 0.1 %, never 0.3 %.
COMPLAINT_WARN, COMPLAINT_DANGER = 0.001, 0.003
#: Bounces: a healthy list stays under 2 %; above 5 % providers and SendGrid start to throttle or suspend.
BOUNCE_WARN, BOUNCE_DANGER = 0.02, 0.05

#: Stat name -> the event kinds that count for it (distinct deliveries).
EVENT_STATS: dict[str, tuple[EventKind, ...]] = {
    "delivered": (EventKind.DELIVERED,),
    "opened": (EventKind.OPENED,),
    "clicked": (EventKind.CLICKED,),
    "bounced": (EventKind.BOUNCED, EventKind.SOFT_BOUNCED),
    "dropped": (EventKind.DROPPED,),
    "complained": (EventKind.COMPLAINED,),
    "unsubscribed": (EventKind.UNSUBSCRIBED,),
}


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    DANGER = "danger"


def level(rate: float | None, warn: float, danger: float) -> Level:
    if rate is None or rate < warn:
        return Level.OK
    return Level.WARNING if rate < danger else Level.DANGER


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Counts:
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    dropped: int = 0
    complained: int = 0
    unsubscribed: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def reached(self) -> int:
        """The denominator for engagement: delivered when the provider reports deliveries, else sent."""
        return self.delivered or self.sent

    def rates(self) -> dict[str, float | None]:
        return {
            "delivery_rate": _ratio(self.delivered, self.sent),
            "open_rate": _ratio(self.opened, self.reached),
            "click_rate": _ratio(self.clicked, self.reached),
            "bounce_rate": _ratio(self.bounced, self.sent),
            "complaint_rate": _ratio(self.complained, self.reached),
            "unsubscribe_rate": _ratio(self.unsubscribed, self.reached),
        }

    def health(self) -> dict[str, str]:
        r = self.rates()
        complaints = level(r["complaint_rate"], COMPLAINT_WARN, COMPLAINT_DANGER)
        bounces = level(r["bounce_rate"], BOUNCE_WARN, BOUNCE_DANGER)
        worst = max((complaints, bounces), key=list(Level).index)
        return {"complaints": complaints.value, "bounces": bounces.value, "overall": worst.value}

    def as_dict(self) -> dict:
        return {**asdict(self), **self.rates(), "health": self.health()}


@dataclass
class StepStats:
    number: int
    subject: str
    counts: Counts


@dataclass
class DayStats:
    day: date
    counts: Counts


@dataclass
class CampaignStats:
    id: int
    slug: str
    title: str
    status: str
    enrolled: int
    total: Counts
    steps: list[StepStats] = field(default_factory=list)
    days: list[DayStats] = field(default_factory=list)
    # People who left before any email of the series reached them, e.g. through the unsubscribe link of the
    # sign-up confirmation email: an unsubscribe with no delivery to pin it on.
    left_before_first: int = 0
    # What readers told us from the emails' links, and the contacts put down to each lesson (insight.learning).
    learning: CampaignLearning = field(default_factory=CampaignLearning)

    def subject_of(self, number: int) -> str:
        return next((s.subject for s in self.steps if s.number == number), "")

    @property
    def funnel(self) -> list[tuple[str, int]]:
        """How many subscribers reached each step: enrolled, then those a step's email was sent to."""
        return [("enrolled", self.enrolled)] + [(f"step {s.number}", s.counts.sent) for s in self.steps]

    def as_dict(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "status": self.status,
            "enrolled": self.enrolled,
            "total": self.total.as_dict(),
            "steps": [
                {
                    "number": s.number,
                    "subject": s.subject,
                    **s.counts.as_dict(),
                    "readers": self.learning.lesson(s.number).as_dict(),
                }
                for s in self.steps
            ],
            "contacts": self.learning.contacts,
            # Which lessons most often came last before someone reached out, most first.
            "last_before_contact": [
                {"step": n, "subject": self.subject_of(n), "contacts": k}
                for n, k in self.learning.last_before_contact()
            ],
            "funnel": [{"stage": name, "subscribers": n} for name, n in self.funnel],
            "left_before_first_email": self.left_before_first,
            "days": [{"day": d.day.isoformat(), **asdict(d.counts)} for d in self.days],
            "opens_note": OPENS_NOTE,
        }


@dataclass
class QueueHealth:
    due_enrollments: int  # enrollments due whose delivery the tick has not created yet (and will at its next run)
    queued: int
    queued_due: int  # queued deliveries whose time has come
    sending: int  # claimed by a worker or being submitted
    failed: int
    unknown: int  # submitted with no answer: settled later by provider events
    oldest_due: datetime | None  # of the work above: what waits on the tick or the workers, not by design
    held_by_cap: int = 0  # due, but over a campaign's daily cap: they go tomorrow, as asked

    def oldest_due_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_due).total_seconds()) if self.oldest_due else 0.0

    def level(self, now: datetime) -> Level:
        """Danger when due work waits over an hour, a warning over ten minutes or with unknown outcomes."""
        age = self.oldest_due_seconds(now)
        if age > 3600:
            return Level.DANGER
        return Level.WARNING if age > 600 or self.unknown else Level.OK

    def as_dict(self, now: datetime) -> dict:
        return {
            **asdict(self),
            "oldest_due": self.oldest_due.isoformat() if self.oldest_due else None,
            "oldest_due_seconds": self.oldest_due_seconds(now),
            "level": self.level(now).value,
        }


# --- queries -------------------------------------------------------------------------------------------------------


def _event_aggregates() -> list[ColumnElement]:
    return [
        func.count(func.distinct(case((Event.kind.in_([str(k) for k in kinds]), Event.delivery_id)))).label(name)
        for name, kinds in EVENT_STATS.items()
    ]


def _counts(row, sent: int = 0) -> Counts:
    return Counts(sent=sent, **{name: getattr(row, name) for name in EVENT_STATS})


def day_of(session: Session, column) -> ColumnElement:
    """The UTC calendar day of a timestamp column, as SQL for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC datetimes as text without an offset


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def campaign_stats(
    session: Session,
    campaign_id: int | None = None,
    *,
    with_days: bool = False,
) -> list[CampaignStats]:
    """Stats for every campaign (or one), with per-step counts; per-day series when `with_days`."""
    q = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if campaign_id is not None:
        q = q.where(Campaign.id == campaign_id)
    campaigns = list(session.scalars(q))
    if not campaigns:
        return []
    ids = [c.id for c in campaigns]
    enrolled = dict(
        session.execute(
            select(Enrollment.campaign_id, func.count())
            .where(Enrollment.campaign_id.in_(ids))
            .group_by(Enrollment.campaign_id)
        ).all()
    )
    sent = {
        (c, s): n
        for c, s, n in session.execute(
            select(Delivery.campaign_id, Delivery.step_number, func.count())
            .where(Delivery.campaign_id.in_(ids), Delivery.status.in_(sorted(ds.SENT)))
            .group_by(Delivery.campaign_id, Delivery.step_number)
        )
    }
    events = {
        (r.campaign_id, r.step_number): r
        for r in session.execute(
            select(Event.campaign_id, Event.step_number, *_event_aggregates())
            .where(Event.campaign_id.in_(ids), Event.delivery_id.is_not(None))
            .group_by(Event.campaign_id, Event.step_number)
        )
    }
    left_early = dict(
        session.execute(
            select(Event.campaign_id, func.count())
            .where(
                Event.campaign_id.in_(ids),
                Event.delivery_id.is_(None),
                Event.kind == str(EventKind.UNSUBSCRIBED),
            )
            .group_by(Event.campaign_id)
        ).all()
    )
    subjects = {
        (c, n): subj
        for c, n, subj in session.execute(
            select(CampaignVersion.campaign_id, StepRow.number, StepRow.subject)
            .join(StepRow)
            .join(Campaign, Campaign.id == CampaignVersion.campaign_id)
            .where(CampaignVersion.campaign_id.in_(ids), CampaignVersion.number == Campaign.current_version)
        )
    }
    learning = campaign_learning(session, ids)
    out = []
    for c in campaigns:
        numbers = sorted(
            {n for (cid, n) in subjects if cid == c.id}
            | {n for (cid, n) in sent if cid == c.id}
            | {n for (cid, n) in events if cid == c.id and n is not None}
        )
        stats = CampaignStats(c.id, c.slug, c.title, c.status, enrolled.get(c.id, 0), Counts())
        stats.left_before_first = left_early.get(c.id, 0)
        stats.learning = learning[c.id]
        for n in numbers:
            row = events.get((c.id, n))
            counts = _counts(row, sent.get((c.id, n), 0)) if row else Counts(sent=sent.get((c.id, n), 0))
            stats.steps.append(StepStats(n, subjects.get((c.id, n), ""), counts))
            stats.total.add(counts)
        if with_days:
            stats.days = daily_stats(session, c.id)
        out.append(stats)
    return out


def daily_stats(session: Session, campaign_id: int | None, max_days: int = 120) -> list[DayStats]:
    """Per-day counts (UTC days) for one campaign (None: all), gaps filled with zeros, the last `max_days` days."""
    sent_day = day_of(session, Delivery.sent_at)
    sent = {
        _as_date(d): n
        for d, n in session.execute(
            select(sent_day, func.count())
            .where(
                *_campaign(Delivery, campaign_id), Delivery.status.in_(sorted(ds.SENT)), Delivery.sent_at.is_not(None)
            )
            .group_by(sent_day)
        )
    }
    event_day = day_of(session, Event.occurred_at)
    events = {
        _as_date(r[0]): r
        for r in session.execute(
            select(event_day.label("day"), *_event_aggregates())
            .where(*_campaign(Event, campaign_id), Event.delivery_id.is_not(None))
            .group_by(event_day)
        )
    }
    days = sorted(set(sent) | set(events))
    if not days:
        return []
    first = max(days[0], days[-1] - timedelta(days=max_days - 1))
    out, d = [], first
    while d <= days[-1]:
        row = events.get(d)
        out.append(DayStats(d, _counts(row, sent.get(d, 0)) if row else Counts(sent=sent.get(d, 0))))
        d += timedelta(days=1)
    return out


def _campaign(table, campaign_id: int | None) -> list[ColumnElement]:
    return [] if campaign_id is None else [table.campaign_id == campaign_id]


def queue_health(session: Session, now: datetime) -> QueueHealth:
    """What waits to be sent and what is stuck, in a few small aggregate queries.

    Only what the tick would take now counts as waiting: a subscriber who paused their emails is not late, and
    neither is what a campaign's daily cap holds back for tomorrow (counted apart), so neither raises an alarm.
    """
    by_status = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    queued_due, oldest_queued = session.execute(
        select(func.count(), func.min(Delivery.due_at)).where(Delivery.status == ds.QUEUED, Delivery.due_at <= now)
    ).one()
    due_by_campaign = session.execute(
        select(Campaign.id, Campaign.daily_cap, func.count(), func.min(Enrollment.next_due_at))
        .select_from(Enrollment)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
        .where(Campaign.status == "running", *sendable_now(now))
        .group_by(Campaign.id, Campaign.daily_cap)
    ).all()
    capped = [cid for cid, cap, _, _ in due_by_campaign if cap is not None]
    used = (
        dict(
            session.execute(
                select(Delivery.campaign_id, func.count())
                .where(Delivery.campaign_id.in_(capped), Delivery.created_at >= cap_day_start(now))
                .group_by(Delivery.campaign_id)
            ).all()
        )
        if capped
        else {}
    )
    due_enrollments = held = 0
    oldest_enrollment: datetime | None = None
    for cid, cap, count, first in due_by_campaign:
        room = count if cap is None else max(0, cap - used.get(cid, 0))
        due_enrollments += min(count, room)
        held += count - min(count, room)
        if room and first is not None and (oldest_enrollment is None or first < oldest_enrollment):
            oldest_enrollment = first
    oldest = min((t for t in (oldest_queued, oldest_enrollment) if t is not None), default=None)
    return QueueHealth(
        held_by_cap=held,
        due_enrollments=due_enrollments,
        queued=by_status.get(ds.QUEUED, 0),
        queued_due=queued_due,
        sending=by_status.get(ds.SENDING, 0) + by_status.get(ds.SUBMITTING, 0),
        failed=by_status.get(ds.FAILED, 0),
        unknown=by_status.get(ds.UNKNOWN, 0),
        oldest_due=oldest,
    )


def unmatched_events(session: Session) -> int:
    """Provider events stored for no known delivery (another system's mail, or a delivery since deleted); our own
    unsubscribes from before the first email (CampaignStats.left_before_first) are not provider events."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.delivery_id.is_(None),
                or_(Event.provider_event_id.is_(None), Event.provider_event_id.not_like(f"{LOCAL_EVENT_PREFIX}%")),
            )
        )
        or 0
    )


def send_latency_buckets(session: Session, bounds: list[float]) -> tuple[list[int], float, int]:
    """Cumulative counts of sent deliveries with (sent_at - due_at) <= each bound, plus the sum and the count."""
    seconds: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", Delivery.sent_at - Delivery.due_at)
    else:
        seconds = (func.julianday(Delivery.sent_at) - func.julianday(Delivery.due_at)) * 86400.0
    aggs = [func.count(case((seconds <= b, 1))) for b in bounds]
    row = session.execute(
        select(*aggs, func.coalesce(func.sum(seconds), 0), func.count()).where(
            Delivery.sent_at.is_not(None), Delivery.status.in_(sorted(ds.SENT))
        )
    ).one()
    counts = [int(v) for v in row[: len(bounds)]]
    return counts, float(row[-2]), int(row[-1])


# --- totals for the dashboard and the metrics ----------------------------------------------------------------------


def event_totals(session: Session) -> dict[str, int]:
    """Stored events by kind, all time."""
    return dict(session.execute(select(Event.kind, func.count()).group_by(Event.kind)).all())


def suppression_totals(session: Session) -> dict[str, int]:
    return dict(
        session.execute(
            select(Suppression.reason, func.count()).group_by(Suppression.reason).order_by(func.count().desc())
        ).all()
    )
