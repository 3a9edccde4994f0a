"""Helpers shared by the audience tests: a CSV file, a campaign row, row counts and snapshots, an import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from campaigns.audience.importing import import_csv
from campaigns.db.models import Campaign, Enrollment, Subscriber
from campaigns.management.enrollment import enroll_csv

HEADER = "email,name,timezone,consent_source,consent_at,consent_ip,tags\n"


def write_csv(tmp_path: Path, body: str, header: str = HEADER, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def make_campaign(factory, now: datetime, slug: str = "drip") -> int:
    with factory.begin() as s:
        c = Campaign(slug=slug, title="Drip", status="draft", created_at=now)
        s.add(c)
        s.flush()
        return c.id


def count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def snapshot(factory) -> list[tuple]:
    """Every subscriber and enrollment row, to compare before and after."""
    with factory() as s:
        subs = s.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status, Subscriber.created_at).order_by(
                Subscriber.id
            )
        ).all()
        enr = s.execute(
            select(Enrollment.id, Enrollment.subscriber_id, Enrollment.enrolled_at).order_by(Enrollment.id)
        ).all()
    return [tuple(r) for r in subs] + [tuple(r) for r in enr]


def run_import(factory, path: Path, now: datetime, campaign_slug: str | None = None, **kw):
    """Import the file; with a campaign, as staff do it (enrolling them, checked and audited)."""
    with factory.begin() as s:
        if campaign_slug:
            return enroll_csv(s, campaign_slug, path, now, actor="test", **kw)
        return import_csv(s, path, now=now, **kw)
