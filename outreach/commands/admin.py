"""`outreach admin hash-password`: make the value of OUTREACH_ADMIN_PASSWORD_HASH (argon2id)."""

from __future__ import annotations

import sys

import typer

from campaigns.errors import ConfigError

admin_app = typer.Typer(no_args_is_help=True, help="The admin dashboard's login.")
MIN_LENGTH = 12


@admin_app.command("hash-password")
def hash_password() -> None:
    """Print an argon2 hash of the admin password; put it in OUTREACH_ADMIN_PASSWORD_HASH.

    Asks for the password twice (on the terminal, not echoed), or reads it from the first line of standard input
    when that is not a terminal. Only the hash goes to standard output, so `... > file` keeps just the hash.
    """
    from argon2 import PasswordHasher

    if sys.stdin.isatty():
        # The prompts go to stderr: stdout carries the hash alone.
        password = typer.prompt("Admin password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"admin password: use at least {MIN_LENGTH} characters")
    typer.echo(PasswordHasher().hash(password))


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
