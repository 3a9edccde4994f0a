"""`outreach campaign ...` and `outreach send-test`: a thin shell over campaigns.management (lifecycle, editing,
enrollment, checks, forecast and previews). Every change is audited with the actor (the OS user name, or --actor)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from outreach.bootstrap import get_brand, get_session_factory, get_settings, now
from outreach.commands import ACTOR, ARTICLE_HELP, TITLE, UsageMistake, acting_as, load_article
from outreach.terminal import plain, shown

campaign_app = typer.Typer(
    no_args_is_help=True,
    help="Create, edit, check, schedule, pause, resume and archive campaigns; enroll subscribers; see the forecast.",
)
console = Console()


AS_JSON = typer.Option(False, "--json", help="Print JSON")


def _parse_start(value: str) -> datetime:
    """--start: an ISO time with its zone, or 'now' (checked as the option is read, so a typo is a usage mistake)."""
    if value.strip().lower() == "now":
        return now()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO time; use e.g. 2026-12-01T09:00:00+00:00 or 'now'") from None


@campaign_app.command("create")
def create(
    source: str = typer.Argument(..., help=ARTICLE_HELP),
    slug: str = typer.Option(..., "--slug", help="Short name: lower-case letters, digits, dashes"),
    delay: int = typer.Option(2, "--delay", help="Days between emails"),
    title: str | None = TITLE,
    actor: str | None = ACTOR,
) -> None:
    """Create a draft campaign from an article: plan the series and compile each step once. Check what the parser
    left out first with `outreach series plan`."""
    from campaigns.management.lifecycle import create_campaign
    from campaigns.management.records import current_steps

    article = load_article(source)
    with get_session_factory().begin() as s:
        c = create_campaign(s, article, slug, get_brand(), now(), actor=acting_as(actor), delay_days=delay, title=title)
        steps = len(current_steps(s, c))
    console.print(
        f"created draft campaign [bold]{slug}[/bold]: {steps} steps. Next: "
        f"`outreach campaign enroll {slug} --all`, then `outreach campaign schedule {slug} --start ...`",
        highlight=False,
    )


@campaign_app.command("schedule")
def schedule(
    slug: str,
    start_at: datetime = typer.Option(
        ..., "--start", parser=_parse_start, metavar="TIME", help="ISO time with zone, or 'now'"
    ),
    actor: str | None = ACTOR,
) -> None:
    """Schedule a draft campaign (after the checks pass) or move a scheduled one's start."""
    from campaigns.management.lifecycle import schedule_campaign

    with get_session_factory().begin() as s:
        schedule_campaign(s, slug, start_at, now(), actor=acting_as(actor), brand=get_brand(), settings=get_settings())
    console.print(f"{slug}: scheduled to start {start_at.isoformat()}", highlight=False)


def _move(name: str, help_: str):
    def command(slug: str, actor: str | None = ACTOR) -> None:
        from campaigns.management import lifecycle

        with get_session_factory().begin() as s:
            c = getattr(lifecycle, f"{name}_campaign")(s, slug, now(), actor=acting_as(actor))
        console.print(f"{slug}: {c.status}", highlight=False)

    command.__doc__ = help_
    campaign_app.command(name)(command)


_move("pause", "Pause a scheduled or running campaign: nothing more is sent until it is resumed.")
_move("resume", "Resume a paused campaign; what fell due while paused goes out at the next tick.")
_move("archive", "Archive a campaign for good: nothing more is sent.")


@campaign_app.command("list")
def list_(as_json: bool = AS_JSON) -> None:
    """Every campaign with its status, version and subscribers."""
    from campaigns.management.overview import campaigns_overview

    with get_session_factory()() as s:
        rows = campaigns_overview(s)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} campaigns")
    for col in ("slug", "status", "version", "subscribers", "start", "title"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["slug"], r["status"], str(r["version"]), str(r["subscribers"]), r["start_at"] or "—", shown(r["title"])
        )
    console.print(table)


@campaign_app.command("show")
def show(
    slug: str, as_json: bool = AS_JSON, audit_lines: int = typer.Option(20, "--audit", help="Audit entries to show")
) -> None:
    """Steps, status, version, audience, forecast and audit log of a campaign."""
    from campaigns.management.overview import campaign_overview

    with get_session_factory()() as s:
        o = campaign_overview(s, slug, now(), audit_limit=audit_lines)
    if as_json:
        typer.echo(json.dumps(o, indent=2))
        return
    console.print(
        f"[bold]{o['slug']}[/bold] — {plain(o['title'])}\nstatus [bold]{o['status']}[/bold], version "
        f"{o['version']}, start {o['start_at'] or 'not set'}\nwindow {o['window']['describe']}, daily cap "
        f"{o['daily_cap'] or 'none'}",
        highlight=False,
    )
    steps = Table(title="steps (current version)")
    for col in ("#", "kind", "subject / preheader", "delay", "HTML"):
        steps.add_column(col, overflow="fold")
    for st in o["steps"]:
        steps.add_row(
            str(st["number"]),
            st["kind"],
            f"[bold]{plain(st['subject'])}[/bold]\n[dim]{plain(st['preheader'])}[/dim]",
            f"+{st['delay_days']}d",
            f"{st['html_bytes'] / 1024:.0f} KB",
        )
    console.print(steps)
    a = o["audience"]
    prepared = f"{a['prepared']} ready for the start, " if a["prepared"] else ""
    console.print(
        f"audience: {a['total']} enrolled: {a['active']} active, {prepared}{a['sending']} sending, "
        f"{a['completed']} completed, {a['stopped']} stopped\nnext: {o['next_summary']}",
        highlight=False,
    )
    _print_forecast(o["forecast"])
    log = Table(title="audit log (newest first)")
    for col in ("when (UTC)", "who", "what", "detail"):
        log.add_column(col, overflow="fold")
    for e in o["audit"]:
        log.add_row(e["at"][:16].replace("T", " "), shown(e["actor"]), e["action"], shown(e["detail"]))
    console.print(log)


