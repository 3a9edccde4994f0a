"""Schema migrations (Alembic), run from code: the scripts live in campaigns/db/migrations/ and ship with the package.

No alembic.ini is needed; to write a new migration after changing models.py:
    .venv/bin/python -m campaigns.db.migrate revision "what changed"
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from campaigns.db.session import make_engine
from campaigns.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config built in code: scripts inside the package, the database from `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser reads % as interpolation
    return cfg


def upgrade(url: str, revision: str = "head", *, address_key: str | None = None) -> None:
    """Migrate the database at `url` to `revision` (the newest by default); creates a SQLite file if missing.

    `address_key` (OUTREACH_ADDRESS_KEY) is what migration 0003 re-keys stored address fingerprints with; a
    database that holds addresses cannot pass it without one (it stops, naming the setting)."""
    cfg = alembic_config(url)
    cfg.attributes["address_key"] = address_key
    engine = make_engine(url)  # our engine, so SQLite gets its folder and pragmas as in normal use
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None before the first migration; ConfigError when the
    database cannot be opened at all (no server, no such database, wrong password)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as err:
        lines = str(err.orig).strip().splitlines()
        reason = lines[0] if lines else type(err.orig).__name__
        raise ConfigError(f"cannot open the database {shown_url(url)} (OUTREACH_DATABASE_URL): {reason}") from None
    finally:
        engine.dispose()


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision among the shipped migration scripts."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    return frozenset(r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions())


def shown_url(url: str) -> str:
    """The URL without its password, fit to print."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_schema(url: str, say: Callable[[str], None], *, address_key: str | None = None) -> None:
    """Make sure the database at `url` has the tables this version needs, before anything reads it.

    A SQLite file is local and has one user: an empty or older one is migrated here, and `say` gets one line saying
    so. PostgreSQL is shared, and several processes (web, workers, beat) may start at once, so it is never migrated
    behind the operator's back: ConfigError names `outreach db upgrade`. A database newer than this code is refused.
    """
    head, current = head_revision(), current_revision(url)
    if current == head:
        return
    if current is not None and current not in known_revisions():
        raise ConfigError(
            f"the database {shown_url(url)} is at revision {current}, which this version of Outreach does not know "
            f"(its newest is {head}): run the newer version, or point OUTREACH_DATABASE_URL elsewhere"
        )
    if make_url(url).get_backend_name() != "sqlite":
        state = "has no tables yet" if current is None else f"is at revision {current}, this version needs {head}"
        raise ConfigError(f"the database {shown_url(url)} {state}", cli_hint="run `outreach db upgrade` first")
    try:
        upgrade(url, address_key=address_key)
    except DBAPIError:
        # Another process starting at the same moment may have migrated it first: fine if it is done now.
        if current_revision(url) != head:
            raise
        return
    done = "created the tables" if current is None else f"migrated it from revision {current}"
    say(f"database {shown_url(url)} was {'empty' if current is None else 'older'}: {done} (revision {head})")


def missing_schema(exc: BaseException) -> bool:
    """Whether a database error means the tables are not there (the database was never migrated)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    # PostgreSQL: SQLSTATE 42P01 undefined_table; SQLite has no codes, only the message.
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig)


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
