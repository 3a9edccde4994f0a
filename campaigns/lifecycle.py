"""Campaigns as marketing staff handle them: create from an article, schedule, pause, resume.

Every change is recorded in the audit log with who did it.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.brand import Brand
from campaigns.db.models import AuditEntry, Campaign, CampaignVersion, Enrollment, StepRow
from campaigns.errors import NotFound, StateError
from campaigns.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.series import Series

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def plan_file(path: Path, delay_days: int = DEFAULT_DELAY_DAYS) -> Series:
    from campaigns.parsing import parse_article

    return plan_series(parse_article(path), delay_days=delay_days)


def create_campaign(s: Session, path: Path, slug: str, brand: Brand, now: datetime, *, actor: str,
                    delay_days: int = DEFAULT_DELAY_DAYS) -> Campaign:
    """A draft campaign with version 1 of its steps, each compiled once."""
    if not SLUG.match(slug):
        raise StateError(f"slug {slug!r}: use 3-80 lower-case letters, digits and dashes")
    if s.scalar(select(Campaign.id).where(Campaign.slug == slug)):
        raise StateError(f"a campaign named {slug!r} exists already")
    series = plan_file(path, delay_days)
    campaign = Campaign(slug=slug, title=series.title, status="draft", created_at=now, current_version=1,
                        window_days=[0, 1, 2, 3, 4], window_start_hour=9, window_end_hour=17)
    s.add(campaign)
    s.flush()
    add_version(s, campaign, series, brand, path, now, note="created")
    audit(s, campaign, actor, "created", f"from {path.name}, {len(series.steps)} steps", now)
    return campaign


def add_version(s: Session, campaign: Campaign, series: Series, brand: Brand, path: Path, now: datetime,
                note: str) -> CampaignVersion:
    """Store a new immutable version of the campaign's steps, compiled once each, and make it current."""
    from campaigns.render import compile_step

    number = (s.scalar(select(func.max(CampaignVersion.number)).where(
        CampaignVersion.campaign_id == campaign.id)) or 0) + 1
    version = CampaignVersion(campaign_id=campaign.id, number=number, note=note, created_at=now,
                              article_source=path.read_text(encoding="utf-8"),
                              article_format=FORMATS.get(path.suffix.lower(), "text"))
    s.add(version)
    s.flush()
    for step in series.steps:
        content = compile_step(series, step, brand)
        s.add(StepRow(version_id=version.id, number=step.number, kind=step.kind, subject=content.subject,
                      preheader=content.preheader, delay_days=step.delay_days, sections=step.section_headings,
                      words=step.words, html=content.html, text=content.text))
    campaign.current_version = number
    return version


def audit(s: Session, campaign: Campaign | None, actor: str, action: str, detail: str, now: datetime) -> None:
    s.add(AuditEntry(campaign_id=campaign.id if campaign else None, actor=actor, action=action, detail=detail, at=now))


def get_campaign(s: Session, slug: str) -> Campaign:
    campaign = s.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise NotFound(f"no campaign named {slug!r} (see `outreach campaign list`)")
    return campaign


def schedule_campaign(s: Session, slug: str, start_at: datetime, now: datetime, *, actor: str) -> Campaign:
    campaign = get_campaign(s, slug)
    if campaign.status not in ("draft", "scheduled"):
        raise StateError(f"campaign {slug!r} is {campaign.status}: only a draft or scheduled campaign can be scheduled")
    if start_at.tzinfo is None:
        raise StateError("the start time needs a time zone, e.g. 2026-12-01T09:00:00+00:00")
    enrolled = s.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.campaign_id == campaign.id))
    if not enrolled:
        raise StateError(f"campaign {slug!r} has no subscribers: import some first "
                         f"(outreach subscribers import FILE.csv --campaign {slug})")
    campaign.status, campaign.start_at = "scheduled", start_at
    audit(s, campaign, actor, "scheduled", f"start {start_at.isoformat()}", now)
    return campaign


def pause_campaign(s: Session, slug: str, now: datetime, *, actor: str) -> Campaign:
    campaign = get_campaign(s, slug)
    if campaign.status not in ("scheduled", "running"):
        raise StateError(f"campaign {slug!r} is {campaign.status}: only a scheduled or running campaign can be paused")
    campaign.status = "paused"
    audit(s, campaign, actor, "paused", "", now)
    return campaign


def resume_campaign(s: Session, slug: str, now: datetime, *, actor: str) -> Campaign:
    campaign = get_campaign(s, slug)
    if campaign.status != "paused":
        raise StateError(f"campaign {slug!r} is {campaign.status}: only a paused campaign can be resumed")
    campaign.status = "running" if campaign.start_at and campaign.start_at <= now else "scheduled"
    audit(s, campaign, actor, "resumed", "", now)
    return campaign
