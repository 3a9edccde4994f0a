"""Engines and sessions for SQLite (the default, a file under var/) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from campaigns.addresses import ADDRESS_KEY_INFO, AddressKey
from campaigns.errors import ConfigError


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its folder made, and foreign keys, WAL and a busy timeout per connection."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2, which we do not install
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigError(
                f"setting OUTREACH_DATABASE_URL: use postgresql+psycopg:// (psycopg 3), not {parsed.drivername}"
            )
        # No server-side prepared statements: psycopg prepares a query after 5 runs and PostgreSQL may then keep a
        # generic plan made while a table was small (an `IN (...)` of 5,000 keys turned into a 20 s scan once the
        # subscribers table had grown). It also keeps the app usable behind PgBouncer in transaction mode.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    raise ConfigError(f"setting OUTREACH_DATABASE_URL: unsupported database {parsed.drivername!r}")


# SQLite has one writer at a time: a second writer (another worker process, the tick) waits this long for the lock
# before failing with "database is locked". Generous, because a failed claim only comes back after its lease.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite leaves foreign keys off unless asked per connection; WAL lets the web app read while a worker writes,
    # and the busy timeout makes a second writer wait instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_session_factory(engine: Engine, address_key: AddressKey | str) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so results can be used once the transaction is over. They carry
    the database's address key (an AddressKey, or OUTREACH_ADDRESS_KEY's value): the fingerprints stored in one
    database are made with one key, so the key travels with the sessions on it."""
    key = AddressKey(address_key) if isinstance(address_key, str) else address_key
    return sessionmaker(engine, expire_on_commit=False, info={ADDRESS_KEY_INFO: key})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error, always closes."""
    with factory.begin() as session:
        yield session
