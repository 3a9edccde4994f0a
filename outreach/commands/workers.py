"""`outreach worker`, `outreach beat` and `outreach tick`: run the Celery worker, the scheduler, or one tick now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from campaigns.errors import ConfigError

if TYPE_CHECKING:
    from campaigns.delivery.sending import BatchOutcome
    from campaigns.delivery.tick import TickReport


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


def tick(
    send: bool = typer.Option(
        False, "--send", help="Send what falls due here, in this process: no worker or Redis needed (small lists)"
    ),
) -> None:
    """Run one scheduler tick now: create the emails that are due and hand them to the workers (or send them)."""
    from campaigns.delivery import tick as drip
    from outreach.bootstrap import get_session_factory, get_settings, now

    factory, settings = get_session_factory(), get_settings()
    batches: list[list[int]] = []
    emit = batches.append if send else _to_workers(settings.broker_url)
    report = drip.tick(factory, now(), emit, batch_size=settings.batch_size)
    typer.echo(describe_tick(report, sent_here=send))
    if send and batches:
        typer.echo(describe_sends(_send_here(batches)))


def _to_workers(broker_url: str):
    """Queue each batch for the Celery workers; an unreachable broker is one line, not a traceback."""
    from kombu.exceptions import OperationalError

    from workers.tasks import send_batch

    def emit(ids: list[int]) -> None:
        try:
            send_batch.delay(ids)
        except OperationalError as err:
            # The emails are created and leased: a later tick hands them out again once the broker is back.
            raise ConfigError(
                f"cannot reach the broker at CELERY_BROKER_URL ({broker_url}): {err}",
                cli_hint="start Redis, or send from here with `outreach tick --send`",
            ) from None

    return emit


def _send_here(batches: list[list[int]]) -> BatchOutcome:
    from campaigns.delivery.providers.factory import build_provider
    from campaigns.delivery.sending import BatchOutcome, send_deliveries
    from outreach.bootstrap import get_brand, get_links, get_session_factory, get_settings, now

    provider = build_provider(get_settings(), get_brand())
    total = BatchOutcome()
    for ids in batches:
        out = send_deliveries(get_session_factory(), provider, get_links(), get_brand(), ids, now)
        for name in ("claimed", "accepted", "failed", "unknown", "skipped"):
            setattr(total, name, getattr(total, name) + getattr(out, name))
    return total


def describe_tick(r: TickReport, *, sent_here: bool = False) -> str:
    """One line a person reads: what the tick did."""
    parts = []
    if r.started:
        parts.append(f"{r.started} campaign{'s' if r.started != 1 else ''} started")
    if r.created:
        parts.append(f"{r.created} email{'s' if r.created != 1 else ''} due")
    if r.queued:
        to = "to send here" if sent_here else "for the workers"
        parts.append(f"{r.queued} in {r.batches} batch{'es' if r.batches != 1 else ''} {to}")
    if r.requeued:
        parts.append(f"{r.requeued} taken back from a stopped worker")
    if r.unknown:
        parts.append(f"{r.unknown} left with an unknown outcome by a stopped worker")
    if r.stopped:
        parts.append(f"{r.stopped} subscriber{'s' if r.stopped != 1 else ''} who left stopped")
    if r.capped:
        parts.append(f"{sum(r.capped.values())} held for tomorrow by a daily cap")
    if r.completed:
        parts.append(f"completed: {', '.join(r.completed)}")
    return "tick: " + ("; ".join(parts) if parts else "nothing due")


def describe_sends(out: BatchOutcome) -> str:
    parts = [f"{out.accepted} accepted"]
    if out.failed:
        parts.append(f"{out.failed} failed")
    if out.unknown:
        parts.append(f"{out.unknown} with an unknown outcome")
    if out.skipped:
        parts.append(f"{out.skipped} skipped (paused or left)")
    return "sent: " + ", ".join(parts)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("beat")(beat)
    app.command("tick")(tick)
