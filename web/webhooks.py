"""POST /webhooks/sendgrid: SendGrid's signed event webhook.

Verify first, parse second: the signature is checked on the raw bytes before any JSON is read, and a bad or missing
signature or a stale timestamp is a 403 with nothing stored. A good batch is stored at once (each event once) and
answered; the reactions (suppression, delivery status) run in the `outreach.process_events` Celery task, queued after
the answer. With OUTREACH_EVENTS_INLINE=1 (no worker) they run inside the request instead. Either way the stored
events are the record: a lost task is made good by the beat sweep, and SendGrid's retries of a batch we already
stored are answered 200 and stored nowhere twice.

Each event is read on its own (campaigns.insight.sendgrid_events): one that cannot be read is set aside, stored raw
and counted, and the batch is still answered 200, so its good events are kept. Only a body that is not JSON is a 400.
The body is read at most MAX_BODY_BYTES far (FastAPI's streaming limit: 413 beyond it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from campaigns.errors import ConfigError, SignatureError
from campaigns.insight.events import store_events, store_set_aside
from campaigns.insight.reactions import process_pending
from campaigns.insight.sendgrid_events import EventFormatError, read_sendgrid_batch
from campaigns.insight.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerifier,
)
from web.runtime import now_of, sessions_of, settings_of

log = logging.getLogger(__name__)

Dispatch = Callable[[], None]
#: SendGrid posts batches of at most a few thousand events (well under a megabyte); refuse anything far larger.
MAX_BODY_BYTES = 8 * 1024 * 1024


def celery_dispatch() -> None:
    """Queue the reactions task on the broker (CELERY_BROKER_URL)."""
    from workers.events_tasks import process_events

    process_events.delay()


@lru_cache(maxsize=4)
def _verifier(public_key: str, max_age: int) -> WebhookVerifier:
    return WebhookVerifier(public_key, max_age)


def make_webhook_router(dispatch: Dispatch = celery_dispatch) -> APIRouter:
    """The webhook route; `dispatch` queues the reactions task (tests pass one bound to their own broker)."""
    router = APIRouter()

    @router.post("/webhooks/sendgrid", include_in_schema=False, max_body_size=MAX_BODY_BYTES)
    async def sendgrid_events(request: Request, background: BackgroundTasks) -> JSONResponse:
        settings, now = settings_of(request), now_of(request)
        if not settings.sendgrid_webhook_public_key:
            # Not 2xx, so SendGrid keeps the events and retries once the key is configured.
            return JSONResponse({"error": "SENDGRID_WEBHOOK_PUBLIC_KEY is not set"}, status_code=503)
        body = await request.body()  # 413 past MAX_BODY_BYTES, counted as it arrives
        try:
            verifier = _verifier(settings.sendgrid_webhook_public_key, settings.webhook_max_age_seconds)
        except ConfigError as err:  # our mistake, not SendGrid's: a 5xx, so it keeps the events and retries
            log.error("%s", err)
            return JSONResponse({"error": str(err)}, status_code=503)
        try:
            verifier.verify(request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER), body, now)
        except SignatureError as err:
            log.warning("refused SendGrid webhook from %s: %s", request.client.host if request.client else "?", err)
            return JSONResponse({"error": str(err)}, status_code=403)

        def store() -> dict:
            # Parsing 8 MB of JSON takes a while: here, in a worker thread, not on the event loop.
            batch = read_sendgrid_batch(body, now)
            with sessions_of(request).begin() as s:
                report = store_events(s, batch.events, now)
                set_aside = store_set_aside(s, "sendgrid", batch.set_aside, now)
                if settings.events_inline:
                    while process_pending(s, now, settings.soft_bounce_limit):
                        pass
            if set_aside:
                log.warning("SendGrid webhook: %d item(s) set aside (see the admin's Events page)", set_aside)
            return {
                "received": report.received + set_aside,
                "stored": report.stored,
                "duplicates": report.duplicates,
                "unmatched": report.unmatched,
                "set_aside": set_aside,
            }

        try:
            result = await run_in_threadpool(store)
        except EventFormatError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        if result["stored"] and not settings.events_inline:
            background.add_task(_dispatch_quietly, dispatch)
        return JSONResponse(result)

    return router


def _dispatch_quietly(dispatch: Dispatch) -> None:
    # The events are stored already: if the broker is down, the beat sweep applies them later.
    try:
        dispatch()
    except Exception as err:
        log.warning("could not queue outreach.process_events (%s); the periodic sweep will apply the events", err)


router = make_webhook_router()
