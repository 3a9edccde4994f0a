"""`outreach contacts import FILE`: "contacted us" records the clinic logs, matched to subscribers and put down to
the lesson that came last before; a thin shell over campaigns.audience.contacts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from campaigns.audience.contacts import CHANNEL_NAMES, import_contacts_file
from outreach.bootstrap import get_session_factory, now
from outreach.commands import acting_as

FILE_HELP = (
    "CSV with columns address (or email), time (2026-12-01 14:30, with an offset or not) and channel "
    f"({', '.join(CHANNEL_NAMES)})"
)
contacts_app = typer.Typer(no_args_is_help=True, help='Import "contacted us" records (calls, texts, forms).')


@contacts_app.command("import")
def import_(
    file: Path = typer.Argument(..., help=FILE_HELP),
    timezone: str = typer.Option("UTC", "--timezone", help="Time zone of times written without an offset"),
    actor: str | None = typer.Option(None, "--actor", help="Who imports, for the audit log (default: your user)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import contacts: a file with any bad row imports nothing and lists each by line (exit code 1); rows whose
    address is no subscriber's, or already imported, are skipped and counted."""
    with get_session_factory().begin() as s:
        report = import_contacts_file(s, file, actor=acting_as(actor), now=now(), tz=timezone)
    if as_json:
        typer.echo(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    elif not report.ok:
        typer.echo(f"{file}: {report.problem_count} bad row(s); nothing was imported:", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        if report.problem_count > len(report.problems):
            typer.echo(f"  … and {report.problem_count - len(report.problems)} more", err=True)
    else:
        unmatched = f" (lines {', '.join(map(str, report.unmatched[:20]))}{'…' if len(report.unmatched) > 20 else ''})"
        typer.echo(
            f"{file}: {report.imported} contact(s) imported, {report.attributed} put down to a lesson; "
            f"{report.already} already imported; {len(report.unmatched)} matched no subscriber"
            + (unmatched if report.unmatched else "")
        )
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(contacts_app, name="contacts")
