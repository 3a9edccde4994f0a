"""The product's Celery app for the bench: `workers.app` as it is, plus a mark from each pool process once the
product's own warm-up (workers/tasks.py, `warm_up`: connected, provider built, send path warmed) has run.

celery -A bench.worker worker --queues=send
"""

from __future__ import annotations

from celery.signals import worker_process_init

from bench.warmup import mark_warm
from workers import tasks  # noqa: F401 (connects the product's warm-up first: signal handlers run in order)
from workers.app import app

__all__ = ["app"]


@worker_process_init.connect
def _warm(**_: object) -> None:
    mark_warm()
