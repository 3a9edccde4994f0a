"""`outreach series plan` and `outreach preview`: the planned series of an article, and one rendered email."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from campaigns.authoring.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.authoring.series import Series
from outreach.bootstrap import get_brand, get_settings
from outreach.commands import ARTICLE_HELP, TITLE, load_article
from outreach.terminal import plain, shown, visible

series_app = typer.Typer(
    no_args_is_help=True, help="Plan a drip series from an article; export a campaign's series as one Markdown file."
)
console = Console()


class Format(StrEnum):
    html = "html"
    text = "text"
    mjml = "mjml"


def load_series(spec: str | Path, delay_days: int = DEFAULT_DELAY_DAYS, title: str | None = None) -> Series:
    """The series an article gives (a file, a web address, or "-" for standard input)."""
    from campaigns.authoring.parsing import load_source, parse_loaded

    source = load_article(spec) if isinstance(spec, str) else load_source(spec)
    article = parse_loaded(source)
    return plan_series(replace(article, title=title) if title else article, delay_days=delay_days)


@series_app.command("export")
def export(slug: str) -> None:
    """Write a campaign's whole series as one Markdown file (front matter per email) on standard output; edit it
    and read it back with `outreach campaign reimport SLUG FILE`."""
    from campaigns.management.series_edits import export_series
    from outreach.bootstrap import get_session_factory

    with get_session_factory()() as s:
        text = export_series(s, slug)
    typer.echo(text, nl=False)


@series_app.command("plan")
def plan(
    source: str = typer.Argument(..., help=ARTICLE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON"),
    delay: int = typer.Option(DEFAULT_DELAY_DAYS, help="Days between emails"),
    title: str | None = TITLE,
) -> None:
    """Print the planned series (welcome, lessons, call to action) and every block left out of it, with why."""
    series = load_series(source, delay, title)
    if as_json:
        typer.echo(json.dumps(series.as_json(), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{plain(series.title)}: {len(series.steps)} emails", show_lines=True)
    for col in ("#", "kind", "subject / preheader", "sections", "words", "min", "delay"):
        table.add_column(col, overflow="fold")
    for s in series.steps:
        table.add_row(
            str(s.number),
            s.kind,
            f"[bold]{plain(s.subject)}[/bold]\n[dim]{plain(s.preheader)}[/dim]",
            plain("\n".join(visible(h) for h in s.section_headings if h))
            or ("intro + topics" if s.kind == "welcome" else "—"),
            str(s.words),
            str(s.reading_minutes),
            f"+{s.delay_days}d",
        )
    console.print(table)
    _print_dropped(series)


def _print_dropped(series: Series) -> None:
    """Every block the parser left out, in page order, with the rule that dropped it and what the rule means."""
    from campaigns.authoring.parsing import describe

    dropped = series.article.dropped
    if not dropped:
        console.print("Nothing was left out of the article.", highlight=False)
        return
    table = Table(title=f"Left out: {len(dropped)} blocks (check that none is part of the article)", show_lines=False)
    for col in ("line", "rule", "text"):
        table.add_column(col, overflow="fold")
    for block in dropped:
        text = " ".join(block.text.split())
        table.add_row(str(block.line), block.rule or "", shown(text if len(text) <= 140 else text[:139] + "…"))
    console.print(table)
    for rule in sorted({b.rule for b in dropped if b.rule}):
        console.print(f"  [bold]{rule}[/bold]: {describe(rule)}", highlight=False)


def preview(
    source: str = typer.Argument(..., help=ARTICLE_HELP),
    step: int = typer.Option(..., "--step", help="Step number (1 is the welcome email)"),
    fmt: Format = typer.Option(Format.html, "--format", help="html, text or mjml"),
    open_: bool = typer.Option(False, "--open", help="Write the email to a file under var/ and print its path"),
    delay: int = typer.Option(DEFAULT_DELAY_DAYS, help="Days between emails"),
    title: str | None = TITLE,
) -> None:
    """Print one email of the series, rendered with sample subscriber values."""
    from campaigns.authoring import render

    series = load_series(source, delay, title)
    out = render.preview(series, series.step(step), get_brand(), fmt.value)
    if open_:
        folder = get_settings().outbox_dir.parent / "preview"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = {"html": "html", "text": "txt", "mjml": "mjml"}[fmt.value]
        stem = Path(series.article.source or "article").stem or "article"
        target = folder / f"{stem}-step-{step:02d}.{suffix}"
        target.write_text(out, encoding="utf-8")
        typer.echo(str(target))
    else:
        typer.echo(out)


def register(app: typer.Typer) -> None:
    app.add_typer(series_app, name="series")
    app.command("preview")(preview)
