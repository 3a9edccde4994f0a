"""`make bench`: one step of the seed campaign sent to generated subscribers through the real path, timed end to end,
each email checked to have reached the SendGrid server exactly once.

Per run: a fresh database (a SQLite file, or a database in the bench's own PostgreSQL server, set up as in
production: bench/postgres.py), a fresh Redis, the local SendGrid server as a process, `celery worker` with 1 or 2
processes, warmed up before the clock starts, and the tick as a process of its own. The clock starts when the
campaign starts (every first email is due then) and the tick is told to go; it stops at the last acceptance recorded
in the database. While it runs, the bench asks only the SendGrid server how many emails arrived (and Redis whether
tasks are left), never the database. Beside it, the naive baseline (bench/naive.py).

    python -m bench.run            # the whole matrix: 10k/100k/1M × SQLite/PostgreSQL × 1/2 workers, naive at 10k
    python -m bench.run --quick    # 10k and 100k on both databases with 2 workers, naive at 2k
    python -m bench.run --sizes 10000 --db postgresql --workers 2 --naive-size 0      # one run
    python -m bench.run --sizes 10000 --db postgresql --workers 2 --naive-size 0 --no-prepare   # made at the start
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench import naive as naive_drip
from bench.dataset import (
    ADDRESS_KEY,
    SECRET_KEY,
    create_database,
    drop_database,
    prepare,
    schedule_campaign,
    settle,
)
from bench.identity import accepted_ids, compare
from bench.identity import describe as identity_problem
from bench.measure import outcome
from bench.postgres import BenchCluster, ServerStats, stated_settings
from bench.processes import MemorySampler, RedisServer, SendGridProcess, TickProcess, Workers, pending_tasks
from bench.report import describe, machine, table
from bench.stages import CpuMeter, between, load_now, per_email
from campaigns.brand import load_brand
from campaigns.settings import PROJECT_ROOT
from tests.sendgrid_server import API_KEY

RESULTS = Path(__file__).resolve().parent / "results"
SIZES, DATABASES, WORKERS, NAIVE_SIZE = (10_000, 100_000, 1_000_000), ("sqlite", "postgresql"), (1, 2), 10_000
QUICK = {"sizes": "10000,100000", "db": "sqlite,postgresql", "workers": "2", "naive_size": 2_000}
STALL_SECONDS = 180  # no new email at the SendGrid server for this long: the run is stuck, stop it
POLL_SECONDS = 0.2
# How far ahead a run's campaign is scheduled: time to plan and prepare its first emails (about 20,000 a second).
PLAN_SECONDS, PLANNED_PER_SECOND = 2.0, 20_000


@dataclass(frozen=True)
class Spec:
    db: str
    size: int
    workers: int
    naive: bool = False
    prepared: bool = True  # the first emails made before the start, as the tick does for a scheduled campaign

    @property
    def label(self) -> str:
        made = "" if self.prepared or self.naive else " made at start"
        return f"{'naive ' if self.naive else ''}{self.db} {self.size:,} x{self.workers}{made}"


@dataclass(frozen=True)
class Postgres:
    """The server PostgreSQL runs use: the bench's own cluster (its postmaster's pid, to measure its CPU) or one
    given with --pg-port (pid None: its CPU can't be told apart from other programs')."""

    port: int
    pid: int | None


def run_one(spec: Spec, root: Path, pg: Postgres | None) -> dict[str, Any]:
    """One run in a fresh database and fresh processes; the measurements as a dict."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{spec.db}-{spec.size}-", dir=root))
    brand_file = bench_brand(workdir)
    url = create_database(spec.db, workdir, pg.port if pg else None)
    began = time.perf_counter()
    stack: list = []
    try:
        campaign_id = prepare(url, spec.size, load_brand(brand_file))
        setup = time.perf_counter() - began
        redis = RedisServer(workdir)
        redis.start()
        stack.append(redis)
        sendgrid = SendGridProcess(workdir / "sendgrid.log", id_arg=naive_drip.ID_ARG if spec.naive else "delivery_id")
        sendgrid.start()
        stack.append(sendgrid)
        env = {
            "OUTREACH_DATABASE_URL": url,
            "CELERY_BROKER_URL": redis.url,
            "OUTREACH_EMAIL_BACKEND": "sendgrid",
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_HOST": sendgrid.url,
            "OUTREACH_BRAND_FILE": str(brand_file),
            "OUTREACH_SECRET_KEY": SECRET_KEY,
            "OUTREACH_ADDRESS_KEY": ADDRESS_KEY,
            "OUTREACH_BASE_URL": "https://outreach.bench.invalid",
        }
        workers = Workers(
            env,
            workdir / "workers.log",
            spec.workers,
            app="bench.naive" if spec.naive else "bench.worker",
            queues="naive" if spec.naive else "send",
        )
        workers.start()
        stack.append(workers)
        workers.wait_ready()
        tick = TickProcess(env, workdir / "tick.log", module="bench.naive" if spec.naive else "bench.tick")
        tick.start()
        stack.append(tick)
        stages = {"tick": tick.pid, "workers": workers.pid, "sendgrid": sendgrid.pid, "redis": redis.proc.pid}
        if spec.db == "postgresql" and pg and pg.pid:
            stages["postgresql"] = pg.pid
        meter = CpuMeter(stages)
        sampler = MemorySampler()
        for name in ("workers", "tick", "sendgrid", "redis"):
            sampler.watch(name, stages[name])
        sampler.start()
        load_before = load_now(meter)
        # Scheduled ahead, as staff do: the first emails are planned and prepared before the start, outside the
        # clock (the tick prepares a scheduled campaign's emails; the time it took is in the results).
        started = datetime.now(UTC) + timedelta(seconds=PLAN_SECONDS + spec.size / PLANNED_PER_SECOND)
        before_prepare = meter.read()
        prepared = schedule_campaign(url, campaign_id, started, prepare=spec.prepared and not spec.naive)
        after_prepare = meter.read()
        prepare_cpu = between(before_prepare, after_prepare)["cpu_seconds"]  # `bench`: this process, which prepared
        settle(url)
        server_stats = ServerStats(pg.port, make_url(url).database) if spec.db == "postgresql" and pg else None
        if server_stats:
            server_stats.begin()
        time.sleep(max(0.0, (started - datetime.now(UTC)).total_seconds()))
        # The clock starts here, at the campaign's start (or as soon as the planning is done, if it overran).
        first = meter.read()
        started = max(started, datetime.now(UTC))
        tick.go()
        error = wait_done(spec.size, sendgrid, redis.url, tick, workers)
        tick_report = tick.result(timeout=STALL_SECONDS)
        last = meter.read()
        # The clock has stopped: what follows reads what the run left.
        peaks = sampler.stop()
        received, count = sendgrid.ids(), sendgrid.count()
        workers.stop()  # their database sessions end, and PostgreSQL's statistics get their last row counts
        pg_report = server_stats.end(spec.size) if server_stats else None
        result = outcome(url, started)
        identity = compare(accepted_ids(url, "enrollment_id" if spec.naive else "id"), received, spec.size)
    finally:
        for part in reversed(stack):
            part.stop()
        drop_database(url)
    cpu = between(first, last, reported={"tick": tick_report["cpu_seconds"]})
    accepted = result["by_status"].get("accepted", 0)
    rate = accepted / result["seconds"] if result["seconds"] else 0.0
    error = error or identity_problem(identity, spec.size)
    ok = (
        error is None
        and identity["ok"]
        and result["by_status"] == {"accepted": spec.size}
        and result["attempts"] == {"1": spec.size}
    )
    if not ok and error is None:
        error = f"not every email accepted at the first attempt: {result['by_status']}, attempts {result['attempts']}"
    return {
        **asdict(spec),
        "label": spec.label,
        "ok": ok,
        "error": error,
        "emails_per_second": round(rate, 1),
        "seconds": result["seconds"],
        "lag_p50": result["lag_p50"],
        "lag_p95": result["lag_p95"],
        "db_bytes": result["db_bytes"],
        "peak_rss": peaks,
        "cpu_seconds": cpu["cpu_seconds"],
        "us_per_email": per_email(cpu["cpu_seconds"], spec.size),
        "load": {"before": load_before, "during": {k: v for k, v in cpu.items() if k != "cpu_seconds"}},
        "identity": identity,
        "postgresql": pg_report,
        "by_status": result["by_status"],
        "attempts": result["attempts"],
        "errors": result["errors"],
        "server": {"requests": count["requests"], "emails": count["emails"]},
        "tick": tick_report,
        "setup_seconds": round(setup, 1),
        "prepare": {
            "prepared": prepared,
            "seconds": round(after_prepare.at - before_prepare.at, 2),
            "cpu_seconds": prepare_cpu,
            "us_per_email": per_email(prepare_cpu, spec.size),
        },
    }


