"""What a real server process holds under hostile requests (issue 19, points 3 and 5): the app served by uvicorn in
a process of its own, its resident memory read with psutil before and during each attack (sampled every 20 ms).

The numbers of each run go to tests/artifacts/memory/<test>.json.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from campaigns.db.migrate import upgrade
from tests.browser import ARTIFACTS
from tests.servers import ROOT, free_port, wait_for_port
from tests.web.signing import Signer

MiB = 1024 * 1024
PASSWORD = "correct horse battery staple"


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    signer: Signer

    @property
    def rss(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss


class PeakMemory:
    """The highest RSS of a process while the `with` block runs."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()

    def __enter__(self) -> PeakMemory:
        self.before = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.process.memory_info().rss


def record(name: str, **numbers) -> None:
    path = ARTIFACTS / "memory" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(numbers, indent=2) + "\n")


@contextmanager
def serving(db_url: str, tmp_path: Path, password_hash: str | None = None) -> Iterator[Server]:
    """The app on `db_url` (migrated, with one open campaign) under uvicorn in its own process."""
    upgrade(db_url)
    engine = create_engine(db_url)
    with engine.begin() as c:  # an open campaign for the sign-ups, written as SQL (any version of the code)
        c.execute(
            text(
                "INSERT INTO campaigns (slug, title, status, window_days, window_start_hour, window_end_hour, "
                "track_opens, track_clicks, current_version, created_at) "
                "VALUES ('test', 'Test', 'running', '[0,1,2,3,4]', 9, 17, false, false, 1, :at)"
            ),
            {"at": datetime.now(UTC)},
        )
    engine.dispose()
    port, signer = free_port(), Signer()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OUTREACH_DATABASE_URL": db_url,
        "OUTREACH_BASE_URL": f"http://127.0.0.1:{port}",
        "OUTREACH_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key,
        "OUTREACH_EVENTS_INLINE": "true",
        "OUTREACH_ADMIN_PASSWORD_HASH": password_hash or "",
    }
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-proxy-headers", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=30)
        httpx.get(f"http://127.0.0.1:{port}/brand.css", timeout=10)  # first request: imports done
        time.sleep(0.5)
        yield Server(proc, port, signer)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    with serving(f"sqlite:///{tmp_path / 'outreach.db'}", tmp_path) as running:
        yield running


def stream(port: int, path: str, total: int, headers: dict[str, str], first: bytes = b"") -> tuple[int, int]:
    """POST `total` bytes as a chunked body, a MiB at a time, stopping when the server answers or hangs up.
    Returns (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    chunk, sent = first + b" " * (MiB - len(first)), 0
    while sent < total:
        if select.select([sock], [], [], 0)[0]:
            break  # an answer came before the body ended
        try:
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            break
        sent, chunk = sent + len(chunk), b" " * MiB
    sock.settimeout(60)
    answer = b""
    try:
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent


@pytest.mark.parametrize(
    ("path", "size_mib", "first"),
    [
        ("/webhooks/sendgrid", 300, b'[{"event": "delivered", "x": "'),
        ("/api/signup", 200, b'{"email": "a@b.org", "n": "'),
    ],
)
def test_a_huge_chunked_body_is_refused_at_the_cap_without_being_held(server, path, size_mib, first):
    headers = {"Content-Type": "application/json"}
    if path.startswith("/webhooks"):
        headers |= server.signer.headers(b"", int(time.time()))  # the signature is checked after the body is read
    with PeakMemory(server.proc.pid) as memory:
        status, sent = stream(server.port, path, size_mib * MiB, headers, first)
        time.sleep(0.3)
    growth = (memory.peak - memory.before) / MiB
    record(
        f"body-{path.strip('/').replace('/', '-')}",
        body_mib=size_mib,
        sent_mib=round(sent / MiB, 1),
        status=status,
        rss_before_mib=round(memory.before / MiB, 1),
        rss_peak_mib=round(memory.peak / MiB, 1),
        rss_after_mib=round(memory.after / MiB, 1),
    )
    assert status == 413
    assert growth < 30, f"the server grew by {growth:.0f} MiB reading a body it refuses"
    assert server.proc.poll() is None and httpx.get(f"http://127.0.0.1:{server.port}/brand.css").status_code == 200


def login_client(port: int, ip: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Forwarded-For": ip}, timeout=60)
    page = client.get("/admin/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client, token


@pytest.fixture(scope="module")
def production_hash() -> str:
    """argon2-cffi's default cost, as `outreach admin hash-password` makes it: 64 MiB of memory per check."""
    return PasswordHasher().hash(PASSWORD)


def test_concurrent_wrong_passwords_from_one_address_get_five_checks(db_url, tmp_path, production_hash):
    """24 at once from one address: five are checked (401), the others refused before any argon2 work (429)."""
    with serving(db_url, tmp_path, production_hash) as server:
        clients = [login_client(server.port, "198.51.100.7") for _ in range(24)]
        barrier = threading.Barrier(len(clients))

        def attempt(pair: tuple[httpx.Client, str]) -> int:
            client, token = pair
            barrier.wait()
            return client.post("/admin/login", data={"password": "guess", "csrf": token}).status_code

        with ThreadPoolExecutor(len(clients)) as pool:
            statuses = sorted(pool.map(attempt, clients))
        assert statuses == [401] * 5 + [429] * 19
        fresh, token = login_client(server.port, "198.51.100.7")
        assert fresh.post("/admin/login", data={"password": PASSWORD, "csrf": token}).status_code == 429


def test_concurrent_password_checks_from_many_addresses_stay_within_a_few_argon2_buffers(tmp_path, production_hash):
    with serving(f"sqlite:///{tmp_path / 'outreach.db'}", tmp_path, production_hash) as server:
        clients = [login_client(server.port, f"203.0.113.{i + 1}") for i in range(24)]
        barrier = threading.Barrier(len(clients))

        def attempt(pair: tuple[httpx.Client, str]) -> int:
            client, token = pair
            barrier.wait()
            return client.post("/admin/login", data={"password": "guess", "csrf": token}).status_code

        with PeakMemory(server.proc.pid) as memory, ThreadPoolExecutor(len(clients)) as pool:
            statuses = list(pool.map(attempt, clients))
        growth = (memory.peak - memory.before) / MiB
        record(
            "argon2-24-at-once",
            attempts=len(statuses),
            checked=statuses.count(401),
            busy=statuses.count(503),
            rss_before_mib=round(memory.before / MiB, 1),
            rss_peak_mib=round(memory.peak / MiB, 1),
            rss_after_mib=round(memory.after / MiB, 1),
        )
        # The first two are checked at once; the rest wait their turn, and are told to try again after a while.
        assert set(statuses) <= {401, 503} and statuses.count(401) >= 2
        # Two checks at a time, 64 MiB each, and some slack for the allocator.
        assert growth < 2 * 64 + 48, f"24 concurrent sign-ins took {growth:.0f} MiB"
