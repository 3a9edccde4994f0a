"""Shaping a campaign's series as a whole, each save one new version: the editor's form, the series file read back,
blocks kept or dropped (the series planned again), and an unsaved draft previewed.

A save compiles every step of the draft once; if the result is what the current version already holds, nothing is
stored (an unedited series file reads back as no version). Subscribers past a step are never sent it again: an
enrollment's `next_step` says what comes next, and the send path sends the current version of that step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audit import audit
from campaigns.authoring import series_file
from campaigns.authoring.article import SourceBlock
from campaigns.authoring.content import StepContent
from campaigns.authoring.draft import SeriesDraft, carried_over, check_draft, from_series, to_series
from campaigns.authoring.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.authoring.render import compile_step
from campaigns.brand import Brand
from campaigns.db.models import Campaign, CampaignVersion
from campaigns.errors import StateError
from campaigns.management.editing import (
    _refuse_removing_in_flight,
    compiled_rows,
    complete_past,
    reschedule_waiting,
)
from campaigns.management.lifecycle import require_move
from campaigns.management.records import article_for, current_steps, draft_of, get_campaign, source_of, store_version


def normalised(draft: SeriesDraft) -> SeriesDraft:
    """The draft as it is stored: one-line fields without stray spaces, bodies without trailing spaces and CRs."""

    def body(text: str) -> str:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")

    def line(text: str) -> str:
        return " ".join(text.split())

    return replace(
        draft,
        name=line(draft.name),
        emails=tuple(
            replace(
                e,
                subject=line(e.subject),
                preheader=line(e.preheader),
                intro=body(e.intro),
                sections=tuple(replace(sec, heading=line(sec.heading), body=body(sec.body)) for sec in e.sections),
            )
            for e in draft.emails
        ),
    )


def save_series(
    s: Session, slug: str, draft: SeriesDraft, brand: Brand, now: datetime, *, actor: str, note: str = "series edited"
) -> CampaignVersion:
    """Store the draft as the campaign's next version, every step compiled from it; StateError when something in
    it cannot be sent (naming the email and field) or when it changes nothing."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "edit")
    draft = normalised(draft)
    check_draft(draft)
    old = draft_of(s, campaign)
    rows = current_steps(s, campaign)
    series = to_series(draft, article_for(s, campaign, dict(draft.overrides), draft.name))
    new_rows = compiled_rows(series, brand)
    if draft == old:
        raise StateError(
            f"the series of {slug!r} is already exactly this: nothing to change (still version "
            f"{campaign.current_version})"
        )
    removed = len(rows) - len(new_rows)
    if removed > 0:
        _refuse_removing_in_flight(s, campaign, len(new_rows))
    version = store_version(s, campaign, new_rows, *source_of(s, campaign), note=note, now=now, draft=draft)
    campaign.title = draft.name[:300]
    if removed > 0:
        complete_past(s, campaign, len(new_rows))
    reschedule_waiting(s, campaign, new_rows)
    audit(s, campaign, actor, "edited", f"version {version.number}: {note}", now)
    return version


def describe_changes(old: SeriesDraft, new: SeriesDraft) -> str:
    """A version note: what the save changed, in a few words."""
    parts = []
    if old.name != new.name:
        parts.append(f"series name {old.name!r} -> {new.name!r}")
    if dict(old.overrides) != dict(new.overrides):
        parts.append("kept and dropped blocks")
    if len(old.emails) != len(new.emails):
        parts.append(f"{len(old.emails)} emails -> {len(new.emails)}")
    for n, (a, b) in enumerate(zip(old.emails, new.emails, strict=False), 1):
        fields = [
            label
            for label, x, y in (
                ("subject", a.subject, b.subject),
                ("preheader", a.preheader, b.preheader),
                ("delay", a.delay_days, b.delay_days),
                ("sections", a.headings, b.headings),
                ("words", [x.body for x in a.sections] + [a.intro], [x.body for x in b.sections] + [b.intro]),
            )
            if x != y
        ]
        if fields:
            parts.append(f"email {n}: " + ", ".join(fields))
    return "; ".join(parts) or "series edited"


def replan(
    s: Session, slug: str, overrides: dict[str, bool], brand: Brand, now: datetime, *, actor: str
) -> CampaignVersion:
    """Plan the series again from the stored article with these blocks kept or dropped; the series name, and each
    email's subject, preheader and delay where it carries the same sections as before, are kept."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "edit")
    old = draft_of(s, campaign)
    article = article_for(s, campaign, overrides, old.name)
    delay = old.emails[1].delay_days if len(old.emails) > 1 else DEFAULT_DELAY_DAYS
    new = carried_over(from_series(plan_series(article, delay_days=max(1, delay)), overrides), old)
    kept = sum(1 for v in overrides.values() if v)
    note = f"planned again: {kept} dropped block(s) kept, {len(overrides) - kept} kept block(s) dropped"
    return save_series(s, slug, new, brand, now, actor=actor, note=note)


def article_blocks(s: Session, slug: str) -> tuple[list[SourceBlock], dict[str, str | None], dict[str, bool]]:
    """Every block of the stored article with the staff's choices applied; the rule the parser itself dropped each
    block by (None for a block it kept), by block id; and the staff's choices."""
    campaign = get_campaign(s, slug)
    draft = draft_of(s, campaign)
    article = article_for(s, campaign, dict(draft.overrides), draft.name)
    parser = article_for(s, campaign, None, draft.name)
    return list(article.blocks), {b.id: b.rule for b in parser.blocks}, dict(draft.overrides)


def free_slug(s: Session, title: str) -> str:
    """A slug made from a title ("Baclofen: What to Know" gives "baclofen-what-to-know"), with -2, -3, ... when
    that one is taken."""
    base = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower())
    base = base.strip("-")[:70].strip("-") or "campaign"
    if len(base) < 3:
        base = f"{base}-campaign"
    taken = set(s.scalars(select(Campaign.slug).where(Campaign.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)


def export_series(s: Session, slug: str) -> str:
    """The current version's series as one Markdown file (campaigns.authoring.series_file)."""
    return series_file.write(draft_of(s, get_campaign(s, slug)), slug)


def reimport_series(
    s: Session, slug: str, text: str, name: str, brand: Brand, now: datetime, *, actor: str
) -> CampaignVersion:
    """A series file read back as the next version (StateError when it changes nothing)."""
    draft = series_file.read(text, name)
    campaign = get_campaign(s, slug)
    note = f"series file {name}: " + describe_changes(draft_of(s, campaign), normalised(draft))
    return save_series(s, slug, draft, brand, now, actor=actor, note=note)


@dataclass(frozen=True)
class DraftPreview:
    subject: str
    preheader: str
    content: StepContent


def preview_draft(s: Session, slug: str, draft: SeriesDraft, number: int, brand: Brand) -> DraftPreview:
    """One email of an unsaved draft, compiled as it would be saved (nothing is stored)."""
    campaign = get_campaign(s, slug)
    draft = normalised(draft)
    check_draft(draft)
    series = to_series(draft, article_for(s, campaign, dict(draft.overrides), draft.name))
    step = series.step(number)
    content = compile_step(series, step, brand)
    return DraftPreview(step.subject, step.preheader, content)


def is_series_file(text: str) -> bool:
    """Does this text look like a series file (front matter naming a series) rather than an article?"""
    head = text.lstrip("\ufeff").lstrip()[:2000]
    return head.startswith(series_file.FENCE) and "\nseries:" in head.split("\n---", 2)[0] + "\n"
