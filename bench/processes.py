"""The processes a bench run starts (Redis, the local SendGrid server, Celery workers, the tick) and a sampler that
records each one's peak resident memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from bench.warmup import WARM_DIR, warmed
from tests.servers import ROOT, CeleryWorker, RedisServer, free_port, wait_for_port

__all__ = ["MemorySampler", "RedisServer", "SendGridProcess", "TickProcess", "Workers", "pending_tasks"]


class SendGridProcess:
    """`python -m tests.sendgrid_server --light` as a process of its own, identifying emails by `id_arg`."""

    def __init__(self, log: Path, id_arg: str = "delivery_id") -> None:
        self.port, self.log, self.id_arg = free_port(), log, id_arg
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self._out = open(self.log, "ab")  # noqa: SIM115 (open while the process runs; stop() closes it)
        # --light: counts and a bitmap of the ids accepted instead of every request (1M emails would be gigabytes).
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.sendgrid_server",
                "--port",
                str(self.port),
                "--light",
                "--id-arg",
                self.id_arg,
            ],
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as r:
            return json.loads(r.read())

    def count(self) -> dict:
        """{"requests", "emails", "last_accepted"}: a cheap poll, which loads neither the database nor the server."""
        return self._get("/_test/count")

    def ids(self) -> dict:
        """The bitmaps of the ids accepted, and accepted more than once (see bench/identity.py)."""
        return self._get("/_test/ids")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._out.close()


class Workers(CeleryWorker):
    """A `celery worker` (prefork) on the given app and queue; `wait_ready()` returns once it takes tasks and every
    pool process has warmed up (bench/warmup.py)."""

    def __init__(
        self, env: dict[str, str], log: Path, concurrency: int, app: str = "bench.worker", queues: str = "send"
    ) -> None:
        self.warm_dir = log.parent / "warm"
        self.warm_dir.mkdir()
        super().__init__({**env, WARM_DIR: str(self.warm_dir)}, log, concurrency=concurrency, queues=queues)
        self.app = app

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

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

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if warmed(self.warm_dir) >= self.concurrency and " ready." in self.log_text():
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

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def finished(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict:
        out, _ = self.proc.communicate(timeout=timeout)
        self._err.close()
        if self.proc.returncode != 0:
            raise RuntimeError(f"tick process failed: see {self.log}")
        return json.loads(out.strip().splitlines()[-1])

    def stop(self) -> None:
        """Only after a failure: a tick that finished has been waited for by result()."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if not self._err.closed:
            self._err.close()


def pending_tasks(redis_url: str) -> int:
    """Tasks not done yet: waiting in a queue (a Redis list), or taken by a worker and not acknowledged (kombu keeps
    those in the `unacked` hash until the task returns; the bench's tasks are acknowledged late)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        queued = sum(client.llen(key) for key in client.scan_iter(_type="list"))
        return queued + client.hlen("unacked")
    finally:
        client.close()


class MemorySampler:
    """Samples the resident memory of named processes (and their children) every `interval` s; keeps each peak."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.roots[name] = pid

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return dict(self.peaks)

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
            except psutil.Error:
                continue  # the process ended between two samples
