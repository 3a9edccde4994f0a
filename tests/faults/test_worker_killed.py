"""kill -9 a Celery worker in the middle of a batch: nothing that reached SendGrid is sent again, nothing that did
not is lost.

The SendGrid server is told to hang on a request after recording its emails (`deliver=True`): the worst case, where
SendGrid queued the mail and only the answer was lost with the worker. Those deliveries are in `submitting` when the
worker dies; from there nobody can know whether they left, so once SEND_LEASE runs out the tick makes them `unknown`
(settled later by SendGrid's events, see test_provider_faults) and moves their enrollments on. They are never sent
again. Batches that never reached the server wait in the Redis queue (prefetch 1 with late acks: a worker holds
only the messages it is running) and the next worker sends them. (A batch whose message is lost altogether is found
again by the tick once QUEUE_LEASE runs out: test_broker_restart.)
"""

from __future__ import annotations

import logging
import signal

import psutil
import pytest

from tests.faults.conftest import AFTER_LEASES, Rig
from tests.servers import wait_until

pytestmark = pytest.mark.slow

N, BATCH = 100, 25


def _hung_requests(rig: Rig) -> int:
    return rig.sendgrid.statuses().count(0)


def test_whole_worker_killed_mid_request(pg_rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="campaigns")
    rig = pg_rig
    rig.populate(N)
    rig.sendgrid.fault("hang", 2, seconds=120, deliver=True)  # both processes stuck inside a request
    first = rig.worker("first", concurrency=2)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    wait_until(
        lambda: _hung_requests(rig) == 2 and rig.count("submitting") == 2 * BATCH,
        timeout=60,
        what="two batches inside a hung request",
    )
    first.stop(signal.SIGKILL)  # the whole process group: main process and both pool children

    second = rig.worker("second", concurrency=2)
    wait_until(lambda: rig.count("accepted") == N - 2 * BATCH, timeout=60, what="the batches left in the queue")
    assert rig.statuses()["submitting"] == 2 * BATCH
    # Before the leases run out nothing is handed out again: a slow worker is not a dead one.
    early = rig.tick(batch_size=BATCH)
    assert (early.batches, early.unknown, early.requeued) == (0, 0, 0)

    late = rig.tick(AFTER_LEASES, batch_size=BATCH)
    # The two batches that reached SendGrid are now unknown, never re-sent; their enrollments moved on.
    assert late.unknown == 2 * BATCH
    assert late.batches == 0
    assert rig.statuses() == {"accepted": N - 2 * BATCH, "unknown": 2 * BATCH}
    assert rig.next_steps() == {2: N}
    rig.assert_each_sent_once()
    # The unknown ones are exactly those SendGrid took in the two requests whose answer died with the worker.
    answered = {d.provider_message_id for d in rig.deliveries() if d.provider_message_id}
    lost = {int(row["custom_args"]["delivery_id"]) for row in rig.sendgrid.sent() if row["message_id"] not in answered}
    assert lost == {d.id for d in rig.deliveries() if d.status == "unknown"}
    assert "sent batch of 25: 25 accepted" in second.log_text()
    assert f"{2 * BATCH} deliveries left in submission by a dead worker are now 'unknown'" in caplog.text


def test_pool_child_killed_mid_request(pg_rig: Rig) -> None:
    rig = pg_rig
    rig.populate(N)
    rig.sendgrid.fault("hang", 1, seconds=120, deliver=True)
    worker = rig.worker("worker", concurrency=1)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    wait_until(
        lambda: _hung_requests(rig) == 1 and rig.count("submitting") == BATCH,
        timeout=60,
        what="a batch inside a hung request",
    )
    children = psutil.Process(worker.proc.pid).children()
    assert len(children) == 1
    children[0].send_signal(signal.SIGKILL)  # only the pool process running the task; the main process lives on

    # task_reject_on_worker_lost puts the task back; a new pool child runs it again and finds nothing `queued` to
    # claim (the batch is `submitting`), so the repeat sends nothing. The other batches go out as usual.
    wait_until(lambda: rig.count("accepted") == N - BATCH, timeout=60, what="the other batches")
    wait_until(
        lambda: worker.log_text().count("succeeded") >= N // BATCH, timeout=30, what="the killed task to run again"
    )
    log = worker.log_text()
    assert "WorkerLostError" in log and "signal 9" in log
    assert "{'accepted': 0, 'failed': 0, 'unknown': 0, 'skipped': 0}" in log  # the redelivered task: a no-op

    late = rig.tick(AFTER_LEASES, batch_size=BATCH)
    assert (late.unknown, late.batches) == (BATCH, 0)
    assert rig.statuses() == {"accepted": N - BATCH, "unknown": BATCH}
    assert rig.next_steps() == {2: N}
    rig.assert_each_sent_once()
