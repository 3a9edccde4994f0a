"""The database unavailable for a few seconds while workers send: tasks fail (or wait), nothing is sent twice, and
what a failed task leaves behind (a `sending` claim, a batch still `queued`) is taken up again by the tick once the
leases run out.
"""

from __future__ import annotations

import sqlite3
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from campaigns.db.session import SQLITE_BUSY_TIMEOUT_MS
from tests.conftest import PG_ADMIN
from tests.faults.conftest import AFTER_LEASES, Rig, pg_admin
from tests.servers import wait_until

pytestmark = pytest.mark.slow

N, BATCH = 100, 25


def test_postgresql_down_between_claim_and_send(pg_rig: Rig) -> None:
    rig = pg_rig
    rig.populate(N)
    database = make_url(rig.db_url).database
    assert rig.tick(batch_size=BATCH).batches == N // BATCH  # the batches wait in Redis: no worker yet

    # Hold the worker just after its claim: the claim touches only `deliveries`, the next query reads `subscribers`,
    # which this transaction locks. Then the database goes away under it.
    blocker = psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"))
    blocker.execute("LOCK TABLE subscribers IN ACCESS EXCLUSIVE MODE")
    worker = rig.worker("worker", concurrency=1)
    wait_until(lambda: rig.count("sending") == BATCH, timeout=30, what="a batch claimed")
    # And its next query waiting on the lock (on a busy machine it may not have sent it yet when the claim shows).
    waiting = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND wait_event_type = 'Lock'"
    wait_until(lambda: pg_admin(waiting)[0][0] == 1, timeout=30, what="the worker waiting for `subscribers`")
    pg_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    blocker.close()
    # While it is closed, the worker's other batches fail at once: it cannot connect.
    wait_until(
        lambda: worker.log_text().count("raised unexpected") == N // BATCH, timeout=30, what="every task to fail"
    )
    time.sleep(2)
    pg_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')

    log = worker.log_text()
    assert "terminating connection due to administrator command" in log
    assert "is not currently accepting connections" in log
    assert rig.statuses() == {"sending": BATCH, "queued": N - BATCH}  # the failed claim is still held, nothing sent
    assert rig.sendgrid.statuses() == []
    assert rig.tick(batch_size=BATCH).batches == 0  # leases hold until they run out

    late = rig.tick(AFTER_LEASES, batch_size=BATCH)
    assert late.requeued == BATCH  # the dead claim, back to `queued`
    assert late.queued == N
    wait_until(lambda: rig.count("accepted") == N, timeout=60, what="every delivery accepted")
    rig.assert_each_sent_once()
    assert rig.next_steps() == {2: N}
    # The interrupted claim counts one attempt more; none was sent twice.
    assert sorted(d.attempts for d in rig.deliveries()) == [1] * (N - BATCH) + [2] * BATCH


def test_postgresql_down_while_sendgrid_answers(pg_rig: Rig) -> None:
    """The worst moment: SendGrid took the batch but the database is gone when the worker writes down the answer.
    The worker keeps trying (well within the submission lease), so once the database is back the batch is recorded
    as accepted with its message id: neither `unknown` nor sent twice."""
    rig = pg_rig
    rig.populate(N)
    database = make_url(rig.db_url).database
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    rig.sendgrid.fault("rate_limit", 1, retry_after=2)  # the first batch waits 2 s before its retry is accepted
    worker = rig.worker("worker", concurrency=1)
    wait_until(lambda: rig.sendgrid.statuses() == [429], timeout=30, what="the first batch at SendGrid")
    pg_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    wait_until(
        lambda: "database unavailable while recording a sent batch" in worker.log_text(),
        timeout=30,
        what="the worker to retry writing the answer",
    )
    assert rig.sendgrid.statuses() == [429, 202]  # SendGrid accepted the first batch...
    time.sleep(3)
    pg_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')

    wait_until(lambda: rig.count("accepted") == N, timeout=90, what="every delivery accepted")
    assert rig.statuses() == {"accepted": N}  # ...and its answer was written down once the DB was back
    assert all(d.provider_message_id for d in rig.deliveries())
    assert rig.tick(AFTER_LEASES, batch_size=BATCH).unknown == 0
    rig.assert_each_sent_once()
    assert rig.next_steps() == {2: N}


def test_sqlite_locked_for_longer_than_the_busy_timeout(rig_sqlite: Rig) -> None:
    rig = rig_sqlite
    rig.populate(N)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    # Another connection holds the write lock until a worker's claim has waited out SQLite's busy timeout and
    # failed with "database is locked"; then it lets go, and the next batch goes through.
    locker = sqlite3.connect(make_url(rig.db_url).database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        worker = rig.worker("worker", concurrency=1)
        wait_until(
            lambda: "database is locked" in worker.log_text(),
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000 + 30,
            what="a task to give up",
        )
    finally:
        locker.execute("COMMIT")
        locker.close()
    wait_until(lambda: rig.count("accepted") == N - BATCH, timeout=60, what="the other batches")
    assert rig.statuses() == {"accepted": N - BATCH, "queued": BATCH}  # the failed claim was rolled back
    assert rig.tick(batch_size=BATCH).batches == 0
    late = rig.tick(AFTER_LEASES, batch_size=BATCH)
    assert (late.queued, late.requeued) == (BATCH, 0)
    wait_until(lambda: rig.count("accepted") == N, timeout=60, what="every delivery accepted")
    rig.assert_each_sent_once()
    assert rig.next_steps() == {2: N}
