"""One module per command group; each exposes `register(app)`. What several groups share lives here."""

from __future__ import annotations

import getpass

import typer

ACTOR = typer.Option(None, "--actor", help="Who is doing this, for the audit log (default: your OS user name)")


class UsageMistake(typer.BadParameter):
    """Options that do not go together, found inside a command: a usage mistake like the parser's own (one line,
    the command's --help, exit code 2). Raise it with the command's `ctx` so the line names that command."""

    def format_message(self) -> str:
        return self.message


def acting_as(value: str | None = None) -> str:
    """Who a command acts as in the audit log: --actor, else the operating-system user."""
    return (value or _os_user()).strip()[:120] or "cli"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database (some containers)
        return "cli"
