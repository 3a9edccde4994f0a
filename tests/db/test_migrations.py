"""The Alembic migrations build exactly the tables of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import bindparam, inspect, select, text

from campaigns.addresses import email_key
from campaigns.audience.signup import request_signup
from campaigns.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from campaigns.db.models import Base, Campaign, Delivery, SendBatch, UTCDateTime
from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery.suppression import is_suppressed
from campaigns.errors import ConfigError
from tests.builders import KEYS, TEST_ADDRESS_KEY


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


def _old_key(address: str) -> str:
    """The unkeyed fingerprint of before migration 0003."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def test_0003_rekeys_every_fingerprint_and_erased_people_stay_suppressed(db_url, tmp_path):
    """Issue 19, point 11: the fingerprint is keyed now; rows whose address is gone keep matching it."""
    upgrade(db_url, "0002")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO subscribers (id, email, email_key, timezone, status, tags, created_at) VALUES "
                "(1, 'ann@example.com', :ann, 'UTC', 'active', '[]', :now), "
                "(2, NULL, 'erased-2', 'UTC', 'erased', '[]', :now)"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"ann": _old_key("ann@example.com"), "now": now},
        )
        c.execute(
            text(
                "INSERT INTO suppressions (email_key, reason, source, created_at) VALUES "
                "(:gone, 'erased', 'erasure', :now), (:ann, 'complaint', 'sendgrid', :now)"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"gone": _old_key("gone@example.com"), "ann": _old_key("ann@example.com"), "now": now},
        )
        c.execute(
            text(
                "INSERT INTO events (provider_event_id, kind, email_key, occurred_at, received_at, raw) "
                "VALUES ('e1', 'delivered', :ann, :now, :now, '{}')"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"ann": _old_key("ann@example.com"), "now": now},
        )
    with pytest.raises(RuntimeError, match="OUTREACH_ADDRESS_KEY"):
        upgrade(db_url)  # addresses to re-key, and no key to do it with: stops, changing nothing
    assert current_revision(db_url) == "0002"
    upgrade(db_url, address_key=TEST_ADDRESS_KEY)
    with engine.connect() as c:
        keys = {r[0]: r[1] for r in c.execute(text("SELECT id, email_key FROM subscribers"))}
        suppressed = set(c.execute(text("SELECT email_key FROM suppressions")).scalars())
        event_key = c.execute(text("SELECT email_key FROM events")).scalar_one()
    assert keys == {1: KEYS.of("ann@example.com"), 2: "erased-2"} and event_key == keys[1]
    assert suppressed == {KEYS.of("gone@example.com"), KEYS.of("ann@example.com")}
    assert _old_key("ann@example.com") not in suppressed  # nothing unkeyed left

    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    with factory.begin() as s:  # the erased address signs up again: still blocked, nothing stored
        s.add(Campaign(slug="drip", title="Drip", status="running", created_at=now))
        s.flush()
        result = request_signup(s, "Gone@Example.com", None, "UTC", "drip", None, now)
    assert (result.subscriber_id, result.send_to) == (None, None)
    with factory() as s:
        assert is_suppressed(s, "ann@example.com") and is_suppressed(s, "gone@example.com")
    with pytest.raises(ConfigError, match="another key"), make_session_factory(engine, "some-other-key-1234")() as s:
        email_key(s, "ann@example.com")  # a changed key would stop recognising everyone: refused
    engine.dispose()


def test_0009_puts_deliveries_in_flight_in_batches_and_each_is_sent_once(db_url, brand):
    """Issue 21: deliveries queued, claimed or in submission under per-delivery leases finish under send batches:
    the queued one and the dead claim go out once, the one in submission turns `unknown`, never sent again."""
    from campaigns.delivery import sending
    from campaigns.delivery import state as ds
    from campaigns.delivery import tick as drip
    from campaigns.delivery.providers.base import RecordingProvider
    from tests.builders import LINKS, NO_WAIT, START, Clock, enroll, make_campaign

    # Up to the revision(s) just before 0009.
    before = ScriptDirectory.from_config(alembic_config(db_url)).get_revision("0009").down_revision
    for revision in before if isinstance(before, tuple) else (before,):
        upgrade(db_url, revision)
    engine = make_engine(db_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    cid = make_campaign(factory, status="running")
    enroll(factory, cid, 4)
    lease = START + timedelta(minutes=5)
    with engine.begin() as c:
        enrollments = list(c.execute(text("SELECT id FROM enrollments ORDER BY id")).scalars())
        c.execute(text("UPDATE enrollments SET status = 'sending' WHERE id != :done"), {"done": enrollments[3]})
        for eid, status in zip(enrollments, ["queued", "sending", "submitting", "accepted"], strict=True):
            c.execute(
                text(
                    "INSERT INTO deliveries (enrollment_id, campaign_id, step_number, status, attempts, due_at, "
                    "lease_until, created_at, message_token) VALUES (:e, :c, 1, :s, :a, :at, :lease, :at, :t)"
                ).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("lease", type_=UTCDateTime())),
                {
                    "e": eid,
                    "c": cid,
                    "s": status,
                    "a": 0 if status == "queued" else 1,
                    "at": START,
                    "lease": None if status == "accepted" else lease,
                    "t": f"{eid:032x}",
                },
            )
    upgrade(db_url)
    with factory() as s:
        batches = s.execute(select(SendBatch.id, SendBatch.status, SendBatch.lease_until)).all()
        in_batch = dict(s.execute(select(Delivery.status, Delivery.batch_id)).all())
    assert [(status, at) for _, status, at in batches] == [("sending", lease)]
    assert in_batch == {
        "queued": batches[0][0],
        "sending": batches[0][0],
        "submitting": batches[0][0],
        "accepted": None,
    }

    assert drip.tick(factory, START, lambda ids: None).batches == 0  # the old lease still holds
    emitted: list[list[int]] = []
    report = drip.tick(factory, lease + timedelta(seconds=1), emitted.append)
    assert (report.requeued, report.unknown, report.queued) == (1, 1, 2)
    provider = RecordingProvider()
    for ids in emitted:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, Clock(lease), retry=NO_WAIT)
    assert sorted(r.email for b in provider.batches for r in b.recipients) == [
        "person0@example.com",
        "person1@example.com",
    ]
    with engine.connect() as c:
        statuses = sorted(c.execute(text("SELECT status FROM deliveries")).scalars())
        done = c.execute(text("SELECT status FROM send_batches")).scalars().all()
    assert statuses == sorted([ds.ACCEPTED, ds.ACCEPTED, ds.UNKNOWN, ds.ACCEPTED])
    assert done == [ds.BATCH_DONE]
    engine.dispose()
