"""How a bench run is shown: the machine it ran on, one line per run while the matrix goes on, and the README table."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import psutil

from campaigns.settings import PROJECT_ROOT

# Stages in the order of an email's path, as the table shows them.
STAGES = ("tick", "workers", "postgresql", "sendgrid", "redis")


def machine() -> dict[str, Any]:
    """The CPU model (from /proc/cpuinfo), cores, memory, software versions and the commit measured."""
    info: dict[str, str] = {}
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": info.get("model name") or platform.processor(),
        "cpu_mhz": info.get("cpu MHz"),
        "cpu_cache": info.get("cache size"),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
    }


def mb(n: int | None) -> str:
    return "-" if not n else f"{n / 2**20:.0f}"


def worker_peak(run: dict) -> int:
    """The largest worker process (the pool children do the sending; the parent only hands out tasks)."""
    return max((v for k, v in run["peak_rss"].items() if k.startswith("workers")), default=0)


def stage_costs(run: dict) -> str:
    """µs of CPU per email: tick / workers / PostgreSQL / SendGrid server / Redis (- where not measured)."""
    us = run.get("us_per_email") or {}
    return " / ".join("-" if us.get(s) is None else f"{us[s]:,.0f}" for s in STAGES)


def prepare_costs(run: dict) -> str:
    """µs of CPU per email spent before the clock preparing the first emails (as the tick does while a campaign is
    scheduled): the preparing code / PostgreSQL; - where nothing was prepared (the naive drip makes its own rows)."""
    prep = run.get("prepare") or {}
    if not prep.get("prepared"):
        return "-"
    us = prep.get("us_per_email") or {}
    return " / ".join("-" if us.get(s) is None else f"{us[s]:,.0f}" for s in ("bench", "postgresql"))


def ratio(run: dict, naive: dict | None) -> str:
    if run["naive"]:
        return "1×"
    if not (naive and naive["ok"] and naive["emails_per_second"]):
        return "-"
    return f"{run['emails_per_second'] / naive['emails_per_second']:.1f}×"


def table(runs: list[dict], naive: dict | None) -> str:
    """The Markdown table for the README."""
    rows = [
        "| database | subscribers | workers | emails/s | × naive | µs CPU per email: tick / workers / PostgreSQL / "
        "SendGrid server / Redis | all stages µs | prepared before the start, µs per email: tick / PostgreSQL | "
        "other programs (cores) | due → accepted p50 / p95 (s) | peak RSS MB: worker / tick / server | DB MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ([naive] if naive else []) + runs:
        lag = f"{r['lag_p50']:.1f} / {r['lag_p95']:.1f}" if r.get("lag_p50") is not None else "-"
        name = f"naive ({r['db']})" if r["naive"] else r["db"]
        us = r.get("us_per_email") or {}
        ours = sum(us.get(s) or 0 for s in STAGES)
        other = (r.get("load") or {}).get("during", {}).get("cores_other")
        rows.append(
            f"| {name} | {r['size']:,} | {r['workers']} | {r['emails_per_second']:,.0f}{'' if r['ok'] else ' (!)'} "
            f"| {ratio(r, naive)} | {stage_costs(r)} | {ours:,.0f} | {prepare_costs(r)} "
            f"| {'-' if other is None else f'{other:.2f}'} "
            f"| {lag} | {mb(worker_peak(r))} / {mb(r['peak_rss'].get('tick'))} / {mb(r['peak_rss'].get('sendgrid'))} "
            f"| {mb(r.get('db_bytes'))} |"
        )
    return "\n".join(rows)


def describe(r: dict) -> str:
    """One line per run, printed as the matrix goes on."""
    lag = f"{r['lag_p50']:.1f}/{r['lag_p95']:.1f}" if r.get("lag_p50") is not None else "-"
    during = (r.get("load") or {}).get("during", {})
    state = "exactly once: ok" if r["ok"] else f"NOT OK: {r['error'] or r['by_status']}"
    return (
        f"{r['label']:<28} {r['emails_per_second']:>9,.0f} emails/s  {r['seconds'] or 0:7.1f} s  "
        f"due->accepted p50/p95 {lag} s  µs/email tick/workers/pg/sendgrid/redis {stage_costs(r)}  "
        f"other programs {during.get('cores_other', '-')} cores  [{state}]"
    )
