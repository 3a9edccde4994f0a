"""Who a campaign goes to: enroll every active subscriber, those with a tag, or the people in a CSV file.

Enrolling is idempotent: a subscriber already in the campaign is left where they are (their step, their schedule).
Only active subscribers who are not suppressed are enrolled; the tick plans their first email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audience.importing import ImportReport, import_csv
from campaigns.audience.tags import clean_tag, find_tag, tagged
from campaigns.audit import audit
from campaigns.db.models import Enrollment, Subscriber
from campaigns.db.sql import insert_ignore
from campaigns.delivery.suppression import suppressed_keys
from campaigns.errors import StateError
from campaigns.management.lifecycle import require_move
from campaigns.management.records import get_campaign
from campaigns.text_input import clean_line

PAGE = 5000


@dataclass
class EnrollReport:
    matched: int = 0  # active, unsuppressed subscribers who fit the choice
    enrolled: int = 0  # newly enrolled now
    already: int = 0  # were enrolled before: left as they are


def enroll_subscribers(
    s: Session,
    slug: str,
    now: datetime,
    *,
    actor: str,
    tag: str | None = None,
    page: int = PAGE,
    dry_run: bool = False,
) -> EnrollReport:
    """Enroll every active subscriber (or, with `tag`, those carrying it); walks subscribers by id cursor. A dry run
    counts who would be enrolled and writes nothing (the admin shows it before the button that does it)."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "enroll")
    if tag is not None and not clean_line(tag):
        raise StateError("type the tag whose subscribers to enroll", field="tag")
    tag = clean_tag(tag) if tag else None
    tag_id = find_tag(s, tag) if tag else None
    report, after = EnrollReport(), 0
    while tag is None or tag_id is not None:
        query = select(Subscriber.id, Subscriber.email_key).where(Subscriber.id > after, Subscriber.status == "active")
        if tag_id is not None:
            query = query.where(Subscriber.id.in_(tagged(tag_id)))
        rows = s.execute(query.order_by(Subscriber.id).limit(page)).all()
        if not rows:
            break
        after = rows[-1][0]
        blocked = suppressed_keys(s, [r.email_key for r in rows])
        ids = [r.id for r in rows if r.email_key not in blocked]
        if not ids:
            continue
        have = set(
            s.scalars(
                select(Enrollment.subscriber_id).where(
                    Enrollment.campaign_id == campaign.id, Enrollment.subscriber_id.in_(ids)
                )
            )
        )
        new = [i for i in ids if i not in have]
        if new and not dry_run:
            s.execute(
                insert_ignore(s, Enrollment.__table__, ("campaign_id", "subscriber_id")),
                [
                    {
                        "campaign_id": campaign.id,
                        "subscriber_id": i,
                        "next_step": 1,
                        "status": "active",
                        "enrolled_at": now,
                    }
                    for i in new
                ],
            )
        report.matched += len(ids)
        report.enrolled += len(new)
        report.already += len(have)
    if not report.matched:
        # Nothing to do is worth saying: "enrolled" after enrolling nobody reads like success.
        if tag:
            raise StateError(f"no active subscriber has the tag {tag!r}: nobody was enrolled", field="tag")
        raise StateError(
            "there are no active subscribers to enroll yet", cli_hint="`outreach subscribers import FILE` adds some"
        )
    if dry_run:
        return report
    who = f"tag {tag!r}" if tag else "all active subscribers"
    audit(s, campaign, actor, "enrolled", f"{who}: {report.enrolled} new, {report.already} already enrolled", now)
    return report


def enroll_csv(
    s: Session, slug: str, path: Path, now: datetime, *, actor: str, dry_run: bool = False, **options: Any
) -> ImportReport:
    """Import subscribers from a CSV (audience.importing.import_csv) and enroll them; returns its report."""

    campaign = get_campaign(s, slug)
    require_move(campaign, "enroll")
    report = import_csv(s, Path(path), now=now, campaign_id=campaign.id, dry_run=dry_run, **options)
    if dry_run:
        return report
    audit(
        s,
        campaign,
        actor,
        "enrolled",
        f"CSV {Path(path).name}: {report.imported} new subscribers, "
        f"{report.enrolled} enrolled, {report.problem_count} rows with problems",
        now,
    )
    return report
