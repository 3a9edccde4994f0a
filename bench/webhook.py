"""Webhook throughput: signed batches of 1000 SendGrid events posted to a real uvicorn server on 127.0.0.1.

    .venv/bin/python -m bench.webhook [--db sqlite|postgresql] [--batches 20] [--inline]

Prints events per second for the request path (verify, parse, store each once; reactions queued for the worker,
the production setting) or, with --inline, with the reactions applied inside the request; then the rate at which
`process_pending` (the Celery task's work) applies reactions. Uses a throwaway database.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from campaigns.db.migrate import upgrade
from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.insight.reactions import process_pending
from campaigns.settings import DEV_ADDRESS_KEY, load_settings
from tests.events.support import sent_campaign, sg_event
from tests.servers import free_port
from tests.web.signing import Signer
from web.app import create_app

KINDS = ["processed", "delivered", "open", "click", "delivered", "open", "deferred", "processed", "delivered", "open"]


def database(kind: str, workdir: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    import psycopg

    name = f"outreach_bench_{secrets.token_hex(4)}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--inline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(args.db, Path(tmp))
        try:
            run(url, args, Path(tmp))
        finally:
            drop()


def run(url: str, args, workdir: Path) -> None:
    import uvicorn

    upgrade(url)
    factory = make_session_factory(make_engine(url), DEV_ADDRESS_KEY)
    people = 2000
    _, deliveries = sent_campaign(factory, people)
    signer = Signer()
    settings = load_settings(
        database_url=url,
        outbox_dir=workdir / "outbox",
        sendgrid_webhook_public_key=signer.public_key,
        events_inline=args.inline,
        webhook_max_age_seconds=3600,
    )
    now = datetime.now(UTC)
    app = create_app(settings, factory, RecordingProvider(), clock=lambda: datetime.now(UTC))
    import web.webhooks  # queued mode: the dispatch is a no-op here; the worker's share is timed separately below

    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/webhooks/sendgrid"]
    app.include_router(web.webhooks.make_webhook_router(lambda: None))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    bodies = []
    for b in range(args.batches):
        batch = [
            sg_event(
                KINDS[(b + i) % len(KINDS)], i % people, deliveries[(i % people, 1)], now, event_id=f"bench-{b}-{i}"
            )
            for i in range(args.size)
        ]
        bodies.append(json.dumps(batch).encode())
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        started = time.perf_counter()
        for body in bodies:
            response = client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body, int(time.time())))
            assert response.status_code == 200 and response.json()["stored"] == args.size, response.text
        elapsed = time.perf_counter() - started
    server.should_exit = True
    total = args.batches * args.size
    mode = "verify+parse+store+reactions (inline)" if args.inline else "verify+parse+store, reactions queued"
    print(
        f"{args.db}: {total} events in {args.batches} batches of {args.size}, {mode}: "
        f"{total / elapsed:,.0f} events/s ({elapsed / args.batches * 1000:.0f} ms per batch)"
    )
    if not args.inline:
        started = time.perf_counter()
        done = 0
        while True:
            with factory.begin() as s:
                n = process_pending(s, datetime.now(UTC), 3, 5000)
            done += n
            if n == 0:
                break
        elapsed = time.perf_counter() - started
        print(f"{args.db}: reactions applied by the task's work: {done / elapsed:,.0f} events/s")


if __name__ == "__main__":
    main()