def wait_done(size: int, sendgrid: SendGridProcess, redis_url: str, tick: TickProcess, workers: Workers) -> str | None:
    """Wait until the tick has finished and no task is left; an error message if the run stalls, a process dies,
    or everything is done with fewer than `size` emails at the SendGrid server.

    It polls the SendGrid server's count and Redis, never the database, so the polling adds no load to it."""
    last, changed, quiet = -1, time.monotonic(), 0
    while True:
        emails = sendgrid.count()["emails"]
        if emails != last:
            last, changed = emails, time.monotonic()
        if workers.proc.poll() is not None:
            return f"the workers exited with {emails:,} of {size:,} emails at the SendGrid server"
        if tick.finished() and tick.proc.returncode != 0:
            return f"the tick failed (see {tick.log}) with {emails:,} of {size:,} emails at the SendGrid server"
        # Two idle polls in a row: between a worker taking a task from its queue and marking it unacknowledged,
        # Redis holds it in neither place for an instant.
        quiet = quiet + 1 if tick.finished() and pending_tasks(redis_url) == 0 else 0
        if quiet >= 2:
            return None if emails >= size else f"all work done, but {emails:,} of {size:,} emails reached SendGrid"
        if time.monotonic() - changed > STALL_SECONDS:
            return f"stalled at {emails:,} of {size:,} emails at the SendGrid server"
        time.sleep(POLL_SECONDS)


