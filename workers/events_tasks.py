"""The Celery task that applies provider events' reactions (suppression, delivery status) after the webhook stored
them. It takes no arguments: it works through every stored event not yet processed, so a lost or repeated task
loses nothing and does nothing twice; celery beat also runs it every minute as a sweep.
"""

from __future__ import annotations

import logging

from campaigns.insight.reactions import process_pending
from outreach.bootstrap import get_session_factory, get_settings, now
from workers.app import app

log = logging.getLogger(__name__)
PAGE = 5000  # events per transaction


@app.task(name="outreach.process_events", ignore_result=True)
def process_events() -> dict:
    """Apply the reactions of every unprocessed event, a page per transaction."""
    factory, limit = get_session_factory(), get_settings().soft_bounce_limit
    total = 0
    while True:
        with factory.begin() as s:
            done = process_pending(s, now(), limit, PAGE)
        total += done
        if done < PAGE:
            break
    if total:
        log.info("processed %d provider events", total)
    return {"processed": total}
