"""outreach.process_events on a real Celery worker and Redis: stored events get their reactions, once."""

from __future__ import annotations

from celery import Celery
from sqlalchemy import func, select

from campaigns.db.migrate import upgrade
from campaigns.db.models import Event, Subscriber, Suppression
from campaigns.db.session import make_engine, make_session_factory
from campaigns.insight.events import store_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.builders import START, TEST_ADDRESS_KEY
from tests.insight.support import sent_campaign, sg_event
from tests.servers import CeleryWorker, wait_until


def test_worker_applies_stored_events(db_url, redis_server, tmp_path):
    upgrade(db_url)
    factory = make_session_factory(make_engine(db_url), TEST_ADDRESS_KEY)
    _, d = sent_campaign(factory, 3)
    with factory.begin() as s:
        store_events(
            s,
            [
                from_sendgrid(sg_event("spamreport", 0, d[(0, 1)], START), START),
                from_sendgrid(sg_event("bounce", 1, d[(1, 1)], START, type="bounce"), START),
                from_sendgrid(sg_event("delivered", 2, d[(2, 1)], START), START),
            ],
            START,
        )

    def pending() -> int:
        with factory() as s:
            return s.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None)))

    worker = CeleryWorker(
        {"OUTREACH_DATABASE_URL": db_url, "CELERY_BROKER_URL": redis_server.url}, tmp_path / "worker.log", queues="tick"
    )
    client = Celery(broker=redis_server.url)
    worker.start()
    try:
        client.send_task("outreach.process_events", queue="tick")
        client.send_task("outreach.process_events", queue="tick")  # a repeat finds nothing left to do
        wait_until(
            lambda: pending() == 0 and worker.log_text().count("succeeded") >= 2,
            timeout=60,
            what="events processed by the worker",
        )
    finally:
        worker.stop()
    with factory() as s:
        assert dict(s.execute(select(Suppression.reason, func.count()).group_by(Suppression.reason)).all()) == {
            "complaint": 1,
            "hard_bounce": 1,
        }
        assert sorted(s.scalars(select(Subscriber.status))) == ["active", "bounced", "complained"]
    assert "Traceback" not in worker.log_text()
