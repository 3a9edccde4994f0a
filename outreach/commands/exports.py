"""`outreach export subscribers|events|steps`: the admin's CSV downloads from the command line, streamed to a file or
standard output (a million rows in flat memory), formula cells neutralised."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import typer

from campaigns.errors import NotFound
from outreach.bootstrap import get_session_factory, tell

export_app = typer.Typer(no_args_is_help=True, help="Download subscribers, events or per-step statistics as CSV.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write the CSV here (default: standard output)")
CAMPAIGN = typer.Option(None, "--campaign", help="Only this campaign (slug)")


def _campaign_id(slug: str | None) -> int | None:
    if not slug:
        return None
    from sqlalchemy import select

    from campaigns.db.models import Campaign

    with get_session_factory()() as s:
        found = s.scalar(select(Campaign.id).where(Campaign.slug == slug))
    if found is None:
        raise NotFound(f"no campaign named {slug!r}", cli_hint="`outreach campaign list` shows them")
    return found


def _write(chunks: Iterable[str], output: Path | None, what: str) -> None:
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    rows = -1  # the header
    with output.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
            rows += chunk.count("\r\n")  # csv ends every row so; a line break inside a cell is a bare \n
    tell(f"wrote {rows} {what} to {output}")


@export_app.command("subscribers")
def subscribers(
    output: Path | None = OUTPUT,
    status: str | None = typer.Option(None, "--status", help="Only this status: active, unsubscribed, ..."),
    campaign: str | None = CAMPAIGN,
    tag: str | None = typer.Option(None, "--tag", help="Only subscribers with this tag"),
) -> None:
    """Subscribers with their consent record (source, time, IP), tags and campaigns, oldest first."""
    from campaigns.audience.directory import SubscriberFilter
    from campaigns.audience.exports import SUBSCRIBER_COLUMNS, subscriber_rows
    from campaigns.csv_output import csv_chunks

    f = SubscriberFilter(status=status or "", campaign_id=_campaign_id(campaign), tag=tag or "")
    _write(csv_chunks(SUBSCRIBER_COLUMNS, subscriber_rows(get_session_factory(), f)), output, "subscribers")


@export_app.command("events")
def events(
    output: Path | None = OUTPUT,
    campaign: str | None = CAMPAIGN,
    kind: str | None = typer.Option(None, "--kind", help="Only this kind: delivered, opened, bounced, ..."),
) -> None:
    """Delivery events (people by subscriber id, never by address), oldest first."""
    from campaigns.csv_output import csv_chunks
    from campaigns.insight.exports import EVENT_COLUMNS, event_rows

    rows = event_rows(get_session_factory(), campaign_id=_campaign_id(campaign), kind=kind)
    _write(csv_chunks(EVENT_COLUMNS, rows), output, "events")


@export_app.command("steps")
def steps(output: Path | None = OUTPUT, campaign: str | None = CAMPAIGN) -> None:
    """Counts and rates for every step of every campaign (or one)."""
    from campaigns.csv_output import csv_chunks
    from campaigns.insight.exports import STEP_COLUMNS, step_rows

    campaign_id = _campaign_id(campaign)
    with get_session_factory()() as s:
        rows = step_rows(s, campaign_id)
    _write(csv_chunks(STEP_COLUMNS, rows), output, "steps")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
