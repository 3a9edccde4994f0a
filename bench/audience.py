"""The audience's big jobs, measured: a 100,000-row CSV import and subscriber exports of 10,000, 100,000 and 1,000,000
rows, each run as the real command (`outreach subscribers import`, `outreach export subscribers`) in a process of
its own, on SQLite and PostgreSQL, with its wall time and peak memory (the process's own maximum RSS, from wait4).

    .venv/bin/python -m bench.audience [--db sqlite,postgresql] [--import-rows 100000] [--export-sizes ...]

The export walks subscribers by id, 5,000 at a time, each page in its own short transaction, and writes as it goes:
its peak memory should stay the same from 10,000 to 1,000,000 rows. Results go to bench/results/audience-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.dataset import ADDRESS_KEY, SECRET_KEY, create_database, drop_database, prepare
from bench.postgres import BenchCluster
from bench.run import bench_brand
from campaigns.brand import load_brand
from campaigns.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
OUTREACH = ROOT / ".venv" / "bin" / "outreach"
RESULTS = ROOT / "bench" / "results"
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "")
TAGS = ("donors", "volunteers", "families", "", "")


def run(args: list[str], env: dict[str, str]) -> dict:
    """Run one command; its wall time, exit code and peak RSS (MB), and the tail of what it printed."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        out.seek(0)
        printed = out.read().decode(errors="replace").strip().splitlines()[-1:]
    return {
        "seconds": round(seconds, 2),
        "exit": os.waitstatus_to_exitcode(status),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        "output": printed,
    }


def write_csv(path: Path, rows: int) -> int:
    """A spreadsheet-like file: semicolons, a BOM, header aliases, a default time zone needed for a fifth of the
    rows, and one bad address in a thousand. Returns how many rows are bad."""
    rnd = random.Random(18)
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write("E-mail;First name;Last name;Time Zone;Tags\r\n")
        for i in range(rows):
            address = f"person{i}@import.example.org"
            if i % 1000 == 999:
                address, bad = f"person{i}-at-import.example.org", bad + 1
            f.write(f"{address};Person;{i};{rnd.choice(ZONES)};{rnd.choice(TAGS)}\r\n")
    return bad


def bench_import(url: str, rows: int, workdir: Path, env: dict[str, str]) -> dict:
    upgrade(url)
    path = workdir / "import.csv"
    bad = write_csv(path, rows)
    result = run(
        [str(OUTREACH), "subscribers", "import", str(path), "--timezone", "America/New_York", "--consent", "bench"],
        env,
    )
    return {"rows": rows, "bad_rows": bad, "file_mb": round(path.stat().st_size / 2**20, 1), **result}


def bench_export(kind: str, size: int, workdir: Path, env: dict[str, str], pg_port: int | None) -> dict:
    workdir = workdir / f"export-{size}"  # a SQLite database is a file in the folder: a new folder, a new database
    workdir.mkdir()
    url = create_database(kind, workdir, pg_port)
    try:
        # As the send bench has them: the seed campaign, and everyone enrolled in it (the export lists campaigns).
        prepare(url, size, load_brand(bench_brand(workdir)))
        out = workdir / f"export-{size}.csv"
        result = run([str(OUTREACH), "export", "subscribers", "-o", str(out)], {**env, "OUTREACH_DATABASE_URL": url})
        lines = sum(1 for _ in out.open("rb")) - 1
        out.unlink()
        return {"rows": size, "rows_written": lines, **result}
    finally:
        drop_database(url)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.audience", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--import-rows", type=int, default=100_000)
    p.add_argument("--export-sizes", default="10000,100000,1000000")
    p.add_argument("--pg-port", type=int, default=None, help="a PostgreSQL to use (default: a cluster of its own)")
    args = p.parse_args(argv)
    report: dict = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "import": {}, "export": {}}
    cluster = None
    if "postgresql" in args.db and not args.pg_port:
        cluster = BenchCluster()
        cluster.start()
    try:
        run_all(args, cluster.port if cluster else args.pg_port, report)
    finally:
        if cluster:
            cluster.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"audience-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


def run_all(args: argparse.Namespace, pg_port: int | None, report: dict) -> None:
    # The bench's keys: the commands must fingerprint addresses as the generated rows were.
    keys = {"OUTREACH_SECRET_KEY": SECRET_KEY, "OUTREACH_ADDRESS_KEY": ADDRESS_KEY}
    for kind in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "import").mkdir()
            url = create_database(kind, workdir / "import", pg_port)
            env = {**os.environ, **keys, "OUTREACH_DATABASE_URL": url}
            try:
                report["import"][kind] = bench_import(url, args.import_rows, workdir, env)
            finally:
                drop_database(url)
            print(kind, "import", json.dumps(report["import"][kind]), flush=True)
            report["export"][kind] = []
            for size in map(int, args.export_sizes.split(",")):
                done = bench_export(kind, size, workdir, env, pg_port)
                report["export"][kind].append(done)
                print(kind, "export", json.dumps(done), flush=True)


if __name__ == "__main__":
    sys.exit(main())
