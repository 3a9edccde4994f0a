"""The Alembic migrations build exactly the tables of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from campaigns.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from campaigns.db.models import Base
from campaigns.db.session import make_engine


def _diffs(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_the_models_schema_exactly(db_url):
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert _tables(db_url) == set(Base.metadata.tables) | {"alembic_version"}
    # A model change without its migration (or a migration that drifts from the models) shows up here.
    assert _diffs(db_url) == []


def test_upgrade_twice_changes_nothing(db_url):
    upgrade(db_url)
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    assert _diffs(db_url) == []


def test_downgrade_to_base_removes_every_table(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
    finally:
        engine.dispose()
    assert _tables(db_url) == {"alembic_version"}
    upgrade(db_url)  # and back up again from nothing
    assert _diffs(db_url) == []