def _print_forecast(rows: list[dict]) -> None:
    table = Table(title="forecast: emails per day (UTC)")
    table.add_column("date")
    table.add_column("emails", justify="right")
    for r in rows:
        table.add_row(datetime.fromisoformat(r["date"]).strftime("%a %Y-%m-%d"), str(r["count"]))
    console.print(table)


@campaign_app.command("edit")
def edit(
    ctx: typer.Context,
    slug: str,
    step: int = typer.Option(..., "--step", help="Step number (1 is the welcome email)"),
    subject: str | None = typer.Option(None, "--subject"),
    preheader: str | None = typer.Option(None, "--preheader"),
    delay: int | None = typer.Option(None, "--delay", help="Days after the previous step"),
    actor: str | None = ACTOR,
) -> None:
    """Change a step's subject, preheader or delay (a new version; who is past the step is not mailed it again)."""
    from campaigns.management.editing import edit_step

    if subject is None and preheader is None and delay is None:
        raise UsageMistake("give at least one of --subject, --preheader, --delay", ctx=ctx)
    with get_session_factory().begin() as s:
        v = edit_step(
            s,
            slug,
            step,
            get_brand(),
            now(),
            actor=acting_as(actor),
            subject=subject,
            preheader=preheader,
            delay_days=delay,
        )
    console.print(f"{slug}: version {v.number}: {plain(v.note)}", highlight=False)


@campaign_app.command("window")
def window(
    ctx: typer.Context,
    slug: str,
    days: str | None = typer.Option(None, "--days", help="e.g. mon-fri or mon,wed,fri"),
    hours: str | None = typer.Option(None, "--hours", help="Local hours, e.g. 9-17"),
    cap: int | None = typer.Option(None, "--cap", help="At most this many new emails per UTC day"),
    no_cap: bool = typer.Option(False, "--no-cap", help="Remove the daily cap"),
    actor: str | None = ACTOR,
) -> None:
    """Change the sending window (days and local hours) and/or the daily cap."""
    from campaigns.delivery.schedule import SendingWindow, window_of
    from campaigns.management.editing import KEEP_CAP, edit_window

    if cap is not None and no_cap:
        raise UsageMistake("give --cap N or --no-cap, not both", ctx=ctx)
    with get_session_factory().begin() as s:
        from campaigns.management.records import get_campaign

        current = window_of(get_campaign(s, slug))
        new_window = None
        if days is not None or hours is not None:
            new_window = SendingWindow.parse(
                days or ",".join(_day_names(current.days)), hours or f"{current.start_hour}-{current.end_hour}"
            )
        v = edit_window(
            s,
            slug,
            now(),
            actor=acting_as(actor),
            window=new_window,
            daily_cap=None if no_cap else (cap if cap is not None else KEEP_CAP),
        )
    console.print(f"{slug}: version {v.number}: {plain(v.note)}", highlight=False)


def _day_names(days: frozenset[int]) -> list[str]:
    from campaigns.delivery.schedule import DAY_NAMES

    return [DAY_NAMES[d] for d in sorted(days)]


@campaign_app.command("reimport")
def reimport(
    slug: str,
    source: str | None = typer.Argument(
        None,
        help="The revised article (a file, a web address, or - for standard input), or a series file written by "
        "`outreach series export`; without it, compile the series again with today's brand and templates",
    ),
    actor: str | None = ACTOR,
) -> None:
    """Re-import a revised article or an edited series file (a new version; an unedited series file makes none;
    who is past a step is not mailed it again)."""
    from campaigns.management.editing import reimport_article
    from campaigns.management.series_edits import is_series_file, reimport_series

    revised = load_article(source) if source is not None else None
    with get_session_factory().begin() as s:
        if revised is not None and is_series_file(revised.text):
            v = reimport_series(s, slug, revised.text, revised.label, get_brand(), now(), actor=acting_as(actor))
        else:
            v = reimport_article(s, slug, revised, get_brand(), now(), actor=acting_as(actor))
    console.print(f"{slug}: version {v.number}: {plain(v.note)}", highlight=False)


