"""The tick on more than one machine at once: two ticks racing on PostgreSQL over the same due set create each
delivery once and hand each one out in exactly one batch (row locks with SKIP LOCKED, then a queue lease).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from campaigns.brand import load_brand
from campaigns.db.migrate import upgrade
from campaigns.db.models import Delivery, Enrollment, SendBatch, Subscriber
from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.sending import send_deliveries
from campaigns.settings import load_settings
from tests.builders import KEYS, LINKS, NO_WAIT, TEST_ADDRESS_KEY, make_campaign

ROUNDS, NEW_PER_ROUND = 12, 100

# A schema of the test process's database (tests/conftest.py), not a database of the test's own: dropping a database
# forces a checkpoint, which took 6-7 s a test while the rest of the suite was writing.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def pg_url(db_url: str) -> str:
    return db_url


def _enroll(factory, campaign_id: int, first: int, n: int, at: datetime) -> None:
    with factory.begin() as s:
        subs = [
            Subscriber(
                email=f"p{i}@example.com",
                email_key=KEYS.of(f"p{i}@example.com"),
                name=None,
                timezone="UTC",
                status="active",
                created_at=at,
            )
            for i in range(first, first + n)
        ]
        s.add_all(subs)
        s.flush()
        s.add_all(Enrollment(campaign_id=campaign_id, subscriber_id=x.id, enrolled_at=at) for x in subs)


def _race(factory, now: datetime) -> tuple[list[list[int]], list[drip.TickReport]]:
    """Two ticks started together (as if on two machines); returns the batches each emitted and their reports."""
    start = threading.Barrier(2)
    emitted: list[list[int]] = [[], []]
    reports: list[drip.TickReport | None] = [None, None]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            reports[i] = drip.tick(factory, now, emitted[i].extend, batch_size=40, page=60)
        except BaseException as err:  # reported by the test thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return emitted, reports  # type: ignore[return-value]


def test_two_ticks_racing_create_and_hand_out_each_delivery_once(pg_url: str) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    base = datetime.now(UTC)
    campaign_id = make_campaign(factory, start=base - timedelta(hours=1))
    try:
        for r in range(ROUNDS):
            # New subscribers become due, and every delivery still queued from earlier rounds has a lapsed queue
            # lease (nobody sends here), so each round both creates and re-hands out, racing on all of it.
            _enroll(factory, campaign_id, r * NEW_PER_ROUND, NEW_PER_ROUND, base - timedelta(hours=1))
            now = base + r * (ds.QUEUE_LEASE + timedelta(seconds=1))
            (a, b), reports = _race(factory, now)
            with factory() as s:
                per_enrollment = s.execute(
                    select(Delivery.enrollment_id, func.count()).group_by(Delivery.enrollment_id)
                ).all()
                queued = set(s.scalars(select(Delivery.id).where(Delivery.status == "queued")))
            assert len(per_enrollment) == (r + 1) * NEW_PER_ROUND, f"round {r}"
            assert {n for _, n in per_enrollment} == {1}, f"round {r}: a delivery created twice"
            assert len(a) == len(set(a)) and len(b) == len(set(b)), f"round {r}: an id twice in one tick"
            assert not set(a) & set(b), f"round {r}: handed out by both ticks: {sorted(set(a) & set(b))[:10]}"
            assert set(a) | set(b) == queued, f"round {r}: a queued delivery was not handed out"
            assert sum(x.created for x in reports) == NEW_PER_ROUND, f"round {r}: {reports}"
    finally:
        engine.dispose()


def test_a_slow_tick_leaves_alone_what_a_fast_one_sent_meanwhile(pg_url: str) -> None:
    """Tick B reads the due set, then stalls (a slow machine); tick A creates, hands out and the batch is sent, which
    moves each enrollment on to step 2. When B wakes up its inserts are no-ops, and it must not touch the enrollments
    it read as due: marking them `sending` again would leave them at step 2 with no delivery, stalled for good."""
    upgrade(pg_url)
    engine = make_engine(pg_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    base = datetime.now(UTC)
    campaign_id = make_campaign(factory, start=base - timedelta(hours=1))
    _enroll(factory, campaign_id, 0, 50, base - timedelta(hours=1))
    go_on = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def stall_b(conn, cursor, statement, params, context, executemany) -> None:
        if threading.current_thread().name == "tick-b" and statement.startswith("INSERT INTO deliveries"):
            go_on.wait(30)

    b_emitted: list[int] = []
    b = threading.Thread(target=lambda: drip.tick(factory, base, b_emitted.extend), name="tick-b")
    try:
        b.start()
        a_emitted: list[list[int]] = []
        # Tick A may have to wait for B's first, quick transactions; then it does everything B is about to.
        report = drip.tick(factory, base, a_emitted.append)
        assert report.created == 50
        brand = load_brand(load_settings().brand_file)
        for ids in a_emitted:
            send_deliveries(factory, RecordingProvider(), LINKS, brand, ids, lambda: base, retry=NO_WAIT)
        with factory() as s:
            assert set(s.execute(select(Enrollment.status, Enrollment.next_step))) == {("active", 2)}
    finally:
        go_on.set()
        b.join(30)
    try:
        assert b_emitted == []
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Delivery)) == 50
            stalled = s.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.status != "active"))
        assert stalled == 0, f"{stalled} enrollments marked `sending` at step 2 with no delivery: stalled for good"
        # And the next step is created when due, for everyone.
        assert drip.tick(factory, base + timedelta(days=2), lambda ids: None).created == 50
    finally:
        engine.dispose()


def test_two_ticks_racing_before_the_start_prepare_each_email_once_and_at_it_hand_each_out_once(pg_url: str) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    base = datetime.now(UTC)
    start = base + timedelta(hours=1)
    campaign_id = make_campaign(factory, start=start)
    try:
        _enroll(factory, campaign_id, 0, 5 * NEW_PER_ROUND, base - timedelta(hours=1))
        emitted, reports = _race(factory, base)
        assert emitted == [[], []] and sum(r.prepared for r in reports) == 5 * NEW_PER_ROUND, reports
        with factory() as s:
            per_enrollment = s.execute(select(Delivery.enrollment_id, func.count()).group_by(Delivery.enrollment_id))
            assert {n for _, n in per_enrollment} == {1}
            held = s.execute(
                select(SendBatch.status, func.count(Delivery.id))
                .outerjoin(Delivery, Delivery.batch_id == SendBatch.id)
                .group_by(SendBatch.id)
            ).all()
            everyone = set(s.scalars(select(Delivery.id)))
        assert {status for status, _ in held} == {ds.BATCH_HELD} and min(n for _, n in held) > 0  # none empty
        assert len(everyone) == 5 * NEW_PER_ROUND
        (a, b), reports = _race(factory, start)
        assert sum(r.created for r in reports) == 0
        assert len(a) + len(b) == len(set(a) | set(b)) == len(everyone), "a prepared email handed out twice"
        assert set(a) | set(b) == everyone
    finally:
        engine.dispose()
