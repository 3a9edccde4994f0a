"""Campaign records as stored: look one up, its versions, their steps and the article they were planned from."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.authoring.article import Article
from campaigns.authoring.content import StepContent
from campaigns.authoring.draft import SeriesDraft, from_series, to_series
from campaigns.authoring.parsing import parse_source
from campaigns.authoring.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.authoring.render import compile_step
from campaigns.authoring.series import Series
from campaigns.brand import Brand
from campaigns.db.models import Campaign, CampaignVersion, StepRow
from campaigns.errors import NotFound, StateError
from campaigns.text_input import is_slug


def store_version(
    s: Session,
    campaign: Campaign,
    steps: list[StepRow],
    article_source: str,
    article_format: str,
    note: str,
    now: datetime,
    draft: SeriesDraft | None = None,
) -> CampaignVersion:
    """Store `steps` (new, unsaved rows) as the next version of the campaign and make it current, with the series
    draft they were compiled from (without one, the current version's draft is carried over unchanged)."""
    series = draft.to_json() if draft is not None else _draft_json(s, campaign)
    number = (
        s.scalar(select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == campaign.id)) or 0
    ) + 1
    version = CampaignVersion(
        campaign_id=campaign.id,
        number=number,
        note=note[:500],
        created_at=now,
        article_source=article_source,
        article_format=article_format,
        series=series,
    )
    s.add(version)
    s.flush()
    for row in steps:
        row.version_id = version.id
        s.add(row)
    # The send path reads current_version when it submits, so everything from here on gets this version.
    campaign.current_version = number
    s.flush()
    return version


def get_campaign(s: Session, slug: str) -> Campaign:
    """The campaign named `slug`; NotFound otherwise (a string that is no slug never reaches the database)."""
    campaign = s.scalar(select(Campaign).where(Campaign.slug == slug)) if is_slug(slug) else None
    if campaign is None:
        raise NotFound(f"no campaign named {slug!r}", cli_hint="`outreach campaign list` lists them")
    return campaign


def list_campaigns(s: Session) -> list[Campaign]:
    return list(s.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())))


def current_steps(s: Session, campaign: Campaign) -> list[StepRow]:
    """The steps of the campaign's current version, in order."""
    return version_steps(s, campaign, campaign.current_version)


def version_steps(s: Session, campaign: Campaign, number: int) -> list[StepRow]:
    # Numbers outside 1..current never reach the query (10**20 is more than PostgreSQL's integer can hold).
    version = (
        s.scalar(
            select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == number)
        )
        if 1 <= number <= campaign.current_version
        else None
    )
    if version is None:
        raise NotFound(f"campaign {campaign.slug!r} has no version {number} (versions 1 to {campaign.current_version})")
    return list(s.scalars(select(StepRow).where(StepRow.version_id == version.id).order_by(StepRow.number)))


def rendered_again(s: Session, campaign: Campaign, rows: list[StepRow], brand: Brand) -> list[StepContent]:
    """Each stored step compiled again from the stored article, with its stored subject, preheader and delay."""
    series = stored_series(s, campaign, rows)
    return [compile_step(series, step, brand) for step in series.steps]


def _draft_json(s: Session, campaign: Campaign, number: int | None = None) -> str | None:
    if not campaign.current_version:
        return None
    return s.scalar(
        select(CampaignVersion.series).where(
            CampaignVersion.campaign_id == campaign.id,
            CampaignVersion.number == (number or campaign.current_version),
        )
    )


def stored_draft(s: Session, campaign: Campaign, number: int | None = None) -> SeriesDraft | None:
    """The series draft stored with a version (the current one by default); None for a version made before drafts."""
    text = _draft_json(s, campaign, number)
    return SeriesDraft.from_json(text) if text else None


def draft_of(s: Session, campaign: Campaign) -> SeriesDraft:
    """The current version's series draft; for a version made before drafts, the one its stored article and steps
    give."""
    draft = stored_draft(s, campaign)
    if draft is not None:
        return draft
    return from_series(stored_series(s, campaign, current_steps(s, campaign)))


def article_for(s: Session, campaign: Campaign, overrides: dict[str, bool] | None = None, title: str = "") -> Article:
    """The stored article parsed again with the staff's kept and dropped blocks, under the series name."""
    source, fmt = source_of(s, campaign)
    article = parse_source(source, fmt, Path(f"{campaign.slug}.stored"), overrides or None)
    return replace(article, title=title or campaign.title)


def stored_series(s: Session, campaign: Campaign, rows: list[StepRow]) -> Series:
    """The series of the current version: from its draft (the draft and `rows` are stored together) or, for a
    version made before drafts, the one the stored article plans with each step's subject, preheader and delay
    taken from `rows`."""
    draft = stored_draft(s, campaign)
    if draft is not None:
        series = to_series(draft, article_for(s, campaign, dict(draft.overrides), draft.name))
        return with_stored_values(series, rows)
    source, fmt = source_of(s, campaign)
    series = titled(
        plan_series(parse_source(source, fmt, Path(f"{campaign.slug}.stored")), delay_days=DEFAULT_DELAY_DAYS),
        campaign.title,
    )
    planned = [(st.kind, st.section_headings) for st in series.steps]
    if planned != [(r.kind, r.sections) for r in rows]:
        # Only if the planner changed since this version was made: the stored steps can't be matched to sections.
        raise StateError(
            f"campaign {campaign.slug!r}: its stored article no longer plans the same steps; "
            "compile it again before editing",
            cli_hint=f"`outreach campaign reimport {campaign.slug}`",
        )
    return with_stored_values(series, rows)


def titled(series: Series, title: str) -> Series:
    """The series under the campaign's title: parsed again from stored text, the article has lost its file name,
    which the parser falls back on for a title."""
    return replace(series, title=title, article=replace(series.article, title=title))


def with_stored_values(series: Series, rows: list[StepRow]) -> Series:
    steps = tuple(
        replace(step, subject=row.subject, preheader=row.preheader, delay_days=row.delay_days)
        for step, row in zip(series.steps, rows, strict=True)
    )
    return replace(series, steps=steps)


def source_of(s: Session, campaign: Campaign) -> tuple[str, str]:
    v = s.execute(
        select(CampaignVersion.article_source, CampaignVersion.article_format).where(
            CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == campaign.current_version
        )
    ).one()
    return v[0], v[1]
