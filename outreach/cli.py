"""The `outreach` command: a thin shell over `campaigns/`. User mistakes print one line and exit 1."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from campaigns.errors import OutreachError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Outreach: turn educational articles into drip email series and send them.",
)
err_console = Console(stderr=True)

# Each module adds its commands; listed here so `outreach --help` shows them all.
COMMAND_MODULES = [
    "outreach.commands.series",
    "outreach.commands.demo",
    "outreach.commands.workers",
    "outreach.commands.campaign",
    "outreach.commands.db",
    "outreach.commands.subscribers",
    "outreach.commands.stats",
    "outreach.commands.admin",
    "outreach.commands.serve",
    "outreach.commands.privacy",
]


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        # In non-standalone mode click returns a command's `typer.Exit(code)` instead of exiting: honour it.
        code = app(args=argv, standalone_mode=False)
    except OutreachError as err:
        err_console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
