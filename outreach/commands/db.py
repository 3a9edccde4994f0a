"""`outreach db upgrade`: migrate the configured database (OUTREACH_DATABASE_URL) to the newest schema."""

from __future__ import annotations

import typer

from campaigns.errors import ConfigError
from campaigns.settings import DEV_ADDRESS_KEY, MAKE_A_SECRET, secret_problem
from outreach.bootstrap import get_settings

db_app = typer.Typer(no_args_is_help=True, help="The database: schema migrations.")


@db_app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the tables of OUTREACH_DATABASE_URL (default: a SQLite file under var/)."""
    from campaigns.db.migrate import current_revision, shown_url
    from campaigns.db.migrate import upgrade as run_upgrade

    settings = get_settings()
    problem = secret_problem(settings.address_key, DEV_ADDRESS_KEY)
    if problem and not settings.is_local:
        # Migration 0003 keys the stored fingerprints with it, for good: a public key would key them for anyone.
        raise ConfigError(
            f"setting OUTREACH_ADDRESS_KEY: {problem}; a database behind {settings.base_url} is keyed with it for "
            f"good (make one with: {MAKE_A_SECRET})"
        )
    url = settings.database_url
    before = current_revision(url)
    run_upgrade(url, address_key=settings.address_key)  # the key migration 0003 re-keys stored addresses with
    after = current_revision(url)
    change = "already up to date" if before == after else f"migrated {before or 'empty'} -> {after}"
    typer.echo(f"database {shown_url(url)}: {change} (revision {after})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
