"""Everything the campaign page and `outreach campaign show` display, gathered once as plain data (JSON-ready)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audit import audit_log
from campaigns.db.models import Campaign, CampaignVersion
from campaigns.delivery.schedule import window_of
from campaigns.management.forecast import describe_next, forecast, next_sends
from campaigns.management.lifecycle import audience_of
from campaigns.management.records import current_steps, get_campaign, list_campaigns


def campaign_row(c: Campaign) -> dict:
    """One line of the campaign list."""
    return {
        "slug": c.slug,
        "title": c.title,
        "status": c.status,
        "version": c.current_version,
        "start_at": c.start_at.isoformat() if c.start_at else None,
        "created_at": c.created_at.isoformat(),
    }


def campaigns_overview(s: Session) -> list[dict]:
    rows = []
    for c in list_campaigns(s):
        row = campaign_row(c)
        row["subscribers"] = audience_of(s, c).total
        rows.append(row)
    return rows


def campaign_overview(s: Session, slug: str, now: datetime, *, days: int = 14, audit_limit: int = 200) -> dict:
    """Steps, status, version, window, audience, forecast, next sends, versions and audit log of one campaign."""
    c = get_campaign(s, slug)
    audience = audience_of(s, c)
    nexts = next_sends(s, slug, now, days)
    return {
        **campaign_row(c),
        "window": {
            "days": sorted(c.window_days),
            "start_hour": c.window_start_hour,
            "end_hour": c.window_end_hour,
            "describe": window_of(c).describe(),
        },
        "daily_cap": c.daily_cap,
        "steps": [
            {
                "number": r.number,
                "kind": r.kind,
                "subject": r.subject,
                "preheader": r.preheader,
                "delay_days": r.delay_days,
                "sections": r.sections,
                "words": r.words,
                "html_bytes": len(r.html.encode("utf-8")),
            }
            for r in current_steps(s, c)
        ],
        "audience": {
            "total": audience.total,
            "active": audience.active,
            "prepared": audience.prepared,
            "sending": audience.sending,
            "completed": audience.completed,
            "stopped": audience.stopped,
            "waiting_by_step": {str(k): v for k, v in audience.waiting_by_step.items()},
        },
        "forecast": [
            {"date": d.isoformat(), "weekday": d.strftime("%a"), "count": n} for d, n in forecast(s, slug, now, days)
        ],
        "next": [
            {
                "step": n.step,
                "subscribers": n.subscribers,
                "first_at": n.first_at.isoformat(),
                "last_at": n.last_at.isoformat(),
            }
            for n in nexts
        ],
        "next_summary": describe_next(nexts),
        "versions": [
            {"number": v.number, "note": v.note, "created_at": v.created_at.isoformat()}
            for v in s.scalars(
                select(CampaignVersion)
                .where(CampaignVersion.campaign_id == c.id)
                .order_by(CampaignVersion.number.desc())
            )
        ],
        "audit": [
            {"at": a.at.isoformat(), "actor": a.actor, "action": a.action, "detail": a.detail}
            for a in audit_log(s, c, audit_limit)
        ],
    }
