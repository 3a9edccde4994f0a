"""Schema migrations (Alembic), run from code: the scripts live in campaigns/db/migrations/ and ship with the package.

No alembic.ini is needed; to write a new migration after changing models.py:
    .venv/bin/python -m campaigns.db.migrate revision "what changed"
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from campaigns.db.session import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config built in code: scripts inside the package, the database from `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser reads % as interpolation
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (the newest by default); creates a SQLite file if missing."""
    cfg = alembic_config(url)
    engine = make_engine(url)  # our engine, so SQLite gets its folder and pragmas as in normal use
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None before the first migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision among the shipped migration scripts."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def _revision(url: str, message: str) -> None:
    """Autogenerate a new migration script by comparing models.py with the database at `url` (migrated first)."""
    upgrade(url)
    cfg = alembic_config(url)
    number = len(list(ScriptDirectory.from_config(cfg).walk_revisions())) + 1  # 0001, 0002, ...: reads in order
    command.revision(cfg, message=message, autogenerate=True, rev_id=f"{number:04d}")


if __name__ == "__main__":  # developer tool, see the module docstring
    if len(sys.argv) < 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m campaigns.db.migrate revision "message" [DATABASE_URL]')
    _revision(sys.argv[3] if len(sys.argv) > 3 else "sqlite:///var/migrations-scratch.db", sys.argv[2])
