"""`make bench`: the send path end to end (tick, Celery workers on Redis, the database, the SendGrid client to a
local SendGrid server) on generated subscribers, beside a naive one-task-per-email baseline. See bench/run.py."""
