"""Celery settings, read from the environment (CELERY_BROKER_URL). Imported by workers/app.py.

Reliability rests on the database, not the broker: the tick re-finds any due or stranded work, and a delivery is
unique per (enrollment, step). These settings make the broker's part as safe as it can be.
"""

from campaigns.settings import load_settings

_settings = load_settings()

broker_url = _settings.broker_url
broker_connection_retry_on_startup = True
# Results live in the database (delivery rows); no result backend to fill up.
task_ignore_result = True
result_backend = None

task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

# Acknowledge a task only after it ran, and give it back if the worker process dies (kill -9, OOM):
# a killed worker's batch is delivered again, and the delivery state machine turns the repeat into a no-op
# or a clean resend of what never left.
task_acks_late = True
task_reject_on_worker_lost = True
# One task at a time per process: a prefetched-but-unstarted batch would sit idle behind a long send.
worker_prefetch_multiplier = 1
# Redis redelivers an unacknowledged task after the visibility timeout. It must be longer than the longest task:
# a 1000-recipient batch with every retry takes well under 10 minutes; one hour leaves a wide margin.
broker_transport_options = {"visibility_timeout": 3600}

# The tick and the sends go on separate queues so a long send backlog never delays the scheduler.
task_routes = {
    "outreach.tick": {"queue": "tick"},
    "outreach.send_batch": {"queue": "send"},
    # Short, and it suppresses complainers: never stuck behind a send backlog.
    "outreach.process_events": {"queue": "tick"},
}
task_default_queue = "send"

# Celery beat runs the tick; it is safe to run more than one (leases and unique deliveries).
beat_schedule = {
    "tick": {"task": "outreach.tick", "schedule": 30.0},
    "events": {"task": "outreach.process_events", "schedule": 60.0},  # sweep for events a lost task left
}
worker_hijack_root_logger = False
