"""The README's "Run it on your machine", followed step by step as a newcomer would: every command a process of the
installed `outreach`, run from a folder of its own with the README's .env, a redis-server of the test's own (the
README's localhost:6379 may be someone else's here) and a free port for `outreach serve`.

Each command the test runs is also checked to be in that README section, so the two cannot drift apart unseen.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest

from campaigns.settings import PROJECT_ROOT
from tests.servers import Background, free_port, running, wait_for_port, wait_until

pytestmark = pytest.mark.slow
OUTREACH = Path(sys.executable).with_name("outreach")
PASSWORD = "a long enough admin password"


def readme_section() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Run it on your machine", 1)[1].split("\n## ", 1)[0]


@pytest.fixture
def home(tmp_path: Path, redis_server) -> tuple[Path, dict[str, str]]:
    """A folder to run from (the checkout's content/ beside it) and the environment: only what the test must move
    away from the README's defaults (its database, outbox, port and Redis would be the checkout's own)."""
    (tmp_path / "content").symlink_to(PROJECT_ROOT / "content")
    env = {
        "PATH": f"{OUTREACH.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'outreach.db'}",
        "OUTREACH_OUTBOX_DIR": str(tmp_path / "var" / "outbox"),
        "OUTREACH_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "CELERY_BROKER_URL": redis_server.url,
        "COLUMNS": "200",
    }
    return tmp_path, env


def test_the_readme_recipe_runs_from_a_fresh_folder_to_emails_in_the_outbox(home):
    folder, env = home
    section = readme_section()

    def in_readme(*args: str) -> None:
        command = " ".join(("outreach", *(a for a in args if a != "--json")))  # the test reads JSON, people tables
        assert command in section, f"not in the README's recipe: {command}"

    def outreach(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        in_readme(*args)
        done = subprocess.run(
            [str(OUTREACH), *args], cwd=folder, env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    # 1. A secret key in .env.
    (folder / ".env").write_text("OUTREACH_SECRET_KEY=a-long-random-value-for-this-test-only\n", encoding="utf-8")

    # 2. The database, an owner's account (the password from stdin, as a script would give it), then the web app.
    upgraded = outreach("db", "upgrade")
    assert upgraded.returncode == 0 and "migrated empty" in upgraded.stdout
    added = outreach("admin", "add-user", "you@example.org", "--role", "owner", "--password", stdin=PASSWORD + "\n")
    assert added.returncode == 0 and "added you@example.org as owner" in added.stdout, added.stderr
    base = env["OUTREACH_BASE_URL"]
    in_readme("serve")
    in_readme("worker")  # with one process here: two cores are shared by the whole test run
    serve = Background([str(OUTREACH), "serve"], env=env, cwd=folder, log=folder / "serve.log")
    worker = Background([str(OUTREACH), "worker", "--concurrency", "1"], env=env, cwd=folder, log=folder / "worker.log")
    with running(serve):
        wait_for_port(int(base.rsplit(":", 1)[1]), timeout=30)
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as admin:
            login = admin.get("/admin")
            assert login.url.path == "/admin/login" and "Sign in" in login.text
            token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
            overview = admin.post(
                "/admin/login", data={"email": "you@example.org", "password": PASSWORD, "csrf": token}
            )
            assert overview.url.path == "/admin" and "No campaigns yet" in overview.text

            # 3. A campaign, open at every hour, the demo subscribers, a start.
            created = outreach("campaign", "create", "content/baclofen-misuse-article.txt", "--slug", "baclofen")
            assert created.returncode == 0 and "created draft campaign baclofen" in created.stdout
            assert outreach("campaign", "window", "baclofen", "--days", "mon-sun", "--hours", "0-24").returncode == 0
            enrolled = outreach("campaign", "enroll", "baclofen", "--csv", "content/demo-subscribers.csv")
            people = sum(1 for line in (PROJECT_ROOT / "content" / "demo-subscribers.csv").open() if "@" in line)
            assert enrolled.returncode == 0 and f"{people} enrolled" in enrolled.stdout
            scheduled = outreach("campaign", "schedule", "baclofen", "--start", "now")
            assert scheduled.returncode == 0 and "scheduled to start" in scheduled.stdout
            assert "baclofen" in admin.get("/admin/campaigns").text

            # 4. A worker, and a tick that hands it the due emails.
            with running(worker):
                ticked = outreach("tick")
                assert ticked.returncode == 0, ticked.stderr
                assert f"{people} emails due; {people} in 1 batch for the workers" in ticked.stdout
                outbox = folder / "var" / "outbox"
                wait_until(lambda: len(list(outbox.glob("**/*.eml"))) == people, timeout=90, what="every email")

                # A worker writes the .eml, then records the email as sent: wait for the record too, before the
                # worker stops (a stop between the two leaves an email for the next tick, not a count).
                def sent() -> int:
                    stats = outreach("stats", "baclofen", "--json")
                    assert stats.returncode == 0, stats.stderr
                    return json.loads(stats.stdout)["total"]["sent"]

                wait_until(lambda: sent() == people, timeout=60, interval=1, what="every email recorded as sent")

            # 5. What a person then sees: the emails, the stats, the admin.
            emails = [BytesParser(policy=policy.default).parse(p.open("rb")) for p in outbox.glob("**/*.eml")]
            assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in emails) == sorted(
                line.split(",")[0] for line in (PROJECT_ROOT / "content" / "demo-subscribers.csv").open() if "@" in line
            )
            assert sent() == people
            page = admin.get("/admin/campaigns/baclofen").text
            assert "Baclofen" in page and f"{people} sent" in page
    assert "serving" in serve.log_text() and "/admin" in serve.log_text()
