"""The `outreach` command: a thin shell over `campaigns/`.

A mistake prints one line, never a traceback: a usage mistake (a missing argument, an unknown command or option, a
value of the wrong type) exits 2 and says which `--help` to read; a refusal from the domain (OutreachError) exits 1.
"""

from __future__ import annotations

import functools
import importlib
import sys

import typer
from rich.console import Console

from campaigns.errors import OutreachError
from outreach.terminal import plain

PROG = "outreach"
USAGE_EXIT, ERROR_EXIT = 2, 1

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
    "outreach.commands.exports",
    "outreach.commands.contacts",
]


# Once per process: main() may run many times in one process (the tests do), and Typer converts every registered
# command on each run, so commands registered again on each run would pile up and slow every later run.
@functools.cache
def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def usage_line(exc: typer.TyperException) -> str:
    """One line for a usage mistake: what was wrong, and which help to read."""
    ctx = getattr(exc, "ctx", None)
    message = " ".join(exc.format_message().split())
    if not message.endswith((".", "?")):
        message += "."
    where = ctx.command_path if ctx is not None else PROG
    return f"error: {message} Try '{where} --help'."


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        # In non-standalone mode the parser raises instead of exiting, so every error arrives here, and a
        # command's `typer.Exit(code)` comes back as the return value.
        code = app(args=argv, prog_name=PROG, standalone_mode=False)
    except OutreachError as err:
        _fail(str(err), err.cli_hint)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        # Typer carries its own copy of click (typer._click), whose exceptions all derive from TyperException:
        # `click.ClickException` never matches them.
        if type(exc).__name__ == "NoArgsIsHelpError":  # `outreach campaign` alone: show what it offers
            typer.echo(exc.format_message())
            sys.exit(USAGE_EXIT)
        exit_code = getattr(exc, "exit_code", ERROR_EXIT)
        if exit_code == USAGE_EXIT:
            err_console.print(usage_line(exc), highlight=False, markup=False, soft_wrap=True)
        else:  # e.g. a file that cannot be opened
            err_console.print(f"error: {' '.join(exc.format_message().split())}", highlight=False, markup=False)
        sys.exit(exit_code)
    except Exception as exc:
        from campaigns.db.migrate import missing_schema

        if missing_schema(exc):  # tables dropped (or never made) under a running command
            _fail("the database has no tables yet", "run `outreach db upgrade` first")
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


def _fail(message: str, hint: str | None = None) -> None:
    line = message + (f" ({hint})" if hint else "")
    # The message may quote what was typed or stored ("no campaign named '[/]'"): data, never markup or controls.
    err_console.print(f"[red]error:[/red] {plain(line)}", highlight=False, soft_wrap=True)
    sys.exit(ERROR_EXIT)
