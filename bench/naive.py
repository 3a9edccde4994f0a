"""The naive baseline: one Celery task and one SendGrid request per email, the step rendered (Jinja2 + MJML) for
every email. It is what the real send path is measured against; nothing in the product uses it.

Run as a worker:  celery -A bench.naive worker          (the tasks)
Run as a process: python -m bench.naive                 (the dispatcher: `ready`, then one task per enrollment on `go`)
"""

from __future__ import annotations

import json
import sys
import time
from functools import lru_cache

from celery import Celery
from sqlalchemy import select, text, update

from campaigns.authoring.render import compile_step
from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber
from campaigns.delivery import state as ds
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.delivery.sending import first_name
from campaigns.management.lifecycle import plan_file
from campaigns.settings import load_settings
from outreach.bootstrap import get_brand, get_links, get_session_factory, now
from outreach.demo import SEED

app = Celery("bench-naive")
app.conf.update(
    broker_url=load_settings().broker_url,
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    task_default_queue="naive",
    broker_connection_retry_on_startup=True,
)


@lru_cache(maxsize=1)
def _series():
    return plan_file(SEED)  # planning the article once per process: only rendering is repeated per email


@lru_cache(maxsize=1)
def _provider():
    from campaigns.delivery.providers.factory import build_provider

    return build_provider(load_settings(), get_brand())


@app.task(name="bench.naive.send_one", ignore_result=True)
def send_one(enrollment_id: int) -> None:
    """One email: load its rows, render the step, send one request, record it."""
    factory = get_session_factory()
    with factory.begin() as s:
        e = s.get(Enrollment, enrollment_id)
        sub, campaign = s.get(Subscriber, e.subscriber_id), s.get(Campaign, e.campaign_id)
        delivery = Delivery(
            enrollment_id=e.id,
            campaign_id=campaign.id,
            step_number=e.next_step,
            version_number=campaign.current_version,
            status=ds.SUBMITTING,
            attempts=1,
            due_at=campaign.start_at,
            created_at=now(),
            provider="sendgrid",
        )
        s.add(delivery)
        s.flush()
        step = _series().steps[e.next_step - 1]
        links = get_links()
        content = compile_step(_series(), step, get_brand())  # the MJML compiled for every email
        recipient = Recipient(
            delivery.id,
            sub.email,
            sub.name,
            {
                "first_name": first_name(sub.name),
                "unsubscribe_url": links.unsubscribe_url(sub.id, campaign.id),
                "preferences_url": links.preferences_url(sub.id),
            },
        )
        batch = Batch(
            content=content, brand=get_brand(), campaign=campaign.slug, step=step.number, recipients=(recipient,)
        )
        (result,) = _provider().send_batch(batch)
        delivery.status, delivery.provider_message_id, delivery.sent_at = result.status, result.message_id, now()
        e.next_step, e.last_sent_at = e.next_step + 1, delivery.sent_at


def main() -> None:
    """Dispatch one task per active enrollment of the started campaign (the naive scheduler)."""
    factory = get_session_factory()
    with factory() as s:
        s.execute(text("SELECT 1"))
    app.connection_for_write().ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    began = time.perf_counter()
    with factory.begin() as s:
        s.execute(update(Campaign).where(Campaign.status == "scheduled").values(status="running"))
        ids = list(s.scalars(select(Enrollment.id).where(Enrollment.status == "active").order_by(Enrollment.id)))
    for eid in ids:
        send_one.delay(eid)
    print(json.dumps({"queued": len(ids), "seconds": round(time.perf_counter() - began, 3)}), flush=True)


if __name__ == "__main__":
    main()