def safe_run(spec: Spec, root: Path, pg: Postgres | None) -> dict[str, Any]:
    """run_one, with a failed run recorded (and the matrix going on) instead of stopping everything."""
    began = time.perf_counter()
    try:
        result = run_one(spec, root, pg)
    except Exception as err:  # a benchmark run that breaks is a result to report, not a reason to stop the rest
        result = {
            **asdict(spec),
            "label": spec.label,
            "ok": False,
            "error": f"{type(err).__name__}: {err}",
            "emails_per_second": 0.0,
            "seconds": None,
            "lag_p50": None,
            "lag_p95": None,
            "db_bytes": None,
            "peak_rss": {},
            "by_status": {},
            "errors": [],
        }
    return {**result, "wall_seconds": round(time.perf_counter() - began, 1)}


def bench_brand(workdir: Path) -> Path:
    """The demo brand with real-looking values in place of its placeholders: the SendGrid provider refuses example
    values (listed in `examples`, or just looking like one: example.org, a 555 number). Nothing leaves this machine:
    the bench's SendGrid is the local server."""
    real = {
        "examples": "[]",
        "address": '"100 Bench Road, Fort Lauderdale, FL 33301"',
        "phone": '"+1-954-730-0100"',
        "phone_display": '"(954) 730-0100"',
        "website": '"https://www.agape-bench.org"',
        "cta_url": '"https://www.agape-bench.org/contact"',
        "sender_email": '"learn@agape-bench.org"',
        "reply_to": '"care@agape-bench.org"',
    }
    lines = []
    for line in (PROJECT_ROOT / "content" / "brand.toml").read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {real[key]}" if "=" in line and key in real else line)
    path = workdir / "brand.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10k and 100k on both databases, 2 workers, naive at 2k")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="subscriber counts, comma-separated")
    p.add_argument("--db", default=",".join(DATABASES), help="sqlite, postgresql or both, comma-separated")
    p.add_argument("--workers", default=",".join(map(str, WORKERS)), help="worker processes, comma-separated")
    p.add_argument("--naive-size", type=int, default=NAIVE_SIZE, help="subscribers for the naive baseline (0: none)")
    p.add_argument("--naive-db", default="postgresql", choices=DATABASES)
    p.add_argument(
        "--pg-port",
        type=int,
        default=None,
        help="use the PostgreSQL server on 127.0.0.1:PORT (user postgres) instead of starting one with production "
        "settings (its settings are stated in the results; its CPU is not told apart from other programs')",
    )
    p.add_argument(
        "--no-prepare",
        action="store_true",
        help="leave the first emails to be made by the tick at the start, in the clock (as for a campaign started "
        "at once, with no time to prepare it), instead of before it",
    )
    p.add_argument("--name", default=None, help="results file name (default: a timestamp)")
    p.add_argument("--out", type=Path, default=RESULTS, help="the folder for the results file (default: %(default)s)")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def specs_of(args: argparse.Namespace) -> list[Spec]:
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    prepared = not args.no_prepare
    return [Spec(db, size, w, prepared=prepared) for db in args.db.split(",") for size in sizes for w in workers]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    specs = specs_of(args)
    naive_spec = Spec(args.naive_db, args.naive_size, 2, naive=True) if args.naive_size else None
    name = args.name or ("quick-" if args.quick else "") + datetime.now().strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    about = machine()
    cluster, pg = None, None
    if any(s.db == "postgresql" for s in specs + ([naive_spec] if naive_spec else [])):
        if args.pg_port:
            pg = Postgres(args.pg_port, None)
        else:
            cluster = BenchCluster()
            cluster.start()
            pg = Postgres(cluster.port, cluster.pid)
        about["postgresql"] = {"own_server": cluster is not None, **stated_settings(pg.port)}
    runs: list[dict[str, Any]] = []
    naive = None
    try:
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as root:
            if naive_spec:
                naive = safe_run(naive_spec, Path(root), pg)
                print(describe(naive), flush=True)
            for spec in specs:
                runs.append(safe_run(spec, Path(root), pg))
                print(describe(runs[-1]), flush=True)
    finally:
        if cluster:
            cluster.stop()
    markdown = table(runs, naive)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{name}.json"
    results = {
        "name": name,
        "quick": args.quick,
        "machine": about,
        "runs": runs,
        "naive": naive,
        "table": markdown,
        "wall_seconds": round(time.perf_counter() - began),
    }
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n" + markdown)
    failed = [r["label"] for r in runs + ([naive] if naive else []) if not r["ok"]]
    if failed:
        print(f"\nFAILED (see 'error' in the results): {', '.join(failed)}")
    print(f"\nresults: {out} ({(time.perf_counter() - began) / 60:.0f} minutes in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
