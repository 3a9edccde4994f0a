"""One module per command group; each exposes `register(app)`. What several groups share lives here."""

from __future__ import annotations

import getpass

import typer

ACTOR = typer.Option(None, "--actor", help="Who is doing this, for the audit log (default: your OS user name)")


def acting_as(value: str | None = None) -> str:
    """Who a command acts as in the audit log: --actor, else the operating-system user."""
    return (value or _os_user()).strip()[:120] or "cli"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database (some containers)
        return "cli"
