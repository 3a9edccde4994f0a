"""Celery tasks: thin wrappers that call the domain's tick and batch send with real objects from settings."""

from __future__ import annotations

import gc
import logging
from functools import lru_cache

from celery.signals import worker_process_init
from sqlalchemy import text

from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import EmailProvider
from outreach.bootstrap import (
    get_brand,
    get_links,
    get_session_factory,
    get_settings,
    now,
)
from workers.app import app

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def provider() -> EmailProvider:
    from campaigns.delivery.providers.factory import build_provider

    return build_provider(get_settings(), get_brand())


@worker_process_init.connect
def warm_up(**_: object) -> None:
    """Each pool process, as it starts: the send path warmed, its database connection and provider client made, so
    the first batch after a start costs what every other does. A database not reachable yet is no reason to stop
    a worker: the first task tries again and reports what is wrong."""
    try:
        sending.warm_up()
        provider(), get_links()
        with get_session_factory()() as s:
            s.execute(text("SELECT 1"))
    except Exception as err:  # the first task meets the same problem and reports it where it belongs
        log.warning("worker warm-up: %s: %s (the first task will try again)", type(err).__name__, err)
    # What lives as long as the process (modules, mappers, templates, clients) is left out of every full garbage
    # collection from now on: walking it took 80-100 ms of CPU in one batch of three or four (measured).
    gc.freeze()


@app.task(name="outreach.tick", ignore_result=True)
def tick() -> dict:
    """Find due work and queue it; a second tick at the same time creates nothing twice."""
    report = drip.tick(
        get_session_factory(), now(), emit=lambda ids: send_batch.delay(ids), batch_size=get_settings().batch_size
    )
    return {"created": report.created, "batches": report.batches, "queued": report.queued}


@app.task(name="outreach.send_batch", ignore_result=True)
def send_batch(delivery_ids: list[int]) -> dict:
    """Send one batch; deliveries that are not `queued` any more (sent, cancelled) are skipped."""
    out = sending.send_deliveries(get_session_factory(), provider(), get_links(), get_brand(), delivery_ids, now)
    return {"accepted": out.accepted, "failed": out.failed, "unknown": out.unknown, "skipped": out.skipped}
