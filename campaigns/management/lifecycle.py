"""Campaigns as marketing staff handle them: create from an article, schedule, pause, resume, archive, complete.

    draft ─schedule─▶ scheduled ─(tick, at start)─▶ running ◀─resume─┐
                          │                          │ pause        │
                          └──────────pause──────────▶└─────────▶ paused
    running ─(complete_finished: nobody left to mail)─▶ completed;   any ─archive─▶ archived

Every move is checked against MOVES, refused with a one-line StateError when it makes no sense, and recorded in the
audit log with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.audit import audit
from campaigns.authoring.draft import SeriesDraft, from_series, to_series
from campaigns.authoring.parsing import ArticleSource, parse_loaded, read_file
from campaigns.authoring.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.authoring.render import compile_step
from campaigns.authoring.series import Series
from campaigns.brand import Brand
from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    SendBatch,
    StepRow,
    Subscriber,
)
from campaigns.delivery import state as ds
from campaigns.delivery.tick import plan_first_emails, release_prepared
from campaigns.errors import StateError
from campaigns.management.checks import blocking, check_campaign
from campaigns.management.records import get_campaign, store_version
from campaigns.settings import Settings
from campaigns.text_input import is_slug

STATUSES = ("draft", "scheduled", "running", "paused", "completed", "archived")

# Which statuses each staff move may start from (a table, not if-chains); the tick starts and completes campaigns.
MOVES: dict[str, frozenset[str]] = {
    "schedule": frozenset({"draft", "scheduled"}),
    "pause": frozenset({"scheduled", "running"}),
    "resume": frozenset({"paused"}),
    "archive": frozenset({"draft", "scheduled", "running", "paused", "completed"}),
    "edit": frozenset({"draft", "scheduled", "running", "paused"}),
    "enroll": frozenset({"draft", "scheduled", "running", "paused"}),
}
# What to tell a person who asks for a move that makes no sense, by (move, status); a general line otherwise.
REFUSALS: dict[tuple[str, str], str] = {
    ("resume", "running"): "it is running already: nothing to resume",
    ("resume", "scheduled"): "it is scheduled, not paused: it starts by itself at its start time",
    ("pause", "paused"): "it is paused already",
    ("pause", "draft"): "it is a draft: nothing is being sent",
    ("schedule", "running"): "it is running already",
    ("schedule", "paused"): "it is paused: resume it instead",
    ("archive", "archived"): "it is archived already",
    ("edit", "completed"): "it is completed: every subscriber has had the whole series; create a new campaign",
    ("edit", "archived"): "it is archived; create a new campaign",
    ("enroll", "completed"): "it is completed; create a new campaign for new subscribers",
    ("enroll", "archived"): "it is archived; create a new campaign for new subscribers",
}
_DONE = {
    "schedule": "scheduled",
    "pause": "paused",
    "resume": "resumed",
    "archive": "archived",
    "edit": "edited",
    "enroll": "given subscribers",
}
# A start time this far in the past still counts as "now" (the time it takes to type the command).
START_GRACE = timedelta(minutes=5)


def require_move(campaign: Campaign, move: str) -> None:
    """Raise StateError naming the campaign, its status and why, unless `move` is allowed from its status."""
    if campaign.status in MOVES[move]:
        return
    allowed = " or ".join(s for s in STATUSES if s in MOVES[move])
    why = REFUSALS.get(
        (move, campaign.status), f"it is {campaign.status}, and only a {allowed} campaign can be {_DONE[move]}"
    )
    raise StateError(f"cannot {move} campaign {campaign.slug!r}: {why}")


def plan_file(path: Path | ArticleSource, delay_days: int = DEFAULT_DELAY_DAYS, title: str | None = None) -> Series:
    """The planned series for an article file (or a loaded source: pasted text, a fetched page)."""
    source = path if isinstance(path, ArticleSource) else read_file(Path(path))
    article = parse_loaded(source)
    return plan_series(replace(article, title=title) if title else article, delay_days=delay_days)


def create_campaign(
    s: Session,
    path: Path | ArticleSource,
    slug: str,
    brand: Brand,
    now: datetime,
    *,
    actor: str,
    delay_days: int = DEFAULT_DELAY_DAYS,
    title: str | None = None,
) -> Campaign:
    """A draft campaign with version 1 of its steps, each compiled once. The article is a file or a loaded source
    (pasted text, a fetched page); its text is stored with the version, so later edits re-plan from it."""
    if not is_slug(slug):
        raise StateError(f"slug {slug!r}: use 3-80 lower-case letters, digits and dashes")
    if s.scalar(select(Campaign.id).where(Campaign.slug == slug)):
        raise StateError(f"a campaign named {slug!r} exists already")
    source = path if isinstance(path, ArticleSource) else read_file(Path(path))
    series = plan_file(source, delay_days, title)
    campaign = Campaign(
        slug=slug,
        title=series.title[:300],
        status="draft",
        created_at=now,
        current_version=1,
        window_days=[0, 1, 2, 3, 4],
        window_start_hour=9,
        window_end_hour=17,
    )
    s.add(campaign)
    s.flush()
    # The steps are compiled from the draft staff will edit, so what the editor shows is what is sent.
    draft = from_series(series)
    series = to_series(draft, series.article)
    add_version(s, campaign, series, brand, source, now, note="created", draft=draft)
    audit(s, campaign, actor, "created", f"from {source.label}, {len(series.steps)} steps", now)
    return campaign


def add_version(
    s: Session,
    campaign: Campaign,
    series: Series,
    brand: Brand,
    source: ArticleSource,
    now: datetime,
    note: str,
    draft: SeriesDraft | None = None,
) -> CampaignVersion:
    """Store a new immutable version of the campaign's steps, compiled once each, and make it current."""
    rows = []
    for step in series.steps:
        content = compile_step(series, step, brand)
        rows.append(
            StepRow(
                number=step.number,
                kind=step.kind,
                subject=content.subject,
                preheader=content.preheader,
                delay_days=step.delay_days,
                sections=step.section_headings,
                words=step.words,
                html=content.html,
                text=content.text,
            )
        )
    # The text as the parser read it (BOM and CR line ends gone), so later edits re-plan exactly the same steps.
    return store_version(s, campaign, rows, source.text, source.fmt, note, now, draft=draft)


