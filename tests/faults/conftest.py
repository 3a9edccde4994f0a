"""The rig for fault tests: real processes (Celery workers, redis-server, the local SendGrid server) on a real
database, plus helpers that count what the SendGrid server accepted per (recipient, step).

Each test gets its own redis-server and SendGrid server process, and on PostgreSQL its own database (not a schema
in the shared one): the database-outage test closes that database to new connections and ends its sessions.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db.migrate import upgrade
from campaigns.db.models import Delivery, Enrollment
from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery import state as ds
from campaigns.delivery import tick as drip
from tests.builders import TEST_ADDRESS_KEY, enroll, make_campaign
from tests.conftest import PG_ADMIN, PG_URL, _postgres_unreachable
from tests.parts import require_part
from tests.servers import ROOT, CeleryWorker, RedisServer, free_port, wait_for_port

API_KEY = "SG.fault-test-key"
#: Past both leases: a tick at now + AFTER_LEASES takes back dead claims and re-hands out lost batches.
AFTER_LEASES = ds.QUEUE_LEASE + ds.SEND_LEASE + timedelta(minutes=1)
STUCK = ("queued", "sending", "submitting")


def pg_admin(sql: str, database: str = "postgres") -> list[tuple]:
    """Run one statement as the PostgreSQL superuser in autocommit mode (DDL, ALTER DATABASE, terminate)."""
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}"), autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (dropped at the end, whatever still holds a connection)."""
    reason = _postgres_unreachable()
    if reason:
        require_part("postgresql", reason)
    name = f"outreach_fault_{secrets.token_hex(5)}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(name=name)
    finally:
        pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'outreach.db'}"


