"""Alembic environment: run by campaigns.db.migrate with a connection (or a URL) given in code."""

from __future__ import annotations

from alembic import context

from campaigns.db.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj, autogen_context):
    # Migration scripts must not import models.py (it changes over time): UTCDateTime is stored as a
    # timezone-aware DATETIME / TIMESTAMPTZ, so write it as that.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER most things: copy-and-move
        compare_type=True,
        render_item=render_item,
    )


def run_offline() -> None:
    """Emit SQL to stdout (alembic --sql) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # given by campaigns.db.migrate.upgrade, inside its transaction
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from campaigns.db.session import make_engine
    from campaigns.errors import ConfigError

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise ConfigError("the migrations were started without a database URL (use `outreach db upgrade`)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
