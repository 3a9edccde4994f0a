"""The product's Celery app for the bench: `workers.app` as it is, plus a warm-up in each pool process.

celery -A bench.worker worker --queues=send
"""

from __future__ import annotations

import importlib
import pkgutil

from celery.signals import worker_process_init
from sqlalchemy import text

import campaigns.delivery
from bench.warmup import mark_warm
from outreach.bootstrap import get_brand, get_links, get_session_factory
from workers import tasks
from workers.app import app

__all__ = ["app"]


@worker_process_init.connect
def _warm(**_: object) -> None:
    """Import the whole send path (some of it is imported on first use), connect, build the provider."""
    for module in pkgutil.walk_packages(campaigns.delivery.__path__, "campaigns.delivery."):
        importlib.import_module(module.name)
    with get_session_factory()() as s:
        s.execute(text("SELECT 1"))
    tasks.provider(), get_brand(), get_links()
    mark_warm()