@dataclass(frozen=True)
class Audience:
    """Enrollments of a campaign by status, and how many of the active ones wait for each step. `prepared`: those
    whose next email is made and held for its due time (before the start), apart from those being sent now."""

    active: int
    sending: int
    completed: int
    stopped: int
    waiting_by_step: dict[int, int]
    prepared: int = 0

    @property
    def total(self) -> int:
        return self.active + self.prepared + self.sending + self.completed + self.stopped

    @property
    def remaining(self) -> int:
        return self.active + self.prepared + self.sending


def audience_of(s: Session, campaign: Campaign) -> Audience:
    by_status = dict(
        s.execute(
            select(Enrollment.status, func.count())
            .where(Enrollment.campaign_id == campaign.id)
            .group_by(Enrollment.status)
        ).all()
    )
    by_step = dict(
        s.execute(
            select(Enrollment.next_step, func.count())
            .where(Enrollment.campaign_id == campaign.id, Enrollment.status.in_(("active", "sending")))
            .group_by(Enrollment.next_step)
            .order_by(Enrollment.next_step)
        ).all()
    )
    # `sending` covers both: an email made and held for the start counts as prepared, not as being sent.
    prepared = s.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(SendBatch, SendBatch.id == Delivery.batch_id)
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(
            SendBatch.campaign_id == campaign.id,
            SendBatch.status == ds.BATCH_HELD,
            Delivery.status == ds.QUEUED,
            Enrollment.status == "sending",  # not someone who left since (their email is cancelled at hand-out)
        )
    )
    return Audience(
        by_status.get("active", 0),
        by_status.get("sending", 0) - (prepared or 0),
        by_status.get("completed", 0),
        by_status.get("stopped", 0),
        by_step,
        prepared or 0,
    )


