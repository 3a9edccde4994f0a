"""Celery tasks: thin wrappers that call the domain's tick and batch send with real objects from settings."""

from __future__ import annotations

import logging
from functools import lru_cache

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
