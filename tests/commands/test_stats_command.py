"""`outreach stats` and `outreach admin hash-password` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

from argon2 import PasswordHasher

from campaigns.db.migrate import upgrade
from campaigns.db.session import make_engine, make_session_factory
from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from campaigns.settings import PROJECT_ROOT
from tests.builders import START, TEST_ADDRESS_KEY
from tests.insight.support import sent_campaign, sg_event


def outreach(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from outreach.cli import main; main()", *args],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
    )


def test_stats_json_and_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    upgrade(url)
    factory = make_session_factory(make_engine(url), TEST_ADDRESS_KEY)
    _, d = sent_campaign(factory, 4)
    with factory.begin() as s:
        record_events(
            s,
            [
                from_sendgrid(e, START)
                for e in (
                    sg_event("delivered", 0, d[(0, 1)], START),
                    sg_event("delivered", 1, d[(1, 1)], START),
                    sg_event("open", 0, d[(0, 1)], START),
                    sg_event("open", 0, d[(0, 1)], START),
                )
            ],
            START,
            soft_bounce_limit=3,
        )
    env = {"OUTREACH_DATABASE_URL": url}
    one = outreach("stats", "test", "--json", env=env)
    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert (data["total"]["sent"], data["total"]["delivered"], data["total"]["opened"]) == (4, 2, 1)
    assert data["steps"][0]["open_rate"] == 0.5 and "privacy" in data["opens_note"]
    table = outreach("stats", env={**env, "COLUMNS": "200"})
    assert table.returncode == 0 and "test (running)" in table.stdout and "Apple Mail Privacy" in table.stdout
    missing = outreach("stats", "nope", env=env)
    assert missing.returncode == 1 and "no campaign named 'nope'" in missing.stderr


def test_hash_password_prints_a_hash_that_verifies(tmp_path):
    done = outreach("admin", "hash-password", env={}, input="a long admin password\na long admin password\n")
    assert done.returncode == 0, done.stderr
    hashed = "$argon2id$" + done.stdout.split("$argon2id$", 1)[1].strip()  # after the prompts
    assert PasswordHasher().verify(hashed, "a long admin password")
    short = outreach("admin", "hash-password", env={}, input="short\nshort\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr


def test_a_campaign_that_sent_nothing_has_no_health_yet(cli, session_factory):
    from tests.builders import make_campaign

    make_campaign(session_factory, status="draft")
    code, out, _ = cli("stats", "test")
    assert code == 0 and "nothing sent yet" in out and "health ok" not in out
