"""The drip on a real Celery worker process and a real Redis broker (no eager mode), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import Celery
from sqlalchemy import func, select

from campaigns.db.migrate import upgrade
from campaigns.db.models import Delivery, Enrollment
from campaigns.db.session import make_engine, make_session_factory
from tests.builders import TEST_ADDRESS_KEY, enroll, make_campaign
from tests.servers import CeleryWorker, wait_until


def test_worker_sends_every_due_email_once(db_url, redis_server, tmp_path):
    upgrade(db_url)
    factory = make_session_factory(make_engine(db_url), TEST_ADDRESS_KEY)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    cid = make_campaign(factory, start=an_hour_ago)
    enroll(factory, cid, 30, enrolled_at=an_hour_ago)
    outbox = tmp_path / "outbox"
    worker = CeleryWorker(
        {
            "OUTREACH_DATABASE_URL": db_url,
            "CELERY_BROKER_URL": redis_server.url,
            "OUTREACH_OUTBOX_DIR": str(outbox),
            "OUTREACH_EMAIL_BACKEND": "outbox",
            "OUTREACH_BATCH_SIZE": "7",
        },
        tmp_path / "worker.log",
        concurrency=2,
    )
    client = Celery(broker=redis_server.url)

    def accepted() -> int:
        with factory() as s:
            return s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "accepted"))

    worker.start()
    try:
        client.send_task("outreach.tick", queue="tick")
        client.send_task("outreach.tick", queue="tick")  # two ticks racing create nothing twice
        wait_until(lambda: accepted() == 30, timeout=90, what="30 accepted deliveries")
        with factory() as s:
            ids = list(s.scalars(select(Delivery.id).order_by(Delivery.id)))
        client.send_task("outreach.send_batch", args=[ids[:7]], queue="send")  # a task delivered twice
        client.send_task("outreach.tick", queue="tick")
        # The repeated batch finds nothing left to claim, and says so in its result.
        wait_until(
            lambda: "{'accepted': 0, 'failed': 0, 'unknown': 0, 'skipped': 0}" in worker.log_text(),
            timeout=60,
            what="the repeated send task to run",
        )
    finally:
        worker.stop()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 30
        assert set(s.scalars(select(Delivery.attempts))) == {1}  # never claimed twice
        assert set(s.scalars(select(Enrollment.next_step))) == {2}
    assert len(list(outbox.rglob("*.eml"))) == 30
    assert "Traceback" not in worker.log_text()
