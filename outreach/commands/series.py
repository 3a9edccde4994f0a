"""`outreach series plan` and `outreach preview`: the planned series of an article, and one rendered email."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from campaigns.authoring.planning import DEFAULT_DELAY_DAYS, plan_series
from campaigns.authoring.series import Series
from outreach.bootstrap import get_brand, get_settings
from outreach.terminal import plain, visible

series_app = typer.Typer(no_args_is_help=True, help="Plan a drip series from an article.")
console = Console()


class Format(StrEnum):
    html = "html"
    text = "text"
    mjml = "mjml"


def load_series(path: Path, delay_days: int = DEFAULT_DELAY_DAYS) -> Series:
    from campaigns.authoring.parsing import parse_article

    return plan_series(parse_article(path), delay_days=delay_days)


@series_app.command("plan")
def plan(
    path: Path = typer.Argument(..., help="Article file: .txt (copied from a web page), .md or .html"),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON"),
    delay: int = typer.Option(DEFAULT_DELAY_DAYS, help="Days between emails"),
) -> None:
    """Print the planned series: welcome, lessons, call to action."""
    series = load_series(path, delay)
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
            plain("\n".join(visible(h) for h in s.section_headings))
            or ("intro + topics" if s.kind == "welcome" else "—"),
            str(s.words),
            str(s.reading_minutes),
            f"+{s.delay_days}d",
        )
    console.print(table)


def preview(
    path: Path = typer.Argument(..., help="Article file"),
    step: int = typer.Option(..., "--step", help="Step number (1 is the welcome email)"),
    fmt: Format = typer.Option(Format.html, "--format", help="html, text or mjml"),
    open_: bool = typer.Option(False, "--open", help="Write the email to a file under var/ and print its path"),
    delay: int = typer.Option(DEFAULT_DELAY_DAYS, help="Days between emails"),
) -> None:
    """Print one email of the series, rendered with sample subscriber values."""
    from campaigns.authoring import render

    series = load_series(path, delay)
    out = render.preview(series, series.step(step), get_brand(), fmt.value)
    if open_:
        folder = get_settings().outbox_dir.parent / "preview"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = {"html": "html", "text": "txt", "mjml": "mjml"}[fmt.value]
        target = folder / f"{path.stem}-step-{step:02d}.{suffix}"
        target.write_text(out, encoding="utf-8")
        typer.echo(str(target))
    else:
        typer.echo(out)


def register(app: typer.Typer) -> None:
    app.add_typer(series_app, name="series")
    app.command("preview")(preview)
