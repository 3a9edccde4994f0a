"""`outreach subscribers import|list|show|remove`: a thin shell over campaigns.audience.subscribers (`export` and
`erase` are added by outreach.commands.privacy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from campaigns.audience.columns import FIELDS, IGNORE
from campaigns.audience.importing import ImportReport, import_csv
from campaigns.audience.subscribers import get_subscriber, list_subscribers, remove_subscriber
from campaigns.audience.tags import tags_of
from campaigns.db.models import Campaign, Enrollment, Subscriber, Suppression
from campaigns.management.enrollment import enroll_csv
from outreach.bootstrap import get_session_factory, now
from outreach.commands import UsageMistake, acting_as
from outreach.terminal import plain, shown

subscribers_app = typer.Typer(
    no_args_is_help=True,
    help="Import, list, show and remove subscribers; export or erase one person's data.",
)
WHO = typer.Argument(..., metavar="ADDRESS|ID", help="Email address (any case), or the id `subscribers list` shows")
console = Console()
MAP_HELP = f"What a column holds, by its header name: one of {', '.join(FIELDS)}, or {IGNORE} (repeatable)"


@subscribers_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        help="CSV with columns email, timezone [, name (or first name, last name), consent_source, consent_at, "
        "consent_ip, tags (a;b)]; common header names (E-mail, Time Zone, First name) are recognised",
    ),
    campaign: str | None = typer.Option(None, "--campaign", help="Enroll everyone in this campaign (slug)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report only; write nothing"),
    columns: list[str] = typer.Option(
        [],
        "--map",
        metavar="COLUMN=FIELD",
        help=MAP_HELP,
    ),
    default_timezone: str | None = typer.Option(
        None, "--timezone", help="Time zone for rows without one (an IANA name such as America/New_York)"
    ),
    consent: str | None = typer.Option(
        None, "--consent", help="How these people agreed to be mailed, for rows that do not say (e.g. 'paper form')"
    ),
    tag: str | None = typer.Option(None, "--tag", help="Tag everyone in the file (new or already subscribed)"),
) -> None:
    """Import subscribers from a CSV file (UTF-8, UTF-16 or Latin-1; comma, semicolon or tab); bad rows are
    reported by line and skipped (exit code 1)."""
    mapped = {}
    for item in columns:
        name, sep, field = item.rpartition("=")
        if not sep or not name.strip() or field.strip() not in (*FIELDS, IGNORE):
            raise UsageMistake(
                f"--map {item!r}: use COLUMN=FIELD, FIELD one of {', '.join(FIELDS)} or {IGNORE}", ctx=ctx
            )
        mapped[name.strip()] = field.strip()
    options: dict[str, Any] = {
        "columns": mapped,
        "default_timezone": default_timezone,
        "consent": consent,
        "tag_all": tag,
    }
    with get_session_factory().begin() as s:
        if campaign:
            report = enroll_csv(s, campaign, file, now(), actor=acting_as(), dry_run=dry_run, **options)
        else:
            report = import_csv(s, file, now=now(), dry_run=dry_run, **options)
    _print_report(report, file, campaign)
    if report.problems:
        raise typer.Exit(1)


def _print_report(report: ImportReport, file: Path, campaign: str | None) -> None:
    if report.problems:
        table = Table(title=f"{len(report.problems)} rows with problems in {plain(file.name)} (skipped)")
        table.add_column("line", justify="right")
        table.add_column("problem", overflow="fold")
        for line, reason in report.problems:
            table.add_row(str(line), shown(reason))
        console.print(table)
    verb = "would import" if report.dry_run else "imported"
    parts = [f"{verb} {report.imported} of {report.rows} rows"]
    if campaign:
        parts.append(f"{'would enroll' if report.dry_run else 'enrolled'} {report.enrolled} in {campaign}")
    parts += [
        f"{report.skipped_existing} already subscribed",
        f"{report.suppressed} suppressed",
        f"{report.problem_count} problems",
    ]
    prefix = "dry run, nothing written: " if report.dry_run else ""
    console.print(prefix + ", ".join(parts), highlight=False)


def _subscriber_json(sub: Subscriber, tags: list[str]) -> dict:
    return {
        "id": sub.id,
        "email": sub.email,
        "name": sub.name,
        "timezone": sub.timezone,
        "status": sub.status,
        "tags": tags,
        "consent_source": sub.consent_source,
        "consent_at": sub.consent_at.isoformat() if sub.consent_at else None,
        "consent_ip": sub.consent_ip,
        "created_at": sub.created_at.isoformat(),
        "unsubscribed_at": sub.unsubscribed_at.isoformat() if sub.unsubscribed_at else None,
    }


@subscribers_app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", help="Only this status: active, unsubscribed, ..."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many"),
    after: int = typer.Option(0, "--after", help="Start after this subscriber id (for the next page)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """List subscribers by id, a page at a time."""
    with get_session_factory()() as s:
        subs = list_subscribers(s, status=status, limit=limit, after_id=after)
        tags = tags_of(s, [x.id for x in subs]) if as_json else {}
    if as_json:
        typer.echo(json.dumps([_subscriber_json(x, tags.get(x.id, [])) for x in subs], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(subs)} subscribers" + (f" ({status})" if status else ""))
    for col in ("id", "email", "name", "time zone", "status", "since"):
        table.add_column(col, overflow="fold")
    for x in subs:
        table.add_row(
            str(x.id), shown(x.email or "(erased)"), shown(x.name), x.timezone, x.status, f"{x.created_at:%Y-%m-%d}"
        )
    console.print(table)
    if len(subs) == limit:
        console.print(f"more: --after {subs[-1].id}", highlight=False)


@subscribers_app.command("show")
def show(who: str = WHO, as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """One subscriber, with their enrollments and any suppression."""
    with get_session_factory()() as s:
        sub = get_subscriber(s, who)
        enrollments = s.execute(
            select(Campaign.slug, Enrollment.next_step, Enrollment.next_due_at, Enrollment.status)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .where(Enrollment.subscriber_id == sub.id)
            .order_by(Enrollment.id)
        ).all()
        suppression = s.scalar(select(Suppression).where(Suppression.email_key == sub.email_key))
        data = _subscriber_json(sub, tags_of(s, [sub.id]).get(sub.id, []))
    data["enrollments"] = [
        {"campaign": slug, "next_step": step, "status": st, "next_due_at": due.isoformat() if due else None}
        for slug, step, due, st in enrollments
    ]
    data["suppressed"] = (
        {"reason": suppression.reason, "since": suppression.created_at.isoformat()} if suppression else None
    )
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(show_header=False, title=f"subscriber {sub.id}")
    for key in (
        "email",
        "name",
        "timezone",
        "status",
        "tags",
        "consent_source",
        "consent_at",
        "consent_ip",
        "created_at",
        "unsubscribed_at",
    ):
        value = data[key]
        table.add_row(key, shown(", ".join(value) if isinstance(value, list) else value))
    table.add_row("suppressed", f"{suppression.reason} since {data['suppressed']['since']}" if suppression else "no")
    for e in data["enrollments"]:
        table.add_row(
            f"campaign {e['campaign']}",
            f"{e['status']}, next step {e['next_step']}, due {e['next_due_at'] or 'not scheduled yet'}",
        )
    console.print(table)


@subscribers_app.command("remove")
def remove(
    who: str = WHO,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
) -> None:
    """Stop all mail to a subscriber: unsubscribe, stop enrollments, cancel queued emails, suppress the address."""
    if not yes:
        with get_session_factory()() as s:
            found = get_subscriber(s, who)  # a wrong address is said before the question, not after
            shown = f"subscriber {found.id} ({found.email or 'erased'})"
        typer.confirm(f"Stop every email to {shown} and suppress the address?", abort=True, err=True)
    with get_session_factory().begin() as s:
        done = remove_subscriber(s, who, now())
    console.print(
        f"subscriber {done.subscriber_id} removed: {done.enrollments_stopped} enrollments stopped, "
        f"{done.deliveries_cancelled} queued emails cancelled, address suppressed",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(subscribers_app, name="subscribers")
