"""`outreach db upgrade`: migrate the configured database (OUTREACH_DATABASE_URL) to the newest schema."""

from __future__ import annotations

import typer

from outreach.bootstrap import get_settings

db_app = typer.Typer(no_args_is_help=True, help="The database: schema migrations.")


@db_app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the tables of OUTREACH_DATABASE_URL (default: a SQLite file under var/)."""
    from campaigns.db.migrate import current_revision, shown_url
    from campaigns.db.migrate import upgrade as run_upgrade

    url = get_settings().database_url
    before = current_revision(url)
    run_upgrade(url)
    after = current_revision(url)
    change = "already up to date" if before == after else f"migrated {before or 'empty'} -> {after}"
    typer.echo(f"database {shown_url(url)}: {change} (revision {after})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