@campaign_app.command("diff")
def diff(
    slug: str,
    a: int = typer.Argument(..., metavar="VERSION_A", help="The older version's number"),
    b: int = typer.Argument(..., metavar="VERSION_B", help="The newer version's number"),
    as_json: bool = AS_JSON,
) -> None:
    """What changed between two versions, step by step."""
    from campaigns.management.editing import diff_versions, version_notes

    with get_session_factory()() as s:
        changes = diff_versions(s, slug, a, b)
        notes = version_notes(s, slug, a, b)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "notes": [{"version": n, "note": t} for n, t in notes],
                    "changes": [
                        {"step": c.step, "field": c.field, "before": c.before, "after": c.after, "diff": list(c.diff)}
                        for c in changes
                    ],
                },
                indent=2,
            )
        )
        return
    for number, note in notes:
        console.print(f"[dim]version {number}: {plain(note)}[/dim]", highlight=False)
    if not changes:
        console.print(f"versions {a} and {b} send the same emails")
    for c in changes:
        console.print(f"[bold]{plain(c)}[/bold]", highlight=False)
        for line in c.diff[2:]:  # skip the ---/+++ header lines
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"    [{style}]{plain(line)}[/{style}]", highlight=False, markup=True, soft_wrap=True)


@campaign_app.command("enroll")
def enroll(
    ctx: typer.Context,
    slug: str,
    all_: bool = typer.Option(False, "--all", help="Every active subscriber"),
    tag: str | None = typer.Option(None, "--tag", help="Active subscribers with this tag"),
    csv: Path | None = typer.Option(None, "--csv", help="Import this CSV and enroll its subscribers"),
    actor: str | None = ACTOR,
) -> None:
    """Enroll subscribers: all active ones, those with a tag, or from a CSV file (exactly one of these)."""
    from campaigns.management.enrollment import enroll_csv, enroll_subscribers

    if sum((all_, tag is not None, csv is not None)) != 1:
        raise UsageMistake("give exactly one of --all, --tag TAG, --csv FILE", ctx=ctx)
    with get_session_factory().begin() as s:
        if csv is not None:
            report = enroll_csv(s, slug, csv, now(), actor=acting_as(actor))
            line = (
                f"{report.imported} new subscribers imported, {report.enrolled} enrolled, "
                f"{len(report.problems)} rows with problems"
            )
            for number, reason in report.problems[:20]:
                console.print(f"  {plain(csv.name)}:{number}: {plain(reason)}", highlight=False)
        else:
            r = enroll_subscribers(s, slug, now(), actor=acting_as(actor), tag=tag)
            line = f"{r.enrolled} enrolled, {r.already} were already"
    console.print(f"{slug}: {line}", highlight=False)


@campaign_app.command("forecast")
def forecast_(slug: str, days: int = typer.Option(14, "--days"), as_json: bool = AS_JSON) -> None:
    """Emails per day for the coming days, and who gets which step next."""
    from campaigns.management.forecast import describe_next, forecast, next_sends

    with get_session_factory()() as s:
        rows = [{"date": d.isoformat(), "count": n} for d, n in forecast(s, slug, now(), days)]
        nexts = next_sends(s, slug, now(), days)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "forecast": rows,
                    "next": [
                        {
                            "step": n.step,
                            "subscribers": n.subscribers,
                            "first_at": n.first_at.isoformat(),
                            "last_at": n.last_at.isoformat(),
                        }
                        for n in nexts
                    ],
                },
                indent=2,
            )
        )
        return
    _print_forecast(rows)
    console.print(f"next: {describe_next(nexts)}", highlight=False)


@campaign_app.command("check")
def check(slug: str) -> None:
    """Run the checks before scheduling and list every problem (exit code 1 if one blocks scheduling)."""
    from campaigns.management.checks import check_campaign
    from campaigns.management.records import get_campaign

    with get_session_factory()() as s:
        problems = check_campaign(s, get_campaign(s, slug), brand=get_brand(), settings=get_settings())
    for p in problems:
        hint = f" ({p.cli_hint})" if p.cli_hint else ""
        label = "[red]blocks[/red]" if p.blocking else "[yellow]warning[/yellow]"
        console.print(f"{label}  {plain(p)}{plain(hint)}", highlight=False)
    if not problems:
        console.print(f"{slug}: every check passes")
    if any(p.blocking for p in problems):
        raise typer.Exit(1)


def send_test(
    slug: str,
    step: int = typer.Option(..., "--step", help="Step number"),
    to: list[str] = typer.Option(..., "--to", help="Staff address (repeat for several)"),
    actor: str | None = ACTOR,
) -> None:
    """Send one step of the current version to staff addresses as a test (no subscriber, delivery or stats)."""
    from campaigns.delivery.providers.factory import build_provider
    from campaigns.management.previews import send_test as send

    settings, brand = get_settings(), get_brand()
    provider = build_provider(settings, brand)
    with get_session_factory().begin() as s:
        results = send(s, slug, step, to, provider, brand, settings, now(), actor=acting_as(actor))
    for r in results:
        console.print(f"test {r.status}" + (f": {plain(r.error)}" if r.error else ""), highlight=False)
    if any(r.status != "accepted" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
    app.command("send-test")(send_test)
