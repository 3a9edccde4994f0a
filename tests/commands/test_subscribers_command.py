"""`outreach db upgrade` and `outreach subscribers import|list|show|remove`, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from campaigns.db.migrate import current_revision, head_revision
from campaigns.db.models import Campaign
from campaigns.db.session import make_engine, make_session_factory
from tests.builders import TEST_ADDRESS_KEY

ROOT = Path(__file__).resolve().parents[2]
GOOD = (
    "email,name,timezone,consent_at\nann@example.com,Ann,America/New_York,2026-01-02T03:04:05Z\n"
    "bob@example.com,Bob,Europe/Berlin,\n"
)


def add_campaign(db_url: str, slug: str = "drip") -> None:
    engine = make_engine(db_url)
    with make_session_factory(engine, TEST_ADDRESS_KEY).begin() as s:
        s.add(Campaign(slug=slug, title="Drip", status="draft", created_at=datetime.now(UTC)))
    engine.dispose()


def test_db_upgrade_migrates_the_configured_database(cli, db_url):
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and f"migrated empty -> {head_revision()}" in out
    assert current_revision(db_url) == head_revision()
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and "already up to date" in out


def test_import_reports_problem_lines_and_exits_1(cli, tmp_path):
    cli("db", "upgrade")
    path = tmp_path / "people.csv"
    path.write_text(GOOD + "not-an-address,Carl,UTC,\ndan@example.com,Dan,Nowhere/City,\n", encoding="utf-8")
    code, out, _ = cli("subscribers", "import", str(path))
    assert code == 1
    assert "│    4 │ bad address" in out and "│    5 │ bad time zone 'Nowhere/City'" in out
    assert "imported 2 of 4 rows" in out and "2 problems" in out
    code, out, _ = cli("subscribers", "list", "--json")
    assert [x["email"] for x in json.loads(out)] == ["ann@example.com", "bob@example.com"]


def test_import_dry_run_writes_nothing_and_exits_0(cli, tmp_path, db_url):
    cli("db", "upgrade")
    add_campaign(db_url)
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out, _ = cli("subscribers", "import", str(path), "--campaign", "drip", "--dry-run")
    assert code == 0
    assert "dry run, nothing written: would import 2 of 2 rows, would enroll 2 in drip" in out
    assert json.loads(cli("subscribers", "list", "--json")[1]) == []


def test_import_errors_are_one_line_without_traceback(cli, tmp_path):
    cli("db", "upgrade")
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, _, err = cli("subscribers", "import", str(path), "--campaign", "nope")
    assert code == 1 and "no campaign named 'nope'" in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,timezone\nAnn,UTC\n", encoding="utf-8")
    code, _, err = cli("subscribers", "import", str(bad))
    assert code == 1 and f"{bad}:1: missing column email" in " ".join(err.split())


def test_import_list_show_remove(cli, tmp_path, db_url):
    cli("db", "upgrade")
    add_campaign(db_url)
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out, _ = cli("subscribers", "import", str(path), "--campaign", "drip")
    assert code == 0 and "imported 2 of 2 rows, enrolled 2 in drip" in out

    code, out, _ = cli("subscribers", "show", "ANN@example.com", "--json")
    ann = json.loads(out)
    assert code == 0 and (ann["name"], ann["timezone"], ann["status"]) == ("Ann", "America/New_York", "active")
    assert ann["consent_at"] == "2026-01-02T03:04:05+00:00"
    assert ann["enrollments"] == [{"campaign": "drip", "next_step": 1, "status": "active", "next_due_at": None}]
    assert ann["suppressed"] is None
    code, out, _ = cli("subscribers", "show", "ann@example.com")
    assert code == 0 and "America/New_York" in out and "campaign drip" in out

    code, out, _ = cli("subscribers", "remove", "ann@example.com", "--yes")
    assert code == 0 and "1 enrollments stopped" in out
    ann = json.loads(cli("subscribers", "show", "ann@example.com", "--json")[1])
    assert ann["status"] == "unsubscribed" and ann["suppressed"]["reason"] == "manual"
    assert ann["enrollments"][0]["status"] == "stopped"

    code, out, _ = cli("subscribers", "list", "--status", "active", "--json")
    assert [x["email"] for x in json.loads(out)] == ["bob@example.com"]
    code, out, _ = cli("subscribers", "list", "--limit", "1")
    assert "ann@example.com" in out and "bob@example.com" not in out and "more: --after" in out
    code, _, err = cli("subscribers", "show", "nobody@example.com")
    assert code == 1 and "no subscriber with that address" in err


def test_the_installed_command_exits_1_on_problems(tmp_path):
    """The real `outreach` entry point, in its own process (SQLite only: the shell is the same on both)."""
    exe = Path(sys.executable).with_name("outreach")
    env = {
        "PATH": "/usr/bin:/bin",
        "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'o.db'}",
        "HOME": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    assert run("db", "upgrade").returncode == 0
    path = tmp_path / "people.csv"
    path.write_text(GOOD + "bad,X,UTC,\n", encoding="utf-8")
    done = run("subscribers", "import", str(path))
    assert done.returncode == 1 and "bad address" in done.stdout
    again = run("subscribers", "list", "--json")
    assert again.returncode == 0 and len(json.loads(again.stdout)) == 2


def test_show_remove_export_and_erase_take_the_id_that_list_shows(cli, tmp_path, monkeypatch):
    cli("db", "upgrade")
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    cli("subscribers", "import", str(path))
    listed = json.loads(cli("subscribers", "list", "--json")[1])
    bob = next(x for x in listed if x["email"] == "bob@example.com")
    code, out, _ = cli("subscribers", "show", str(bob["id"]), "--json")
    assert code == 0 and json.loads(out)["email"] == "bob@example.com"
    code, out, _ = cli("subscribers", "export", str(bob["id"]))
    assert code == 0 and json.loads(out)["subscriber"]["name"] == "Bob"
    code, _, err = cli("subscribers", "show", "999")
    assert code == 1 and "no subscriber with id 999 (`outreach subscribers list` shows them)" in " ".join(err.split())

    # Removing asks first, naming who, like erasing does; "no" changes nothing.
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    code, _, err = cli("subscribers", "remove", str(bob["id"]))
    assert code == 130 and f"Stop every email to subscriber {bob['id']} (bob@example.com)" in err
    assert json.loads(cli("subscribers", "show", "bob@example.com", "--json")[1])["status"] == "active"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("y\n"))
    code, out, _ = cli("subscribers", "remove", str(bob["id"]))
    assert code == 0 and f"subscriber {bob['id']} removed" in out
    assert json.loads(cli("subscribers", "show", "bob@example.com", "--json")[1])["status"] == "unsubscribed"
    # A wrong address is said at once, before any question.
    code, _, err = cli("subscribers", "remove", "nobody@example.com")
    assert code == 1 and "no subscriber with that address" in err and "Stop every email" not in err


def test_subscribers_help_lists_every_command(cli):
    code, out, _ = cli("subscribers", "--help")
    assert code == 0
    for name in ("import", "list", "show", "remove", "export", "erase"):
        assert f" {name} " in out
    assert "export or erase one person's data" in out
