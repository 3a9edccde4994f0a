"""How long a Prometheus scrape of GET /metrics takes on a big PostgreSQL database, one at a time and four at once.

    .venv/bin/python -m bench.metrics [--size 1000000] [--url postgresql://...] [--keep]

Fills a throwaway database (or the one --url names, if it is empty) with `size` subscribers, each with one
enrollment, one delivery (mostly delivered, some accepted, bounced, queued, failed) and one or two events, by SQL;
serves the app with uvicorn in a process of its own; then times scrapes from this process: the first, ten in a row,
and five rounds of four at once. Prints the times and writes them to bench/results/metrics-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

from bench.dataset import ADDRESS_KEY
from campaigns.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
TOKEN = secrets.token_urlsafe(32)

FILL = """
INSERT INTO campaigns (slug, title, status, window_days, window_start_hour, window_end_hour, track_opens,
                       track_clicks, current_version, created_at)
VALUES ('bench', 'Bench', 'running', '[0,1,2,3,4,5,6]', 0, 24, false, false, 1, now() - interval '30 days');
INSERT INTO subscribers (email, email_key, name, timezone, status, tags, created_at)
SELECT 'person' || g || '@bench.example.com', md5(g::text) || md5((g + 1)::text), 'Person ' || g, 'UTC',
       'active', '[]', now() - interval '30 days'
FROM generate_series(1, %(n)s) AS g;
INSERT INTO enrollments (campaign_id, subscriber_id, next_step, next_due_at, status, enrolled_at)
SELECT 1, id, 2, now() + interval '2 days', 'active', now() - interval '30 days' FROM subscribers;
INSERT INTO deliveries (enrollment_id, campaign_id, step_number, version_number, status, provider,
                        provider_message_id, attempts, due_at, created_at, sent_at, updated_at)
SELECT e.id, 1, 1, 1,
       (ARRAY['delivered','delivered','delivered','delivered','delivered','delivered','delivered','accepted',
              'bounced','queued','failed','delivered'])[1 + e.id % 12],
       'sendgrid', 'msg-' || (e.id / 1000), 1,
       now() - interval '20 days' + (e.id % 86400) * interval '1 second',
       now() - interval '20 days',
       CASE WHEN e.id % 12 IN (9, 10) THEN NULL
            ELSE now() - interval '20 days' + (e.id % 86400) * interval '1 second' + (e.id % 900) * interval '1 second'
       END,
       now() - interval '19 days'
FROM enrollments AS e;
INSERT INTO events (provider_event_id, delivery_id, campaign_id, step_number, kind, email_key, occurred_at,
                    received_at, raw, processed_at)
SELECT 'evt-' || d.id, d.id, 1, 1, CASE WHEN d.status = 'bounced' THEN 'bounced' ELSE 'delivered' END, NULL,
       d.sent_at, d.sent_at, '{}', d.sent_at
FROM deliveries AS d WHERE d.sent_at IS NOT NULL;
INSERT INTO events (provider_event_id, delivery_id, campaign_id, step_number, kind, email_key, occurred_at,
                    received_at, raw, processed_at)
SELECT 'open-' || d.id, d.id, 1, 1, 'opened', NULL, d.sent_at, d.sent_at, '{}', d.sent_at
FROM deliveries AS d WHERE d.status = 'delivered' AND d.id % 3 = 0;
INSERT INTO suppressions (email_key, reason, source, created_at)
SELECT s.email_key, 'hard_bounce', 'bench', now() FROM subscribers AS s WHERE s.id % 12 = 8;
"""


def create_database() -> str:
    name = f"outreach_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def fill(url: str, size: int) -> float:
    started = time.perf_counter()
    upgrade(url, address_key=ADDRESS_KEY)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0:
            with conn.transaction():
                for statement in FILL.split(";\n"):
                    if statement.strip():
                        conn.execute(statement, {"n": size} if "%(n)s" in statement else None)
        conn.execute("VACUUM ANALYZE")  # as autovacuum would after a large load
    return time.perf_counter() - started


def serve(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
        "OUTREACH_DATABASE_URL": url,
        "OUTREACH_BASE_URL": f"http://127.0.0.1:{port}",
        "OUTREACH_METRICS_TOKEN": TOKEN,
        "OUTREACH_ADDRESS_KEY": ADDRESS_KEY,
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "web.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/brand.css", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log}")


def scrape(port: int) -> float:
    started = time.perf_counter()
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    response.raise_for_status()
    assert b"outreach_deliveries" in response.content, response.text[:200]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--url", help="an existing PostgreSQL database to use (filled when empty)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    args = parser.parse_args()
    url = args.url or create_database()
    port = 18000 + secrets.randbelow(1000)
    log = ROOT / "var" / "bench-metrics-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = None
    try:
        filled = fill(url, args.size)
        print(f"database ready in {filled:.0f} s: {url}")
        proc = serve(url, port, log)
        first = scrape(port)
        in_a_row = [scrape(port) for _ in range(10)]
        concurrent = []
        with ThreadPoolExecutor(4) as pool:
            for _ in range(5):
                concurrent.extend(pool.map(lambda _: scrape(port), range(4)))
        result = {
            "label": args.label,
            "size": args.size,
            "first_s": round(first, 3),
            "in_a_row_median_s": round(statistics.median(in_a_row), 3),
            "in_a_row_max_s": round(max(in_a_row), 3),
            "four_at_once_median_s": round(statistics.median(concurrent), 3),
            "four_at_once_max_s": round(max(concurrent), 3),
        }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results" / f"metrics-{args.size}{'-' + args.label if args.label else ''}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if not args.url and not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
