"""`outreach demo`: the main job end to end on embedded defaults (SQLite, outbox, simulated clock)."""

from __future__ import annotations

import typer
from rich.console import Console


def demo() -> None:
    """Turn the seed article into a series and play the whole drip into var/outbox/ on a simulated clock."""
    from outreach.demo import run_demo

    if run_demo(Console()) == 0:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
