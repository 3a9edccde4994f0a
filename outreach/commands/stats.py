"""`outreach stats [SLUG] [--json]`: sends, deliveries, engagement, bounces and complaints per campaign and step, and
what readers told us (was it useful, pace, clicks on the call to action, contacts after each lesson)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaigns.insight.stats import (
    BOUNCE_DANGER,
    BOUNCE_WARN,
    COMPLAINT_DANGER,
    COMPLAINT_WARN,
    OPENS_NOTE,
    CampaignStats,
    Counts,
    campaign_stats,
    queue_health,
    unmatched_events,
)
from outreach.bootstrap import get_session_factory, now
from outreach.terminal import shown

console = Console()
_COLOURS = {"ok": "green", "warning": "yellow", "danger": "red"}
COLUMNS = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _row(label: str | Text, c: Counts) -> list[str | Text]:
    r = c.rates()
    h = c.health()
    return [
        label,
        str(c.sent),
        f"{c.delivered} ({pct(r['delivery_rate'])})",
        f"{c.opened} ({pct(r['open_rate'])})",
        f"{c.clicked} ({pct(r['click_rate'])})",
        f"[{_COLOURS[h['bounces']]}]{c.bounced} ({pct(r['bounce_rate'])})[/]",
        f"[{_COLOURS[h['complaints']]}]{c.complained} ({pct(r['complaint_rate'], 2)})[/]",
        f"{c.unsubscribed} ({pct(r['unsubscribe_rate'])})",
    ]


def _table(title: str, first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    for name in COLUMNS:
        table.add_column(name, justify="right")
    return table


def _print_campaign(c: CampaignStats) -> None:
    if c.total.sent:
        level = c.total.health()["overall"]
        health = f"health [{_COLOURS[level]}]{level}[/]"
    else:
        health = "nothing sent yet"  # no rate is good or bad before the first email
    table = _table(f"{c.slug}: {c.title} ({c.status}, {c.enrolled} enrolled, {health})", "step")
    for step in c.steps:
        table.add_row(*_row(shown(f"{step.number}. {step.subject}"), step.counts))
    table.add_row(*_row("total", c.total), style="bold")
    console.print(table)
    console.print("funnel: " + " → ".join(f"{name} {n}" for name, n in c.funnel))
    _print_readers(c)
    if c.left_before_first:
        console.print(
            f"{c.left_before_first} unsubscribed before their first email (from the sign-up confirmation email)"
        )


def _print_readers(c: CampaignStats) -> None:
    """What readers told us per step, and the lessons that came last before a contact (when there is any)."""
    learning = c.learning
    if not any(not learning.lesson(s.number).is_empty for s in c.steps):
        return
    table = Table(title="What readers tell us", title_justify="left")
    for name in ("step", "useful yes", "not really", "rate", "comments", "next now", "weekly", "paused", "cta clicks",
                 "contacts after"):  # fmt: skip
        table.add_column(name, justify="left" if name == "step" else "right")
    for step in c.steps:
        x = learning.lesson(step.number)
        table.add_row(
            shown(f"{step.number}. {step.subject}"),
            str(x.useful_yes),
            str(x.useful_no),
            pct(x.useful_rate, 0),
            str(x.comment_count),
            str(x.pacing["next"]),
            str(x.pacing["weekly"]),
            str(x.pacing["pause"]),
            str(x.cta_clicks),
            str(x.contacts),
        )
    console.print(table)
    last = learning.last_before_contact()
    if last:
        console.print(
            "last lesson before a contact: " + "; ".join(f"{n}. {shown(c.subject_of(n))} ({k})" for n, k in last)
        )


def stats(
    slug: str | None = typer.Argument(None, help="Campaign slug (default: every campaign)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Per campaign and per step: sent, delivered, opened, clicked, bounced, complained, unsubscribed, and rates."""
    from campaigns.management.records import get_campaign

    at = now()
    with get_session_factory()() as s:
        campaign_id = get_campaign(s, slug).id if slug else None
        found = campaign_stats(s, campaign_id, with_days=bool(slug))
        queue = queue_health(s, at)
        unmatched = unmatched_events(s)
    if as_json:
        campaigns = [c.as_dict() for c in found]
        if slug:
            typer.echo(json.dumps(campaigns[0], indent=2, default=str))
            return
        out = {
            "campaigns": campaigns,
            "queue": queue.as_dict(at),
            "unmatched_events": unmatched,
            "thresholds": {
                "complaint_warning": COMPLAINT_WARN,
                "complaint_danger": COMPLAINT_DANGER,
                "bounce_warning": BOUNCE_WARN,
                "bounce_danger": BOUNCE_DANGER,
            },
            "opens_note": OPENS_NOTE,
        }
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    if slug:
        _print_campaign(found[0])
    else:
        table = _table("Campaigns", "campaign")
        for c in found:
            table.add_row(*_row(f"{c.slug} ({c.status})", c.total))
        console.print(table if found else "no campaigns yet")
        level = queue.level(at).value
        console.print(
            f"queue [{_COLOURS[level]}]{level}[/]: {queue.due_enrollments} due to create, "
            f"{queue.queued} queued ({queue.queued_due} due), {queue.sending} sending, {queue.failed} failed, "
            f"{queue.unknown} unknown, oldest due {int(queue.oldest_due_seconds(at))} s ago; "
            f"{unmatched} events matched no delivery"
        )
    console.print(
        f"[dim]Complaints: keep under {pct(COMPLAINT_WARN)}, never {pct(COMPLAINT_DANGER)}. "
        f"Bounces: warning over {pct(BOUNCE_WARN, 0)}, bad over {pct(BOUNCE_DANGER, 0)}.\n{OPENS_NOTE}[/dim]"
    )


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
