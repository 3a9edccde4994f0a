"""The processes a bench run starts (Redis, the local SendGrid server, Celery workers, the tick) and a sampler that
records each one's peak resident memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from tests.servers import ROOT, CeleryWorker, RedisServer, free_port, wait_for_port

__all__ = ["MemorySampler", "RedisServer", "SendGridProcess", "TickProcess", "Workers"]


class SendGridProcess:
    """`python -m tests.sendgrid_server` as a process of its own, as in the fault tests."""

    def __init__(self, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._out = open(self.log, "ab")  # noqa: SIM115 (open while the process runs; stop() closes it)
        # --light: count what was accepted instead of keeping every request (1M emails would be gigabytes).
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sendgrid_server", "--port", str(self.port), "--light"],
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._out.close()


class Workers(CeleryWorker):
    """A `celery worker` (prefork) on the given app and queue; `ready()` once it takes tasks."""

    def __init__(
        self, env: dict[str, str], log: Path, concurrency: int, app: str = "workers.app", queues: str = "send"
    ) -> None:
        super().__init__(env, log, concurrency=concurrency, queues=queues)
        self.app = app

    def start(self) -> None:
        self._out = open(self.log, "ab")  # noqa: SIM115 (open while the process runs; stop() closes it)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                self.app,
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                f"--queues={self.queues}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_text():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: see {self.log}")
            time.sleep(0.1)
        raise TimeoutError(f"celery worker not ready after {timeout} s: see {self.log}")


class TickProcess:
    """`python -m bench.tick`: imports and connects first, then runs one tick when told to (see bench/tick.py)."""

    def __init__(self, env: dict[str, str], log: Path, module: str = "bench.tick") -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.log, self.module = log, module
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._err = open(self.log, "ab")  # noqa: SIM115 (open while the process runs; stop() closes it)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module],
            cwd=ROOT,
            env=self.env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
        )
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"tick process did not start: see {self.log}")

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict:
        out, _ = self.proc.communicate(timeout=timeout)
        self._err.close()
        if self.proc.returncode != 0:
            raise RuntimeError(f"tick process failed: see {self.log}")
        return json.loads(out.strip().splitlines()[-1])


def _busy_seconds() -> float:
    """CPU seconds all cores have spent not idle since boot."""
    times = psutil.cpu_times()
    idle = ("idle", "iowait", "guest", "guest_nice")  # guest time is counted in user time already
    return sum(getattr(times, f) for f in times._fields if f not in idle)


class MemorySampler:
    """Samples the resident memory of named processes (and their children) every `interval` s; keeps each peak.

    It also adds up the CPU time each used while sampled, and that of the PostgreSQL server processes (found by
    name), to show where the time goes."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self._cpu: dict[int, tuple[str, float, float]] = {}  # pid -> (group, first seen, last seen) CPU seconds
        self._ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.roots[name] = pid

    def start(self) -> MemorySampler:
        self._busy_at_start = _busy_seconds()
        self._thread.start()
        return self

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return dict(self.peaks)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used while sampled, per group (workers, tick, sendgrid, redis, postgresql)."""
        out: dict[str, float] = {}
        for group, first, last in self._cpu.values():
            out[group] = round(out.get(group, 0.0) + last - first, 2)
        # Whatever else kept the machine busy meanwhile (other programs, this sampler): a disturbed run shows here.
        out["other"] = round(max(0.0, _busy_seconds() - self._busy_at_start - sum(out.values())), 2)
        return out

    def _account(self, group: str, proc: psutil.Process) -> None:
        times = proc.cpu_times()
        used = times.user + times.system
        first = self._cpu.get(proc.pid, (group, used, used))[1]
        self._cpu[proc.pid] = (group, first, used)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        for name, pid in list(self.roots.items()):
            try:
                root = psutil.Process(pid)
                procs = [(name, root)] + [
                    (f"{name}.child{i}", c) for i, c in enumerate(sorted(root.children(), key=lambda p: p.pid), 1)
                ]
                for label, proc in procs:
                    rss = proc.memory_info().rss
                    if rss > self.peaks.get(label, 0):
                        self.peaks[label] = rss
                    self._account(name, proc)
            except psutil.Error:
                continue  # the process ended between two samples
        self._ticks += 1
        if self._ticks % 5 == 1:
            for proc in psutil.process_iter(["name"]):
                if proc.info["name"] in ("postgres", "postmaster"):
                    try:
                        self._account("postgresql", proc)
                    except psutil.Error:
                        continue
