"""`outreach worker`, `outreach beat` and `outreach tick`: run the Celery worker, the scheduler, or one tick now."""

from __future__ import annotations

import typer


def worker(
    concurrency: int = typer.Option(2, help="Worker processes"),
    queues: str = typer.Option("tick,send", help="Queues to consume"),
    loglevel: str = typer.Option("info"),
) -> None:
    """Start a Celery worker (broker: CELERY_BROKER_URL)."""
    from workers.app import app

    app.worker_main(["worker", f"--concurrency={concurrency}", f"--queues={queues}", f"--loglevel={loglevel}"])


def beat(loglevel: str = typer.Option("info")) -> None:
    """Start Celery beat, which runs the scheduler tick every 30 seconds."""
    from workers.app import app

    app.start(["beat", f"--loglevel={loglevel}"])


def tick() -> None:
    """Run one scheduler tick now and queue the due batches."""
    from workers.tasks import tick as tick_task

    typer.echo(tick_task())


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("beat")(beat)
    app.command("tick")(tick)
