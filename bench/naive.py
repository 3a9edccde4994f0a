"""The naive baseline: a simple drip as a competent engineer would first write it, to measure the product against.

One Celery task per email: one SELECT of what the email needs, the step rendered (Jinja2 and MJML compiled for
every email: what a naive drip does, and the point of comparison with the product, which compiles once per step),
one POST through a module-level `sendgrid` client, then one transaction that INSERTs the delivery and UPDATEs the
enrollment. The SendGrid server identifies each email by its enrollment (custom_args `enrollment_id`): the delivery
row is written after the POST, so there is no delivery id to send. Nothing in the product uses this module.

Run as a worker:  celery -A bench.naive worker          (the tasks)
Run as a process: python -m bench.naive                 (the dispatcher: `ready`, then one task per enrollment on `go`)
"""

from __future__ import annotations

import json
import sys
import time
from functools import cache

from celery import Celery
from celery.signals import worker_process_init
from sendgrid import SendGridAPIClient
from sqlalchemy import Engine, bindparam, insert, select, text, update

from bench.warmup import mark_warm
from campaigns.authoring.content import SLOT
from campaigns.authoring.crisis import reader_country
from campaigns.authoring.names import greeting_name
from campaigns.authoring.render import compile_step, crisis_block
from campaigns.authoring.series import Series
from campaigns.db.models import Campaign, Delivery, Enrollment, Subscriber
from campaigns.db.session import make_engine
from campaigns.delivery import state as ds
from campaigns.delivery.schedule import next_due, window_of, zone
from campaigns.delivery.sending import day_phrase
from campaigns.management.lifecycle import plan_file
from campaigns.tokens import Links
from outreach.bootstrap import get_brand, get_links, get_settings, now
from outreach.demo import SEED

ID_ARG = "enrollment_id"  # the custom_args key the SendGrid server identifies each email by

app = Celery("bench-naive")
app.conf.update(
    broker_url=get_settings().broker_url,
    task_ignore_result=True,
    task_acks_late=True,  # as the product: a task given back if its worker dies
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    task_default_queue="naive",
    broker_connection_retry_on_startup=True,
)


@cache
def engine() -> Engine:
    return make_engine(get_settings().database_url)


@cache
def client() -> SendGridAPIClient:
    s = get_settings()
    return SendGridAPIClient(api_key=s.sendgrid_api_key, host=s.sendgrid_api_host)


@cache
def series() -> Series:
    return plan_file(SEED)  # the article is planned once per process: only rendering is repeated per email


@cache
def links() -> Links:
    return get_links()


ROW = (
    select(
        Enrollment.next_step,
        Subscriber.id.label("subscriber_id"),
        Subscriber.email,
        Subscriber.name,
        Subscriber.first_name,
        Subscriber.timezone,
        Subscriber.country,
        Campaign.id.label("campaign_id"),
        Campaign.window_days,
        Campaign.window_start_hour,
        Campaign.window_end_hour,
        Campaign.slug,
        Campaign.current_version,
        Campaign.start_at,
    )
    .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
    .join(Campaign, Campaign.id == Enrollment.campaign_id)
    .where(Enrollment.id == bindparam("enrollment_id"))
)
RECORD = insert(Delivery)
ADVANCE = (
    update(Enrollment)
    .where(Enrollment.id == bindparam("enrollment_id"))
    .values(next_step=Enrollment.next_step + 1, last_sent_at=bindparam("sent_at"))
)


@app.task(name="bench.naive.send_one", ignore_result=True)
def send_one(enrollment_id: int) -> None:
    """One email: read what it needs, render it, post it, record it."""
    with engine().connect() as c:
        row = c.execute(ROW, {"enrollment_id": enrollment_id}).one()
        c.rollback()  # no transaction held across the HTTP call
        step = series().steps[row.next_step - 1]
        content = compile_step(series(), step, get_brand())  # Jinja2 and MJML, for every email
        unsubscribe = links().unsubscribe_url(row.subscriber_id, row.campaign_id)
        # The same values the product fills per reader: greeting, links, their country's crisis lines, the next day.
        following = series().steps[row.next_step] if row.next_step < len(series().steps) else None
        sent_at, tz = now(), zone(row.timezone)
        values = {
            "first_name": greeting_name(row.name, row.first_name),
            "unsubscribe_url": unsubscribe,
            "preferences_url": links().preferences_url(row.subscriber_id),
            "crisis": crisis_block(reader_country(row.country, row.timezone)),
            "next_day": day_phrase(next_due(sent_at, following.delay_days, tz, window_of(row)), sent_at, tz)
            if following
            else "",
        }
        html, plain = content.fill(values)
        brand = get_brand()
        response = client().client.mail.send.post(  # raises for any answer but 2xx: the task fails, nothing recorded
            request_body={
                "personalizations": [
                    {
                        "to": [{"email": row.email, "name": row.name}],
                        "custom_args": {ID_ARG: str(enrollment_id), "step": str(step.number)},
                        "headers": {
                            "List-Unsubscribe": f"<{unsubscribe}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                        },
                    }
                ],
                "from": {"email": brand.sender_email, "name": brand.sender_name},
                "subject": SLOT.sub(lambda m: values[m.group(1)], content.subject),
                "content": [{"type": "text/plain", "value": plain}, {"type": "text/html", "value": html}],
                "categories": [f"campaign-{row.slug}", f"step-{step.number}"],
            }
        )
        sent_at = now()
        c.execute(
            RECORD,
            {
                "enrollment_id": enrollment_id,
                "campaign_id": row.campaign_id,
                "step_number": step.number,
                "version_number": row.current_version,
                "status": ds.ACCEPTED,
                "provider": "sendgrid",
                "provider_message_id": response.headers.get("X-Message-Id"),
                "attempts": 1,
                "due_at": row.start_at,
                "created_at": sent_at,
                "sent_at": sent_at,
            },
        )
        c.execute(ADVANCE, {"enrollment_id": enrollment_id, "sent_at": sent_at})
        c.commit()


@worker_process_init.connect
def _warm(**_: object) -> None:
    """Before the clock: a long-running worker has its connection, client, planned article and Jinja cache."""
    with engine().connect() as c:
        c.execute(text("SELECT 1"))
    client(), links()
    compile_step(series(), series().steps[0], get_brand())
    mark_warm()


def main() -> None:
    """Dispatch one task per active enrollment of the started campaign (the naive scheduler)."""
    with engine().connect() as c:
        c.execute(text("SELECT 1"))
    app.connection_for_write().ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    began, cpu = time.perf_counter(), time.process_time()
    with engine().begin() as c:
        c.execute(update(Campaign).where(Campaign.status == "scheduled").values(status="running"))
        ids = list(c.scalars(select(Enrollment.id).where(Enrollment.status == "active").order_by(Enrollment.id)))
    for eid in ids:
        send_one.delay(eid)
    report = {"queued": len(ids), "seconds": round(time.perf_counter() - began, 3)}
    print(json.dumps({**report, "cpu_seconds": round(time.process_time() - cpu, 3)}), flush=True)


if __name__ == "__main__":
    main()
