"""Where the CPU went during a run: seconds per stage (the tick, the workers, PostgreSQL, the SendGrid server, Redis,
the bench itself), what other programs on the machine used meanwhile, and the machine's load just before.

A stage is a process tree. Its CPU is read at the clock's start and at its stop: each live process's own time plus
what it collected from children that ended (a PostgreSQL backend or autovacuum worker that exited, a pool child
replaced), so a process that lived and died between the two readings is counted too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import psutil

IDLE = ("idle", "iowait", "steal", "guest", "guest_nice")  # guest time is already counted in user time


def tree_seconds(pid: int) -> float | None:
    """CPU seconds of a process and all its descendants, the ended ones included; None once the process is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue  # ended since the listing: its time is in its parent's children_* from now on
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _tree_pids(pid: int) -> set[int]:
    try:
        root = psutil.Process(pid)
        return {pid, *(c.pid for c in root.children(recursive=True))}
    except psutil.Error:
        return set()


@dataclass(frozen=True)
class Reading:
    at: float
    stages: dict[str, float | None]
    bench: float  # this process (its polling and memory sampling), without its children
    busy: float  # every core's non-idle seconds since boot
    steal: float  # seconds the hypervisor gave our virtual cores to other machines
    others: dict[tuple[int, float], tuple[str, float]]  # every other process: (pid, started) -> (name, CPU seconds)


class CpuMeter:
    """Reads the CPU of named process trees (`stages`: name -> root pid), of this process and of everything else."""

    def __init__(self, stages: dict[str, int]) -> None:
        self.stages = stages

    def read(self) -> Reading:
        ours = {os.getpid()}.union(*(_tree_pids(pid) for pid in self.stages.values()))
        others: dict[tuple[int, float], tuple[str, float]] = {}
        for p in psutil.process_iter(["name", "cpu_times", "create_time"]):
            t = p.info["cpu_times"]
            if p.pid not in ours and t is not None:
                # A kernel worker's name says what it is doing now ("kworker/0:2-events"): keep the part before "/".
                name = (p.info["name"] or "?").split("/")[0]
                others[(p.pid, p.info["create_time"])] = (name, t.user + t.system)
        machine = psutil.cpu_times()
        me = psutil.Process().cpu_times()
        return Reading(
            at=time.monotonic(),
            stages={name: tree_seconds(pid) for name, pid in self.stages.items()},
            bench=me.user + me.system,
            busy=sum(getattr(machine, f) for f in machine._fields if f not in IDLE),
            steal=getattr(machine, "steal", 0.0),
            others=others,
        )


def between(a: Reading, b: Reading, reported: dict[str, float] | None = None) -> dict[str, Any]:
    """CPU seconds per stage from a to b, `other` for the rest of the machine, cores busy, the busiest other
    programs. `reported`: stages whose process ended before b and reported its own CPU (the tick)."""
    wall = max(b.at - a.at, 1e-9)
    stages: dict[str, float] = {}
    for name, start in a.stages.items():
        end = b.stages.get(name)
        if reported and name in reported:
            stages[name] = reported[name]
        elif start is not None and end is not None:
            stages[name] = end - start
    stages["bench"] = b.bench - a.bench
    other = max(0.0, b.busy - a.busy - sum(stages.values()))
    programs: dict[str, float] = {}
    for key, (name, seconds) in b.others.items():
        used = seconds - a.others.get(key, (name, 0.0))[1]
        if used > 0:
            programs[name] = programs.get(name, 0.0) + used
    top = dict(sorted(programs.items(), key=lambda kv: -kv[1])[:5])
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": {k: round(v, 2) for k, v in {**stages, "other": other}.items()},
        "cores_busy": round((b.busy - a.busy) / wall, 2),
        "cores_other": round(other / wall, 2),
        "cores_stolen": round((b.steal - a.steal) / wall, 2),
        "other_programs": {k: round(v, 1) for k, v in top.items()},
    }


def load_now(meter: CpuMeter, seconds: float = 2.0) -> dict[str, Any]:
    """The machine's load over the next `seconds` (our processes waiting, the rest as it is), and its load average."""
    a = meter.read()
    time.sleep(seconds)
    b = meter.read()
    out = between(a, b)
    return {
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "cores_other": out["cores_other"],
        "cores_stolen": out["cores_stolen"],
        "other_programs": out["other_programs"],
    }


def per_email(cpu_seconds: dict[str, float], emails: int) -> dict[str, float]:
    """µs of CPU per email, per stage."""
    return {k: round(v / max(emails, 1) * 1e6, 1) for k, v in cpu_seconds.items()}
