"""The audit log: who did what to which campaign or subscriber, and when. Details never hold an address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.db.models import AuditEntry, Campaign


def audit(
    s: Session,
    campaign: Campaign | None,
    actor: str,
    action: str,
    detail: str,
    now: datetime,
    *,
    subscriber_id: int | None = None,
) -> None:
    s.add(
        AuditEntry(
            campaign_id=campaign.id if campaign else None,
            subscriber_id=subscriber_id,
            actor=actor,
            action=action,
            detail=detail,
            at=now,
        )
    )


def audit_log(s: Session, campaign: Campaign, limit: int = 200) -> list[AuditEntry]:
    """The campaign's audit entries, newest first."""
    return list(
        s.scalars(
            select(AuditEntry)
            .where(AuditEntry.campaign_id == campaign.id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