def schedule_campaign(
    s: Session,
    slug: str,
    start_at: datetime,
    now: datetime,
    *,
    actor: str,
    brand: Brand | None = None,
    settings: Settings | None = None,
) -> Campaign:
    """Schedule (or move the start of) a draft campaign, after the checks before scheduling pass.

    With `settings` for a real backend (SendGrid, SMTP), placeholder links and example brand values block too; for
    the outbox they are reported but do not block (see campaigns/management/checks.py).
    """
    campaign = get_campaign(s, slug)
    require_move(campaign, "schedule")
    if start_at.tzinfo is None:
        raise StateError("the start time needs a time zone, e.g. 2026-12-01T09:00:00+00:00", field="start")
    if start_at < now - START_GRACE:
        raise StateError(
            f"the start time {start_at.astimezone(UTC):%a %d %b %Y %H:%M} UTC is in the past: give a later time",
            field="start",
            cli_hint="or --start now",
        )
    enrolled = s.scalar(
        select(func.count())
        .select_from(Enrollment)
        .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
        .where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.status.in_(("active", "sending")),  # `sending`: prepared for the start (see release_prepared)
            Subscriber.status == "active",
        )
    )
    if not enrolled:
        raise StateError(
            f"campaign {slug!r} has no subscribers yet: enroll some before scheduling it",
            cli_hint=f"`outreach campaign enroll {slug} --all`, or `--csv FILE`, or `--tag TAG`",
        )
    problems = blocking(check_campaign(s, campaign, brand=brand, settings=settings))
    if problems:
        raise StateError(
            f"cannot schedule campaign {slug!r}: {len(problems)} check(s) failed: "
            + "; ".join(str(p) for p in problems)
        )
    before = campaign.start_at if campaign.status == "scheduled" else None
    campaign.status, campaign.start_at = "scheduled", start_at
    audit(
        s,
        campaign,
        actor,
        "scheduled",
        f"start {start_at.isoformat()}" + (f" (was {before.isoformat()})" if before else f", {enrolled} subscribers"),
        now,
    )
    if before:
        # Moving the start: first emails not yet sent (prepared ones included) are planned again from the new start.
        release_prepared(s, campaign.id)
        s.execute(
            update(Enrollment)
            .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active", Enrollment.next_step == 1)
            .values(next_due_at=None)
        )
    # The first emails are planned now, not in the send window (anyone enrolled later is planned by the tick).
    plan_first_emails(s, campaign)
    return campaign


def pause_campaign(s: Session, slug: str, now: datetime, *, actor: str) -> Campaign:
    """Nothing more is sent until it is resumed (batches already handed out are released by the send path)."""
    campaign = _set_status(s, slug, "pause", "paused", now, actor=actor)
    release_prepared(s, campaign.id)  # emails prepared for its start wait again; resuming prepares them anew
    return campaign


def resume_campaign(s: Session, slug: str, now: datetime, *, actor: str) -> Campaign:
    """Back to running (or scheduled, when the start is still ahead); what fell due while paused goes out next."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "resume")
    campaign.status = "running" if campaign.start_at and campaign.start_at <= now else "scheduled"
    audit(s, campaign, actor, "resumed", f"now {campaign.status}", now)
    return campaign


def archive_campaign(s: Session, slug: str, now: datetime, *, actor: str) -> Campaign:
    """Stop the campaign for good; nothing more is sent (queued emails are released by the send path)."""
    campaign = _set_status(s, slug, "archive", "archived", now, actor=actor)
    release_prepared(s, campaign.id)
    return campaign


def _set_status(s: Session, slug: str, move: str, status: str, now: datetime, *, actor: str) -> Campaign:
    """A move with nothing to it but the new status, audited with the one it replaced."""
    campaign = get_campaign(s, slug)
    require_move(campaign, move)
    was, campaign.status = campaign.status, status
    audit(s, campaign, actor, status, f"was {was}", now)
    return campaign