class SendGridProcess:
    """`python -m tests.sendgrid_server` in a process of its own, steered and read over its /_test/ endpoints."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self._log = open(log, "ab")  # noqa: SIM115 (open while the server runs; stop() closes it)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sendgrid_server", "--port", str(self.port), "--api-key", API_KEY],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, path: str, data: dict | None = None):
        body = None if data is None else json.dumps(data).encode()
        with urllib.request.urlopen(urllib.request.Request(self.url + path, data=body), timeout=10) as r:
            return json.loads(r.read())

    def fault(self, kind: str, count: int, **options) -> None:
        """Make the next `count` requests fail: kind rate_limit (429), error (500) or hang (no answer)."""
        self._call("/_test/faults", {"kind": kind, "count": count, **options})

    def sent(self) -> list[dict]:
        """One row per accepted email: email, custom_args (delivery_id, campaign, step), message_id."""
        return self._call("/_test/sent")

    def statuses(self) -> list[int]:
        """The status of every request received, in order (0: a hang, no answer given)."""
        return [r["status"] for r in self._call("/_test/requests")]

    def per_recipient_step(self) -> Counter[tuple[str, str]]:
        return Counter((row["email"], row["custom_args"]["step"]) for row in self.sent())

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._log.close()


@pytest.fixture
def sendgrid(tmp_path: Path) -> Iterator[SendGridProcess]:
    server = SendGridProcess(tmp_path / "sendgrid.log")
    yield server
    server.stop()


# Real sending refuses placeholder values (reserved domains, 555 numbers), so this brand looks real; every address
# here only ever reaches the local SendGrid server.
BRAND = """\
examples = []
name = "Fault Test Clinic"
legal_name = "Fault Test Clinic LLC"
address = "1 Test Street, Testville, TS 00001"
phone = "+1-202-730-0100"
phone_display = "(202) 730-0100"
website = "https://www.faulttest-clinic.org"
cta_url = "https://www.faulttest-clinic.org/contact"
sender_name = "Fault Test Clinic"
sender_email = "learn@faulttest-clinic.org"
reply_to = "help@faulttest-clinic.org"
language = "en"
notice = "This email is educational and is not medical advice."
accent_color = "#1f6f5c"
"""


@dataclass
class Rig:
    """One test's world: database, broker, SendGrid server, workers started on demand, and what to check after."""

    db_url: str
    factory: sessionmaker[Session]
    redis: RedisServer
    sendgrid: SendGridProcess
    tmp_path: Path
    campaign_id: int = 0
    emails: list[str] = field(default_factory=list)
    workers: list[CeleryWorker] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.tmp_path / "brand.toml").write_text(BRAND)
        self.client = Celery(broker=self.redis.url)

    def populate(self, n: int) -> None:
        """A running campaign whose first step is due now for `n` subscribers (person0@example.com …)."""
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        self.campaign_id = make_campaign(self.factory, start=an_hour_ago)
        enroll(self.factory, self.campaign_id, n, enrolled_at=an_hour_ago)
        self.emails = [f"person{i}@example.com" for i in range(n)]

    def worker(self, name: str, concurrency: int = 1, **env: str) -> CeleryWorker:
        w = CeleryWorker(
            {
                "OUTREACH_DATABASE_URL": self.db_url,
                "CELERY_BROKER_URL": self.redis.url,
                "OUTREACH_EMAIL_BACKEND": "sendgrid",
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_API_HOST": self.sendgrid.url,
                "OUTREACH_BASE_URL": "https://outreach.test",
                "OUTREACH_BRAND_FILE": str(self.tmp_path / "brand.toml"),
                "OUTREACH_SECRET_KEY": "fK3mZ8qW1xN6vB4tR7yL2pH9cJ0dG5sA",
                **env,
            },
            self.tmp_path / f"{name}.log",
            concurrency=concurrency,
        )
        w.start()
        self.workers.append(w)
        return w

    def emit(self, ids: list[int]) -> None:
        """Queue one batch on Redis, as the tick task does."""
        self.client.send_task("outreach.send_batch", args=[ids], queue="send")

    def tick(self, later: timedelta = timedelta(0), batch_size: int = 25) -> drip.TickReport:
        """The scheduler tick, run here; `later` moves its clock forward (past the leases, instead of waiting)."""
        # Batches all of one size (no small first and last ones): the tests count them and stop one mid-send.
        later_now = datetime.now(UTC) + later
        return drip.tick(self.factory, later_now, self.emit, batch_size=batch_size, smallest=batch_size)

    def statuses(self) -> Counter[str]:
        with self.factory() as s:
            return Counter(dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()))

    def count(self, *statuses: str) -> int:
        counts = self.statuses()
        return sum(counts[s] for s in statuses)

    def deliveries(self) -> list[Delivery]:
        with self.factory() as s:
            return list(s.scalars(select(Delivery).order_by(Delivery.id)))

    def next_steps(self) -> Counter[int]:
        with self.factory() as s:
            return Counter(s.scalars(select(Enrollment.next_step)))

    def assert_each_sent_once(self) -> None:
        """Every subscriber got step 1 exactly once (as the SendGrid server counted it), and nothing is stuck."""
        counts = self.sendgrid.per_recipient_step()
        doubled = {k: v for k, v in counts.items() if v > 1}
        assert not doubled, f"sent more than once: {doubled}"
        assert set(counts) == {(e, "1") for e in self.emails}, (
            f"{len(self.emails) - len(counts)} of {len(self.emails)} never sent"
        )
        assert self.count(*STUCK) == 0, self.statuses()
        with self.factory() as s:
            assert s.scalar(select(func.count()).select_from(Delivery)) == len(self.emails)  # one per enrollment

    def stop(self) -> None:
        for w in self.workers:
            w.stop()


def make_rig(db_url: str, redis: RedisServer, sendgrid: SendGridProcess, tmp_path: Path) -> Rig:
    upgrade(db_url)
    return Rig(db_url, make_session_factory(make_engine(db_url), TEST_ADDRESS_KEY), redis, sendgrid, tmp_path)


@pytest.fixture
def pg_rig(pg_url, redis_server, sendgrid, tmp_path) -> Iterator[Rig]:
    rig = make_rig(pg_url, redis_server, sendgrid, tmp_path)
    yield rig
    rig.stop()
    rig.factory.kw["bind"].dispose()


@pytest.fixture
def rig_sqlite(sqlite_url, redis_server, sendgrid, tmp_path) -> Iterator[Rig]:
    rig = make_rig(sqlite_url, redis_server, sendgrid, tmp_path)
    yield rig
    rig.stop()
    rig.factory.kw["bind"].dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def rig(request, redis_server, sendgrid, tmp_path) -> Iterator[Rig]:
    """A rig on SQLite and on PostgreSQL (each test using it runs twice)."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    rig = make_rig(url, redis_server, sendgrid, tmp_path)
    yield rig
    rig.stop()
    rig.factory.kw["bind"].dispose()
