"""`outreach admin hash-password`: make the value of OUTREACH_ADMIN_PASSWORD_HASH (argon2id)."""

from __future__ import annotations

import typer

from campaigns.errors import ConfigError

admin_app = typer.Typer(no_args_is_help=True, help="The admin dashboard's login.")
MIN_LENGTH = 12


@admin_app.command("hash-password")
def hash_password(
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="The admin password (asked for when not given)",
    ),
) -> None:
    """Print an argon2 hash of the admin password; put it in OUTREACH_ADMIN_PASSWORD_HASH."""
    from argon2 import PasswordHasher

    if len(password) < MIN_LENGTH:
        raise ConfigError(f"admin password: use at least {MIN_LENGTH} characters")
    typer.echo(PasswordHasher().hash(password))


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
