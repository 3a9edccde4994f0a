"""SendGrid misbehaving: errors and rate limits for a while, then recovery; and a request taken whose answer never
comes back. Either way each email reaches SendGrid once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.faults.conftest import AFTER_LEASES, Rig
from tests.servers import wait_until

pytestmark = pytest.mark.slow

N, BATCH = 100, 25


def test_errors_and_rate_limits_then_recovery(rig: Rig) -> None:
    rig.populate(N)
    # Four failures in a row, shared by whichever batches come first. The worker's RetryPolicy allows five attempts
    # per batch, so each batch gets through; 429 carries Retry-After: 1, which the back-off honours as a floor.
    rig.sendgrid.fault("error", 2)
    rig.sendgrid.fault("rate_limit", 2, retry_after=1)
    worker = rig.worker("worker", concurrency=2)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    wait_until(lambda: rig.count("accepted") == N, timeout=90, what="every delivery accepted")

    statuses = rig.sendgrid.statuses()
    assert Counter(statuses) == {500: 2, 429: 2, 202: N // BATCH}  # every retry visible at the server
    assert statuses[:4] == [500, 500, 429, 429]
    rig.assert_each_sent_once()
    assert {d.attempts for d in rig.deliveries()} == {1}  # retried inside one claim, never claimed again
    log = worker.log_text()
    assert log.count("failed (status 500); retrying") == 2
    assert log.count("failed (status 429); retrying") == 2
    assert "Traceback" not in log
    assert rig.next_steps() == {2: N}


def test_answer_never_arrives(pg_rig: Rig) -> None:
    # PostgreSQL only: the test waits out a 30 s client timeout, and nothing in it differs on SQLite.
    rig = pg_rig
    rig.populate(N)
    # Two requests that SendGrid takes (the emails are recorded) but never answers: the first hangs past the
    # client's 30 s timeout, the second has its connection closed without a word. Both are the case where the mail
    # may well have left, so the provider reports `unknown` and nothing is sent again.
    rig.sendgrid.fault("hang", 1, seconds=45, deliver=True)
    rig.sendgrid.fault("hang", 1, seconds=1, deliver=True)
    worker = rig.worker("worker", concurrency=2)
    assert rig.tick(batch_size=BATCH).batches == N // BATCH
    wait_until(lambda: rig.count("accepted", "unknown") == N, timeout=90, what="every delivery settled")

    assert rig.statuses() == {"accepted": N - 2 * BATCH, "unknown": 2 * BATCH}
    assert rig.sendgrid.statuses().count(0) == 2 and rig.sendgrid.statuses().count(202) == N // BATCH - 2
    log = worker.log_text()
    assert log.count(f"sent batch of {BATCH}: 0 accepted, 0 failed, {BATCH} unknown") == 2
    assert "outcome unknown: no answer from SendGrid after the request was sent (TimeoutError)" in log
    assert "outcome unknown: no answer from SendGrid after the request was sent (RemoteDisconnected)" in log
    # The enrollments moved on: an unknown outcome settles the step (the next one is due in a day).
    assert rig.next_steps() == {2: N}
    # A tick past every lease sends nothing again.
    late = rig.tick(AFTER_LEASES, batch_size=BATCH)
    assert (late.batches, late.requeued, late.unknown) == (0, 0, 0)
    rig.assert_each_sent_once()

    # How `unknown` is settled: SendGrid's event webhook reports each email with our delivery_id custom arg; the
    # events are stored and applied (campaigns.insight.events), which moves the delivery to what SendGrid says happened.
    now = datetime.now(UTC)
    unknown = {d.id for d in rig.deliveries() if d.status == "unknown"}
    events = [
        from_sendgrid(
            {
                "email": row["email"],
                "event": "delivered",
                "timestamp": int(now.timestamp()),
                "sg_event_id": f"ev-{row['custom_args']['delivery_id']}",
                "sg_message_id": f"{row['message_id']}.filter0001",
                **row["custom_args"],
            },
            now,
        )
        for row in rig.sendgrid.sent()
        if int(row["custom_args"]["delivery_id"]) in unknown
    ]
    with rig.factory.begin() as s:
        record_events(s, events, now, soft_bounce_limit=3)
    assert rig.statuses() == {"accepted": N - 2 * BATCH, "delivered": 2 * BATCH}
