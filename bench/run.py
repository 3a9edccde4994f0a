"""`make bench`: one step of the seed campaign sent to generated subscribers through the real path, timed end to end.

Per run: a fresh database (SQLite file or a throwaway PostgreSQL database, dropped afterwards), a fresh Redis, the
local SendGrid server as a process, `celery worker` with 1 or 2 processes, and the tick as a process of its own.
The clock starts when the campaign starts (every first email is due then) and the tick is told to go; it stops at
the last acceptance recorded in the database. Beside it, the naive baseline (bench/naive.py) on 10,000.

    python -m bench.run                                   # the whole matrix, about 16 minutes on 2 cores
    python -m bench.run --sizes 10000 --db sqlite --workers 2 --naive-size 0      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.dataset import create_database, drop_database, prepare, start_campaign
from bench.measure import Progress, outcome
from bench.processes import (
    MemorySampler,
    RedisServer,
    SendGridProcess,
    TickProcess,
    Workers,
)
from campaigns.brand import load_brand
from campaigns.settings import PROJECT_ROOT
from tests.sendgrid_server import API_KEY

RESULTS = Path(__file__).resolve().parent / "results"
SIZES, DATABASES, WORKERS = (10_000, 100_000, 1_000_000), ("sqlite", "postgresql"), (1, 2)
NAIVE_SIZE = 10_000
# Runs left out of the default matrix (and why), to keep `make bench` within about 25 minutes on a 2-core machine;
# `--full` runs them anyway. Empty: the whole matrix fits (see the README's Benchmark section for the timings).
DEFAULT_SKIP: dict[tuple[str, int, int], str] = {}
STALL_SECONDS = 180  # no new settled delivery for this long: the run is stuck, stop it


@dataclass(frozen=True)
class Spec:
    db: str
    size: int
    workers: int
    naive: bool = False

    @property
    def label(self) -> str:
        return f"{'naive ' if self.naive else ''}{self.db} {self.size:,} x{self.workers}"


def run_one(spec: Spec, root: Path) -> dict:
    """One run in a fresh database and fresh processes; the measurements as a dict."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{spec.db}-{spec.size}-", dir=root))
    brand_file = bench_brand(workdir)
    url = create_database(spec.db, workdir)
    began = time.perf_counter()
    stack: list = []
    try:
        campaign_id = prepare(url, spec.size, load_brand(brand_file))
        setup = time.perf_counter() - began
        redis = RedisServer(workdir)
        redis.start()
        stack.append(redis)
        sendgrid = SendGridProcess(workdir / "sendgrid.log")
        sendgrid.start()
        stack.append(sendgrid)
        env = {
            "OUTREACH_DATABASE_URL": url,
            "CELERY_BROKER_URL": redis.url,
            "OUTREACH_EMAIL_BACKEND": "sendgrid",
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_HOST": sendgrid.url,
            "OUTREACH_BRAND_FILE": str(brand_file),
            "OUTREACH_SECRET_KEY": "bench-secret-key",
            "OUTREACH_BASE_URL": "https://outreach.bench.invalid",
        }
        workers = Workers(
            env,
            workdir / "workers.log",
            spec.workers,
            app="bench.naive" if spec.naive else "workers.app",
            queues="naive" if spec.naive else "send",
        )
        workers.start()
        stack.append(workers)
        workers.wait_ready()
        tick = TickProcess(env, workdir / "tick.log", module="bench.naive" if spec.naive else "bench.tick")
        tick.start()
        sampler = MemorySampler()
        for name, proc in (
            ("workers", workers.proc),
            ("tick", tick.proc),
            ("sendgrid", sendgrid.proc),
            ("redis", redis.proc),
        ):
            sampler.watch(name, proc.pid)
        sampler.start()
        started = datetime.now(UTC)
        start_campaign(url, campaign_id, started)
        tick.go()
        error = wait_settled(url, spec.size, workers)
        tick_report = tick.result(timeout=STALL_SECONDS)
        peaks = sampler.stop()
        cpu = sampler.cpu_seconds()
        server = json.loads(urllib.request.urlopen(f"{sendgrid.url}/_test/count", timeout=10).read())
        result = outcome(url, started)
    finally:
        for part in reversed(stack):
            part.stop()
        drop_database(url)
    accepted = result["by_status"].get("accepted", 0)
    rate = accepted / result["seconds"] if result["seconds"] else 0.0
    ok = error is None and accepted == spec.size == server["emails"] and result["attempts"] == {"1": spec.size}
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
        "cpu_seconds": cpu,
        "by_status": result["by_status"],
        "attempts": result["attempts"],
        "errors": result["errors"],
        "server": server,
        "tick": tick_report,
        "setup_seconds": round(setup, 1),
    }


def safe_run(spec: Spec, root: Path) -> dict:
    """run_one, with a failed run recorded (and the matrix going on) instead of stopping everything."""
    began = time.perf_counter()
    try:
        result = run_one(spec, root)
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
            "cpu_seconds": {},
            "by_status": {},
            "errors": [],
        }
    return {**result, "wall_seconds": round(time.perf_counter() - began, 1)}


