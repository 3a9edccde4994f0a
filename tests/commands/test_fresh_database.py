"""A database nobody has migrated yet, met by each entry point: a command and `outreach serve` as processes, and the
web app's pages. SQLite (a local file, one user) is migrated on first use with one line saying so; PostgreSQL is
refused with one line naming `outreach db upgrade`; a page never answers a bare 500 for missing tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from campaigns.db.session import make_engine, make_session_factory
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.settings import load_settings
from tests.builders import TEST_ADDRESS_KEY
from tests.servers import Background, free_port, running, wait_for_port
from tests.web.admin_support import admin_app
from web.app import create_app

OUTREACH = Path(sys.executable).with_name("outreach")


def env_for(db_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OUTREACH_DATABASE_URL": db_url, "COLUMNS": "200", **more}


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(OUTREACH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_every_command_meets_a_fresh_database_the_same_way(db_url, tmp_path):
    env = env_for(db_url, tmp_path)
    first = run(env, tmp_path, "campaign", "list", "--json")
    assert "Traceback" not in first.stderr
    if db_url.startswith("sqlite"):
        assert first.returncode == 0 and first.stdout.strip() == "[]"
        [said] = lines(first.stderr)
        assert said.startswith("database sqlite:///") and "was empty: created the tables (revision" in said
        again = run(env, tmp_path, "stats", "--json")
        assert again.returncode == 0 and again.stderr == ""  # said once, when it happened
    else:
        assert first.returncode == 1 and first.stdout == ""
        [said] = lines(first.stderr)
        assert said.startswith("error: the database postgresql+psycopg://") and "has no tables yet" in said
        assert said.endswith("(run `outreach db upgrade` first)")
        for args in (("stats",), ("subscribers", "list"), ("tick",), ("campaign", "show", "x")):
            done = run(env, tmp_path, *args)
            assert done.returncode == 1 and lines(done.stderr) == [said], args
        assert run(env, tmp_path, "db", "upgrade").returncode == 0
        assert run(env, tmp_path, "campaign", "list", "--json").stdout.strip() == "[]"


def test_serve_checks_the_database_before_it_listens(db_url, tmp_path):
    port = free_port()
    env = env_for(db_url, tmp_path, OUTREACH_BASE_URL=f"http://127.0.0.1:{port}")
    if db_url.startswith("postgresql"):
        done = run(env, tmp_path, "serve")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert lines(done.stderr)[-1].endswith("has no tables yet (run `outreach db upgrade` first)")
        return
    server = Background([str(OUTREACH), "serve"], env=env, cwd=tmp_path, log=tmp_path / "serve.log")
    with running(server):
        wait_for_port(port, timeout=30)
        page = httpx.get(f"http://127.0.0.1:{port}/signup", timeout=10)
    assert page.status_code != 500
    log = server.log_text()
    assert "was empty: created the tables" in log and "Traceback" not in log


def test_pages_on_a_database_without_tables_say_so_instead_of_a_500(db_url, tmp_path):
    """An app started on an empty database (say, `db upgrade` forgotten after dropping it): a page for subscribers
    that says nothing of servers, an admin page that names the fix."""
    engine = make_engine(db_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    try:
        settings = load_settings(database_url=db_url, outbox_dir=tmp_path / "outbox", secret_key="k")
        public = TestClient(create_app(settings, factory, RecordingProvider()), raise_server_exceptions=False)
        page = public.get("/signup")
        assert page.status_code == 503 and page.headers["retry-after"] == "300"
        assert "This page cannot be shown right now" in page.text and "db upgrade" not in page.text
        app = admin_app(db_url, factory, tmp_path)
        # The sign-in page asks the database whether staff accounts exist: that is where the admin learns it.
        answer = TestClient(app, base_url="https://testserver", raise_server_exceptions=False).get("/admin/login")
        assert answer.status_code == 503 and "run `outreach db upgrade`" in answer.text
        assert 'class="top"' in answer.text and "crisis" not in answer.text  # the admin's own design
    finally:
        engine.dispose()
