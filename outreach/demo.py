"""`outreach demo`: the whole job on embedded defaults, with no server running.

The seed article becomes a campaign, a few sample subscribers in different time zones are enrolled, and the drip is
played on a simulated clock through the real tick and send path, writing every email to var/outbox/ as .eml files.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from campaigns.brand import load_brand
from campaigns.db.models import Campaign, CampaignVersion, Delivery, Enrollment, StepRow
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.settings import PROJECT_ROOT, VAR, load_settings
from campaigns.tokens import Links, Tokens

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
SUBSCRIBERS = PROJECT_ROOT / "content" / "demo-subscribers.csv"
START = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # a Monday morning in the Americas


class SimClock:
    """A clock the demo moves forward by hand, so two weeks of drip play in seconds."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def run_demo(console: Console, article: Path = SEED, subscribers: Path = SUBSCRIBERS) -> int:
    """Play the drip; returns how many emails were written."""
    from campaigns.audience.importing import import_csv
    from campaigns.db.migrate import upgrade
    from campaigns.db.session import make_engine, make_session_factory
    from campaigns.delivery.providers.outbox import OutboxProvider
    from campaigns.management.lifecycle import create_campaign, schedule_campaign

    began = time.perf_counter()
    db, outbox = VAR / "demo.db", VAR / "outbox"
    for leftover in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(outbox, ignore_errors=True)
    settings = load_settings(database_url=f"sqlite:///{db}", outbox_dir=outbox, email_backend="outbox")
    brand = load_brand(settings.brand_file)
    upgrade(settings.database_url, address_key=settings.address_key)
    factory = make_session_factory(make_engine(settings.database_url), settings.address_key)
    clock = SimClock(START - timedelta(days=1))
    links = Links(settings.base_url, Tokens(settings.secret_key))
    provider = OutboxProvider(outbox, clock=clock.now)

    with factory.begin() as s:
        campaign = create_campaign(s, article, "baclofen-demo", brand, clock.now(), actor="demo")
        campaign_id = campaign.id
    with factory.begin() as s:
        report = import_csv(s, subscribers, campaign_id=campaign_id, now=clock.now())
    with factory.begin() as s:
        schedule_campaign(s, "baclofen-demo", START, clock.now(), actor="demo")
    console.print(
        f"Campaign [bold]baclofen-demo[/bold] from {article.name}; {report.imported} subscribers "
        f"enrolled; starts {START:%a %d %b %Y %H:%M} UTC"
    )

    for _ in range(10_000):  # bounded: the series ends long before
        batches: list[list[int]] = []
        drip.tick(factory, clock.now(), emit=batches.append)
        for ids in batches:
            sending.send_deliveries(factory, provider, links, brand, ids, clock.now)
        wake = _next_wake(factory, campaign_id)
        if wake is None:
            break
        clock.at = max(wake, clock.now() + timedelta(minutes=1))

    written = _summary(console, factory, campaign_id, outbox)
    console.print(
        f"{written} emails written to {outbox} in {time.perf_counter() - began:.1f} s "
        f"(simulated {START:%d %b} to {clock.now():%d %b %Y})"
    )
    return written


def _next_wake(factory, campaign_id: int) -> datetime | None:
    with factory() as s:
        due = s.scalar(
            select(func.min(Enrollment.next_due_at)).where(
                Enrollment.campaign_id == campaign_id, Enrollment.status == "active"
            )
        )
        start = s.scalar(select(Campaign.start_at).where(Campaign.id == campaign_id, Campaign.status == "scheduled"))
    return min((t for t in (due, start) if t is not None), default=None)


def _summary(console: Console, factory, campaign_id: int, outbox: Path) -> int:
    with factory() as s:
        rows = s.execute(
            select(
                Delivery.step_number,
                StepRow.subject,
                func.count(),
                func.min(Delivery.sent_at),
                func.max(Delivery.sent_at),
            )
            .join(
                CampaignVersion,
                (CampaignVersion.campaign_id == Delivery.campaign_id)
                & (CampaignVersion.number == Delivery.version_number),
            )
            .join(StepRow, (StepRow.version_id == CampaignVersion.id) & (StepRow.number == Delivery.step_number))
            .where(Delivery.campaign_id == campaign_id, Delivery.status == "accepted")
            .group_by(Delivery.step_number, StepRow.subject)
            .order_by(Delivery.step_number)
        ).all()
    table = Table(title="Drip played on a simulated clock (times UTC)")
    for col in ("step", "subject", "sent", "first send", "last send"):
        table.add_column(col)
    for step, subject, sent, first, last in rows:
        table.add_row(str(step), subject, str(sent), f"{first:%a %d %b %H:%M}", f"{last:%a %d %b %H:%M}")
    console.print(table)
    return len(list(outbox.rglob("*.eml")))
