"""Shared fixtures: a real database of each kind, sessions on it, settings and brand pointing at it.

    db_url           an EMPTY database, once as SQLite (a file in tmp_path) and once as PostgreSQL (a fresh schema,
                     named in the URL's search_path, in a throwaway database `outreach_test_<random>` made once per
                     test process, so once per xdist worker, and dropped at its end). Tests using it run twice:
                     test_x[sqlite], test_x[postgresql]. The server is the machine's on 127.0.0.1:5432 when it lets
                     user postgres in, else a throwaway cluster of the run's own (tests/postgres.py).
    session_factory  sessionmaker on db_url, migrated to the newest schema: a copy of a database that
                     campaigns.db.migrate.upgrade migrated once per test process (`migrated`).
    settings         Settings with database_url=db_url and outbox_dir in tmp_path.
    brand            the Brand from settings.brand_file.
    now              a fixed, timezone-aware UTC time for tests that need "now".
    redis_server     a redis-server of the test's own on a free port (tests.servers.RedisServer), stopped after.
    chromium         the path of Debian's chromium (browser tests use it through tests.browser.needs_chromium).

A missing system part (PostgreSQL, redis-server, chromium) skips the tests that need it, saying how to install it,
and fails them under CI=true (tests.parts.require_part).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.brand import Brand, load_brand
from campaigns.settings import Settings, load_settings
from tests.builders import TEST_ADDRESS_KEY
from tests.parts import CHROMIUM, require_part
from tests.postgres import admin_dsn, choose_server, why_not
from tests.servers import RedisServer, redis_binary

# Every Settings of the run, and every process the tests start, use the test databases' address key.
os.environ["OUTREACH_ADDRESS_KEY"] = TEST_ADDRESS_KEY

# Chosen when this module is first imported, before any test (and before xdist starts its workers, which inherit it).
PG_PORT, _PG_PROBLEM = choose_server()
PG_ADMIN = admin_dsn(PG_PORT)
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{{name}}"


@lru_cache(maxsize=1)
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL can't be used, or None when it can (asked once per test process)."""
    return _PG_PROBLEM or why_not(PG_PORT)


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """One throwaway PostgreSQL database per test process; each test gets its own schema in it (see db_url)."""
    reason = _postgres_unreachable()
    if reason:
        require_part("postgresql", reason)
    import psycopg

    name = f"outreach_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            # FORCE: a test that failed midway (or a worker it started) may still hold a connection
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database URL, per test; see the module docstring."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'outreach.db'}"
        return
    import psycopg

    database = request.getfixturevalue("_postgres_database")
    # A fresh schema per test, put first on the search path by the URL: as empty as a new database (Alembic's
    # version table lands there too), but ~10 ms to make instead of ~400 ms for CREATE DATABASE here.
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield PG_URL.format(name=database) + f"?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def migrated(db_url: str) -> None:
    """Bring the empty database at db_url to the newest schema, as campaigns.db.migrate.upgrade would.

    Running every migration per test cost ~0.1-0.25 s of CPU per test (SQLite's batch table rebuilds, Alembic's
    machinery), a third of many tests' time; instead the migrations run once per test process, into a template
    that each test copies: a file copy on SQLite, one script (pg_dump of the template schema) on PostgreSQL."""
    from campaigns.db.migrate import upgrade

    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), target)
        return
    database = urlsplit(db_url).path.lstrip("/")
    schema = parse_qs(urlsplit(db_url).query)["options"][0].removeprefix("-csearch_path=")
    script = _postgres_template(database)
    if script is None:  # no pg_dump here: migrate this schema itself
        upgrade(db_url)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"), autocommit=True) as conn:
        conn.execute(script.replace(_TEMPLATE_SCHEMA, schema))


_TEMPLATE_SCHEMA = f"template_{secrets.token_hex(8)}"  # a name that occurs nowhere else in the dump


@cache
def _sqlite_template() -> Path:
    from campaigns.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="outreach-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "outreach.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:  # everything in the main file, so that copying it copies the database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@cache
def _postgres_template(database: str) -> str | None:
    """The newest schema as one SQL script (schema and rows, e.g. Alembic's version), or None without pg_dump."""
    from campaigns.db.migrate import upgrade

    pg_dump = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None)
    if pg_dump is None:
        return None
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{_TEMPLATE_SCHEMA}"')
    upgrade(PG_URL.format(name=database) + f"?options=-csearch_path%3D{_TEMPLATE_SCHEMA}")
    dump = subprocess.run(
        [str(pg_dump), "--host=127.0.0.1", f"--port={PG_PORT}", "--username=postgres", f"--schema={_TEMPLATE_SCHEMA}",
         "--no-owner", "--no-privileges", "--inserts", database],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # The test's schema exists already (db_url made it): everything but the dump's own CREATE SCHEMA, and but psql's
    # meta-commands (`\restrict KEY` in newer pg_dump releases), which the server would not understand.
    lines = dump.replace(f"CREATE SCHEMA {_TEMPLATE_SCHEMA};", "").splitlines()
    return "\n".join(line for line in lines if not line.startswith("\\"))


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on db_url after migrating it to head; use `with session_factory.begin() as s:`."""
    from campaigns.db.session import make_engine, make_session_factory

    migrated(db_url)
    engine = make_engine(db_url)
    try:
        yield make_session_factory(engine, TEST_ADDRESS_KEY)
    finally:
        engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path) -> Settings:
    """Settings on the test database, with the outbox in tmp_path/outbox."""
    return load_settings(database_url=db_url, outbox_dir=tmp_path / "outbox")


@pytest.fixture
def brand(settings: Settings) -> Brand:
    return load_brand(settings.brand_file)


@pytest.fixture
def now() -> datetime:
    """A fixed UTC time (a Monday), so tests do not depend on the wall clock."""
    return datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free port; skipped only when the binary is absent."""
    if redis_binary() is None:
        require_part("redis-server", "redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, which Playwright drives by path (never `playwright install`: this network is closed)."""
    if not CHROMIUM.exists():
        require_part("chromium", f"Debian's chromium is not installed at {CHROMIUM}")
    return CHROMIUM


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests (processes, a browser) first: xdist hands tests out one at a time (--maxschedchunk 1 in
    pyproject.toml), so these start at once side by side instead of queueing on one worker at the end."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("browser")))
