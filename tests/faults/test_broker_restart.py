"""Redis restarted while batches wait in it: every queued task is lost (no persistence), and the tick finds the
batches again once their QUEUE_LEASE runs out; the worker reconnects by itself and sends each email once.
"""

from __future__ import annotations

import pytest
import redis

from campaigns.delivery import state as ds
from tests.faults.conftest import Rig
from tests.servers import wait_until

pytestmark = pytest.mark.slow

N, BATCH = 150, 25


def test_batches_lost_with_redis_are_found_again(rig: Rig) -> None:
    rig.populate(N)
    broker = redis.Redis.from_url(rig.redis.url)
    # The first request is refused three times (429, Retry-After: 1), so the only worker process is busy retrying
    # its first batch while the others wait in Redis.
    rig.sendgrid.fault("rate_limit", 3, retry_after=1)
    worker = rig.worker("worker", concurrency=1)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    wait_until(lambda: rig.sendgrid.statuses().count(429) >= 1, timeout=30, what="the first batch at SendGrid")
    waiting = broker.llen("send")
    assert waiting >= N // BATCH - 2  # one batch running, perhaps one more taken by the worker

    rig.redis.stop()
    rig.redis.start()  # same port, empty: every queued task is gone
    assert broker.llen("send") == 0

    # The worker finishes the batch it was running, reconnects, and then has nothing to do.
    wait_until(
        lambda: (
            rig.count("accepted") >= BATCH
            and "Connected to redis" in worker.log_text().split("Connection to broker lost")[-1]
        ),
        timeout=60,
        what="the worker back on the new Redis",
    )
    sent_before = rig.count("accepted")
    assert rig.count("queued") == N - sent_before

    # Leases still hold: the lost batches are not handed out again yet (a slow queue is not a lost one).
    assert rig.tick(batch_size=BATCH).batches == 0
    late = rig.tick(ds.QUEUE_LEASE + ds.SEND_LEASE, batch_size=BATCH)
    assert late.queued == N - sent_before
    wait_until(lambda: rig.count("accepted") == N, timeout=60, what="every delivery accepted")
    rig.assert_each_sent_once()
    assert rig.next_steps() == {2: N}
    log = worker.log_text()
    assert "Connection to broker lost" in log
    # The batch running across the restart finished and recorded its answer (Celery 5 does not cancel running
    # tasks on connection loss), so no delivery is `unknown`.
    assert log.count("sent batch of 25: 25 accepted") == N // BATCH
    assert rig.count("unknown") == 0
