"""A worker process's warm-up at start (workers/tasks.py): the send path made ready, and never a reason to stop."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from campaigns.authoring import render
from campaigns.authoring.crisis import crisis_lines
from workers import tasks


def test_a_starting_worker_renders_every_countrys_crisis_lines_and_survives_a_database_not_up_yet(monkeypatch, caplog):
    render.crisis_block.cache_clear()

    def database_down():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(tasks, "provider", lambda: None)  # the provider client: built from settings, not tested here
    monkeypatch.setattr(tasks, "get_session_factory", database_down)
    with caplog.at_level(logging.WARNING, logger="workers.tasks"):
        tasks.warm_up()  # returns: the first task will try the database again
    # Every country's block, and the fallback's, rendered before any batch asks for one.
    assert render.crisis_block.cache_info().currsize >= len(crisis_lines().by_country) + 1
    assert "worker warm-up: OperationalError" in caplog.text
