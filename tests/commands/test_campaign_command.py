"""`outreach campaign ...` and `outreach send-test` end to end on a real database.

Most commands run in-process through Typer's CliRunner (fast); refusals run through the real `outreach` entrypoint
in a subprocess, to see the one-line message and exit code a person gets. SQLite only: the domain behind every
command is tested on both databases in the other files of this folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from campaigns.settings import PROJECT_ROOT
from outreach import bootstrap
from outreach.commands import campaign as campaign_commands
from outreach.commands import series as series_commands

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
OUTREACH = Path(sys.executable).parent / "outreach"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def env(db_url, session_factory, tmp_path, monkeypatch) -> dict[str, str]:
    values = {
        "OUTREACH_DATABASE_URL": db_url,
        "OUTREACH_OUTBOX_DIR": str(tmp_path / "outbox"),
        "OUTREACH_EMAIL_BACKEND": "outbox",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for cached in (bootstrap.get_settings, bootstrap.get_brand, bootstrap.get_session_factory):
        cached.cache_clear()
    yield values
    for cached in (bootstrap.get_settings, bootstrap.get_brand, bootstrap.get_session_factory):
        cached.cache_clear()


@pytest.fixture
def cli(env):
    app = typer.Typer()
    campaign_commands.register(app)
    series_commands.register(app)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return run


def outreach(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(OUTREACH), *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env}, cwd=PROJECT_ROOT
    )


def test_the_whole_workflow_from_the_command_line(cli, env, tmp_path):
    assert "created draft campaign baclofen: 9 steps" in cli(
        "campaign", "create", str(SEED), "--slug", "baclofen", "--actor", "ana"
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "email,name,timezone\nann@example.com,Ann,America/New_York\nbob@example.com,Bob,UTC\n", encoding="utf-8"
    )
    assert "2 new subscribers imported, 2 enrolled" in cli("campaign", "enroll", "baclofen", "--csv", str(people))
    assert "version 2: step 3: subject" in cli(
        "campaign", "edit", "baclofen", "--step", "3", "--subject", "Is baclofen addictive?", "--actor", "bea"
    )
    assert "version 3: window" in cli(
        "campaign", "window", "baclofen", "--days", "mon-sat", "--hours", "8-18", "--cap", "500"
    )
    diff = json.loads(cli("campaign", "diff", "baclofen", "1", "2", "--json"))
    assert {(c["step"], c["field"]) for c in diff["changes"]} >= {(3, "subject"), (3, "content")}
    assert "warning" in cli("campaign", "check", "baclofen")  # the example brand: a warning for the outbox
    assert "scheduled to start 2030-01-07T14:00:00+00:00" in cli(
        "campaign", "schedule", "baclofen", "--start", "2030-01-07T14:00:00+00:00"
    )
    forecast = json.loads(cli("campaign", "forecast", "baclofen", "--json"))
    assert len(forecast["forecast"]) == 14 and forecast["next"] == []  # the start is years ahead

    shown = json.loads(cli("campaign", "show", "baclofen", "--json"))
    assert (shown["status"], shown["version"], shown["daily_cap"], len(shown["steps"])) == ("scheduled", 3, 500, 9)
    assert shown["steps"][2]["subject"] == "Is baclofen addictive?"
    assert shown["window"] == {
        "days": [0, 1, 2, 3, 4, 5],
        "start_hour": 8,
        "end_hour": 18,
        "describe": "mon,tue,wed,thu,fri,sat 08:00-18:00 local time",
    }
    assert shown["audience"]["total"] == 2
    assert [a["action"] for a in reversed(shown["audit"])] == ["created", "enrolled", "edited", "edited", "scheduled"]
    assert (shown["audit"][-1]["actor"], shown["audit"][-3]["actor"]) == ("ana", "bea")  # --actor, else the OS user
    assert "Baclofen Misuse" in cli("campaign", "show", "baclofen")  # the table view prints too

    assert "test accepted" in cli("send-test", "baclofen", "--step", "2", "--to", "staff@example.com")
    written = list((tmp_path / "outbox").rglob("*.eml"))
    assert len(written) == 1 and "staff@example.com" in written[0].read_text()
    assert "baclofen: paused" in cli("campaign", "pause", "baclofen")
    assert "baclofen: scheduled" in cli("campaign", "resume", "baclofen")
    assert "baclofen: archived" in cli("campaign", "archive", "baclofen")
    listed = json.loads(cli("campaign", "list", "--json"))
    assert [(c["slug"], c["status"], c["subscribers"]) for c in listed] == [("baclofen", "archived", 2)]


def test_refusals_print_one_line_and_exit_1(cli, env):
    cli("campaign", "create", str(SEED), "--slug", "baclofen")
    result = outreach(env, "campaign", "schedule", "baclofen", "--start", "now")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = " ".join(result.stderr.split())
    assert "error: campaign 'baclofen' has no subscribers yet: enroll some before scheduling it" in line
    assert "`outreach campaign enroll baclofen --all`" in line  # the command line adds how
    result = outreach(env, "campaign", "resume", "nope")
    assert result.returncode == 1 and "no campaign named 'nope'" in result.stderr


PASTED = """<h1>Coming Back From a Relapse</h1>
<p>A relapse can feel like the end of recovery, but for most people it is one step in a longer process of change.</p>
<h2>What a Relapse Means</h2>
<p>It means the plan needs adjusting, not that the effort was wasted. Many relapse before they find what works.</p>
<h2>Planning the Next Step</h2>
<p>Talk through what happened with someone you trust, and decide together what to change in the weeks ahead.</p>
"""


def test_a_campaign_from_pasted_html_keeps_the_pasted_text_for_later_versions(cli, env):
    def piped(*args: str, text: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(OUTREACH), *args],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
            cwd=PROJECT_ROOT,
        )

    created = piped("campaign", "create", "-", "--slug", "relapse", "--actor", "ana", text=PASTED)
    assert created.returncode == 0, created.stderr
    shown = json.loads(cli("campaign", "show", "relapse", "--json"))
    assert shown["title"] == "Coming Back From a Relapse"
    assert shown["audit"][-1]["detail"].startswith("from pasted text")
    # An edit re-plans from the stored (pasted) article: it must still give the same steps.
    assert "version 2" in cli("campaign", "edit", "relapse", "--step", "2", "--subject", "What a relapse means")
    revised = PASTED.replace("weeks ahead", "weeks and months ahead")
    again = piped("campaign", "reimport", "relapse", "-", text=revised)
    assert again.returncode == 0 and "re-imported from pasted text" in again.stdout


def test_series_export_then_reimport_round_trips_and_an_edit_is_a_version(cli, tmp_path):
    """`outreach series export SLUG > series.md`, then `outreach campaign reimport SLUG series.md`."""
    from campaigns.errors import StateError

    cli("campaign", "create", str(SEED), "--slug", "baclofen")
    exported = cli("series", "export", "baclofen")
    assert exported.startswith("---\n") and exported.count("\nkind: lesson\n") == 7
    path = tmp_path / "series.md"
    path.write_text(exported, encoding="utf-8")
    with pytest.raises(StateError, match="nothing to change"):
        cli("campaign", "reimport", "baclofen", str(path))
    path.write_text(exported.replace('series: "Baclofen Misuse"', 'series: "Baclofen, plainly"'), encoding="utf-8")
    said = " ".join(cli("campaign", "reimport", "baclofen", str(path)).split())
    assert "version 2: series file series.md: series name 'Baclofen Misuse' -> 'Baclofen, plainly'" in said
    assert cli("series", "export", "baclofen") == path.read_text(encoding="utf-8")
