"""A throwaway database for one run: the seed article as a campaign (compiled once), and N generated subscribers
enrolled in it, written by SQL (generate_series on PostgreSQL, a recursive CTE on SQLite)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, bindparam, make_url, text

from campaigns.addresses import AddressKey
from campaigns.brand import Brand
from campaigns.db.migrate import upgrade
from campaigns.db.models import Campaign, UTCDateTime
from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery.tick import plan_first_emails, prepare_first_emails
from campaigns.management.lifecycle import create_campaign
from outreach.demo import SEED
from tests.postgres import admin_dsn

ZONES = ("America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/London", "UTC")
SLUG = "bench"
BATCH_SIZE = 1000  # the product's default (OUTREACH_BATCH_SIZE), which the bench's workers run with

# The bench's keys: real sending refuses weak ones, and they are fixed so that a kept database can be measured again.
SECRET_KEY = "bench-signing-key-Qm4Zr8Tx2Lp6Wv9Ks3Nd7Hy1Fc5Jb0"
ADDRESS_KEY = "bench-address-key-Vq7Xz2Lm9Tp4Rk8Wn3Yb6Hc1"


def create_database(kind: str, workdir: Path, pg_port: int | None = None) -> str:
    """A new, empty database (PostgreSQL's on 127.0.0.1:`pg_port`); returns its URL."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"outreach_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn(pg_port), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}"


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        with psycopg.connect(admin_dsn(parsed.port), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def prepare(url: str, size: int, brand: Brand) -> int:
    """Migrate, create the campaign from the seed article (a draft), enrol `size` new subscribers; the campaign id."""
    upgrade(url)
    engine = make_engine(url)
    try:
        created = datetime.now(UTC) - timedelta(days=1)
        with make_session_factory(engine, ADDRESS_KEY).begin() as s:
            campaign_id = create_campaign(s, SEED, SLUG, brand, created, actor="bench").id
        _subscribers(engine, size, created)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO enrollments (campaign_id, subscriber_id, next_step, status, enrolled_at) "
                    "SELECT :cid, id, 1, 'active', :at FROM subscribers"
                ).bindparams(bindparam("at", type_=UTCDateTime())),
                {"cid": campaign_id, "at": created},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            if engine.dialect.name == "postgresql":
                # A list imported long before its campaign starts: autovacuum has vacuumed and analysed it (hint
                # bits set, visibility map current), and a checkpoint has written the import out, so none of that
                # work lands inside the measured run.
                c.execute(text("VACUUM ANALYZE"))
                c.execute(text("CHECKPOINT"))
            else:
                c.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return campaign_id


def _subscribers(engine: Engine, size: int, created: datetime) -> None:
    zones = ", ".join(f"'{z}'" for z in ZONES)
    if engine.dialect.name == "postgresql":
        sql = f"""
            INSERT INTO subscribers (email, email_key, name, timezone, status, created_at)
            SELECT e, encode(sha256(:outer || sha256(:inner || convert_to(encode(sha256(convert_to(e, 'UTF8')), 'hex'),
                   'UTF8'))), 'hex'), 'Person ' || g, (ARRAY[{zones}])[1 + g % 5], 'active', :at
            FROM (SELECT g, 'person' || g || '@bench.example.com' AS e FROM generate_series(1, :n) AS g) AS gen"""
    else:
        sql = f"""
            WITH RECURSIVE gen(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM gen WHERE g < :n)
            INSERT INTO subscribers (email, email_key, name, timezone, status, created_at)
            SELECT 'person' || g || '@bench.example.com', address_key('person' || g || '@bench.example.com'),
                   'Person ' || g, json_extract(json_array({zones}), '$[' || (g % 5) || ']'), 'active', :at
            FROM gen"""
    # The keyed fingerprint of campaigns.addresses (HMAC-SHA256 over the SHA-256), written out for PostgreSQL's
    # sha256() with HMAC's padded keys (RFC 2104).
    key = ADDRESS_KEY.encode().ljust(64, b"\0")
    params = {"n": size, "at": created}
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            keys = AddressKey(ADDRESS_KEY)
            c.connection.driver_connection.create_function("address_key", 1, keys.of, deterministic=True)
        else:
            params |= {"inner": bytes(b ^ 0x36 for b in key), "outer": bytes(b ^ 0x5C for b in key)}
        c.execute(text(sql).bindparams(bindparam("at", type_=UTCDateTime())), params)


def schedule_campaign(url: str, campaign_id: int, at: datetime, *, prepare: bool = True) -> int:
    """Schedule the campaign to start at `at`, sending at any hour, and plan its first emails as the product does
    when staff schedule a campaign (campaigns.delivery.tick.plan_first_emails): every first email is due at `at`.
    With `prepare`, then create them as the tick does while a campaign is scheduled (prepare_first_emails); the
    number prepared (the naive baseline, which makes its own rows, prepares nothing)."""
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine, ADDRESS_KEY)
        with factory.begin() as s:
            campaign = s.get_one(Campaign, campaign_id)
            campaign.status, campaign.start_at = "scheduled", at
            campaign.window_days, campaign.window_start_hour, campaign.window_end_hour = list(range(7)), 0, 24
            s.flush()
            plan_first_emails(s, campaign)
        return prepare_first_emails(factory, datetime.now(UTC), batch_size=BATCH_SIZE) if prepare else 0
    finally:
        engine.dispose()


def settle(url: str) -> None:
    """What a database has done by a campaign's start in real life, long after its planning and preparation: the
    new rows vacuumed (autovacuum), analysed and written out (a checkpoint)."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE enrollments, deliveries, send_batches"))
                c.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()
