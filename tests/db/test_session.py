"""Engines and sessions: SQLite pragmas, foreign keys and UTC times on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from campaigns.db.models import Campaign, Enrollment
from campaigns.db.session import SQLITE_BUSY_TIMEOUT_MS, make_engine, transaction


def test_sqlite_engine_creates_its_folder_and_sets_pragmas(tmp_path):
    path = tmp_path / "nested" / "deeper" / "o.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()
    assert path.exists()


def test_plain_postgresql_url_uses_psycopg_3():
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/nothing")  # no connection is made here
    assert engine.dialect.driver == "psycopg"


def _campaign(now: datetime) -> Campaign:
    return Campaign(
        slug="c-one",
        title="C",
        status="draft",
        created_at=now,
        window_days=[0, 1, 2, 3, 4],
        window_start_hour=9,
        window_end_hour=17,
        track_opens=False,
        track_clicks=False,
        current_version=1,
    )


def test_foreign_keys_are_enforced(session_factory, now):
    with pytest.raises(IntegrityError), session_factory.begin() as s:
        s.add(Enrollment(campaign_id=999, subscriber_id=999, next_step=1, status="active", enrolled_at=now))


def test_times_come_back_timezone_aware_utc(session_factory):
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with session_factory.begin() as s:
        s.add(_campaign(at))
    with session_factory() as s:
        back = s.scalar(select(Campaign.created_at))
    assert back == at and back.utcoffset() is not None


def test_naive_times_are_refused(session_factory):
    with pytest.raises(StatementError, match="naive datetime"), session_factory.begin() as s:
        s.add(_campaign(datetime(2026, 1, 1)))


def test_transaction_rolls_back_on_error(session_factory, now):
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        s.add(_campaign(now))
        s.flush()
        raise RuntimeError("boom")
    with transaction(session_factory) as s:
        assert s.scalar(select(Campaign.id)) is None
        s.add(_campaign(now))
    with session_factory() as s:
        assert s.scalar(select(Campaign.slug)) == "c-one"