def wait_settled(url: str, size: int, workers: Workers) -> str | None:
    """Wait until every delivery is settled; an error message if the run stalls or a worker dies."""
    progress = Progress(url)
    try:
        last, changed = -1, time.monotonic()
        while True:
            settled = progress.settled()
            if settled >= size:
                return None
            if settled != last:
                last, changed = settled, time.monotonic()
            elif time.monotonic() - changed > STALL_SECONDS:
                return f"stalled at {settled} of {size} settled"
            if workers.proc.poll() is not None:
                return f"workers exited at {settled} of {size} settled"
            time.sleep(0.5)
    finally:
        progress.close()


def bench_brand(workdir: Path) -> Path:
    """The demo brand with its values no longer marked as examples (the SendGrid provider refuses examples)."""
    source = (PROJECT_ROOT / "content" / "brand.toml").read_text()
    lines = [("examples = []" if line.startswith("examples") else line) for line in source.splitlines()]
    path = workdir / "brand.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    try:
        pg = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        pg = None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
    }


def mb(n: int | None) -> str:
    return "-" if not n else f"{n / 2**20:.0f}"


def worker_peak(run: dict) -> int:
    """The largest worker process (the pool children do the sending; the parent only hands out tasks)."""
    return max((v for k, v in run["peak_rss"].items() if k.startswith("workers")), default=0)


def table(runs: list[dict], naive: dict | None) -> str:
    """The Markdown table for the README."""
    rows = [
        "| database | subscribers | workers | emails/s | due → accepted p50 / p95 (s) | peak RSS MB: worker / "
        "tick / SendGrid server | DB size MB | × naive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ([naive] if naive else []) + runs:
        ratio = (
            f"{r['emails_per_second'] / naive['emails_per_second']:.0f}×"
            if naive and naive["emails_per_second"] and not r["naive"]
            else "1×"
            if r["naive"]
            else "-"
        )
        lag = f"{r['lag_p50']:.1f} / {r['lag_p95']:.1f}" if r["lag_p50"] is not None else "-"
        name = f"naive ({r['db']})" if r["naive"] else r["db"]
        rows.append(
            f"| {name} | {r['size']:,} | {r['workers']} | {r['emails_per_second']:,.0f}"
            f"{'' if r['ok'] else ' (!)'} | {lag} | {mb(worker_peak(r))} / {mb(r['peak_rss'].get('tick'))} / "
            f"{mb(r['peak_rss'].get('sendgrid'))} | {mb(r['db_bytes'])} | {ratio} |"
        )
    return "\n".join(rows)


def describe(r: dict) -> str:
    lag = f"{r['lag_p50']:.1f}/{r['lag_p95']:.1f}" if r["lag_p50"] is not None else "-"
    peaks = ", ".join(f"{k} {mb(v)}" for k, v in sorted(r["peak_rss"].items()))
    cpu = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r.get("cpu_seconds", {}).items()))
    state = "ok" if r["ok"] else f"NOT OK ({r['error'] or r['by_status']}; {r['errors']})"
    return (
        f"{r['label']:<28} {r['emails_per_second']:>9,.0f} emails/s  {r['seconds'] or 0:7.1f} s  "
        f"due->accepted p50/p95 {lag} s  db {mb(r['db_bytes'])} MB  peak RSS MB: {peaks}  CPU s: {cpu}  [{state}]"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="subscriber counts, comma-separated")
    p.add_argument("--db", default=",".join(DATABASES), help="sqlite, postgresql or both, comma-separated")
    p.add_argument("--workers", default=",".join(map(str, WORKERS)), help="worker processes, comma-separated")
    p.add_argument("--naive-size", type=int, default=NAIVE_SIZE, help="subscribers for the naive baseline (0: none)")
    p.add_argument("--naive-db", default="postgresql", choices=DATABASES)
    p.add_argument("--full", action="store_true", help="also the runs left out of the default matrix")
    p.add_argument("--name", default=None, help="results file name (default: a timestamp)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    specs, skipped = [], {}
    default_matrix = (args.sizes, args.db, args.workers) == (
        ",".join(map(str, SIZES)),
        ",".join(DATABASES),
        ",".join(map(str, WORKERS)),
    )
    for db in args.db.split(","):
        for size in sizes:
            for w in (int(x) for x in args.workers.split(",")):
                why = DEFAULT_SKIP.get((db, size, w))
                if why and default_matrix and not args.full:
                    skipped[f"{db} {size:,} x{w}"] = why
                else:
                    specs.append(Spec(db, size, w))
    name = args.name or datetime.now().strftime("%Y%m%d-%H%M%S")
    for label, why in skipped.items():
        print(f"skipped {label}: {why}")
    runs, naive, began = [], None, time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as root:
        if args.naive_size:
            naive = safe_run(Spec(args.naive_db, args.naive_size, 2, naive=True), Path(root))
            print(describe(naive), flush=True)
        for spec in specs:
            runs.append(safe_run(spec, Path(root)))
            print(describe(runs[-1]), flush=True)
    markdown = table(runs, naive)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(
        json.dumps(
            {
                "name": name,
                "machine": machine(),
                "runs": runs,
                "naive": naive,
                "skipped": skipped,
                "table": markdown,
                "wall_seconds": round(time.perf_counter() - began),
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print("\n" + markdown)
    if skipped:
        print("\nNot run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))
    print(f"\nresults: {out.relative_to(PROJECT_ROOT)} ({(time.perf_counter() - began) / 60:.0f} minutes in all)")
    return 0 if all(r["ok"] for r in runs + ([naive] if naive else [])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
