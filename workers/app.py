"""The Celery application; its settings are in celeryconfig.py."""

from celery import Celery

app = Celery("outreach", include=["workers.tasks", "workers.events_tasks"])
app.config_from_object("celeryconfig")
