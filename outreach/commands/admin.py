"""`outreach admin add-user|users|password-link|hash-password`: the admin's staff accounts from the server.

`add-user` is how a deployment moves from the one shared password (OUTREACH_ADMIN_PASSWORD_HASH) to accounts: once
the first account exists, everyone signs in with their own address and the shared password no longer works.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from campaigns.errors import ConfigError
from outreach.bootstrap import get_session_factory, get_settings, now
from outreach.commands import ACTOR, acting_as

admin_app = typer.Typer(no_args_is_help=True, help="Staff accounts for the admin pages, and their sign-in.")
MIN_LENGTH = 12
console = Console()


def _read_password(prompt: str) -> str:
    """A password from the terminal (asked twice, not echoed, prompts on stderr), or the first line of standard input
    when that is not a terminal."""
    if sys.stdin.isatty():
        return typer.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True)
    return sys.stdin.readline().rstrip("\r\n")


@admin_app.command("add-user")
def add_user(
    email: str = typer.Argument(..., help="Their email address: the name they sign in with"),
    role: str = typer.Option(..., "--role", help="owner (everything, and the team), editor (all but the team), viewer"),
    name: str | None = typer.Option(None, "--name", help="Their name, as the team page shows it"),
    password: bool = typer.Option(
        False, "--password", help="Set their password now (asked twice, or read from standard input) instead of a link"
    ),
    actor: str | None = ACTOR,
) -> None:
    """Add a staff account. Prints a one-time link (7 days) where they choose their password, unless --password."""
    from campaigns.team.accounts import add_user as add

    chosen = _read_password("Their password") if password else None
    with get_session_factory().begin() as s:
        user, token = add(s, email, role, now(), actor=acting_as(actor), name=name, password=chosen)
        address, user_role = user.email, user.role
    if token is None:
        typer.echo(f"added {address} as {user_role}: they can sign in at {get_settings().base_url}/admin/login")
        return
    typer.echo(f"added {address} as {user_role}; send them this link to choose their password (once, 7 days):")
    typer.echo(f"{get_settings().base_url}/admin/welcome/{token}")


@admin_app.command("users")
def users() -> None:
    """List the staff accounts."""
    from campaigns.team.accounts import list_users

    with get_session_factory()() as s:
        found = list_users(s)
    table = Table(title=f"{len(found)} staff accounts")
    for column in ("email", "name", "role", "status", "last sign-in"):
        table.add_column(column, overflow="fold")
    for u in found:
        status = "disabled" if u.disabled_at else ("invited" if not u.password_hash else "active")
        last = f"{u.last_sign_in_at:%Y-%m-%d %H:%M}" if u.last_sign_in_at else "never"
        table.add_row(u.email, u.name or "", u.role, status, last)
    console.print(table)


@admin_app.command("password-link")
def password_link(
    email: str = typer.Argument(..., help="The address of their account"), actor: str | None = ACTOR
) -> None:
    """A new one-time link for someone to choose a password (a lost invitation, a forgotten password)."""
    from campaigns.errors import NotFound
    from campaigns.team.accounts import find_user, new_invitation

    with get_session_factory().begin() as s:
        user = find_user(s, email)
        if user is None:
            raise NotFound("no staff account with that address", cli_hint="`outreach admin users` lists them")
        token = new_invitation(s, user.id, now(), actor=acting_as(actor))
    typer.echo(f"{get_settings().base_url}/admin/welcome/{token}")


@admin_app.command("hash-password")
def hash_password() -> None:
    """Print an argon2 hash for OUTREACH_ADMIN_PASSWORD_HASH, the shared password that signs in a bootstrap owner
    until the first staff account exists (`outreach admin add-user` is the way on from there).

    Asks for the password twice (on the terminal, not echoed), or reads it from the first line of standard input
    when that is not a terminal. Only the hash goes to standard output, so `... > file` keeps just the hash.
    """
    from argon2 import PasswordHasher

    password = _read_password("Admin password")
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"admin password: use at least {MIN_LENGTH} characters")
    typer.echo(PasswordHasher().hash(password))


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
