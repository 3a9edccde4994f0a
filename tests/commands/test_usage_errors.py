"""Every kind of CLI mistake: a usage mistake is one line naming the `--help` to read, with exit code 2; a refusal
from the domain is one line with exit code 1; never a traceback. Each usage mistake runs through `main()` in this
process (the code path the installed command takes); the refusals and a group without its command run as processes
of the installed `outreach`, so its entry point, exit codes and streams are proven too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

OUTREACH = Path(sys.executable).with_name("outreach")


def run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(OUTREACH), *args], cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The `cli` fixture's database: one SQLite file (a usage mistake must not even create it)."""
    return f"sqlite:///{tmp_path / 'o.db'}"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "args, says, help_of",
    [
        (("campaign", "diff", "baclofen"), "Missing argument 'VERSION_A'", "outreach campaign diff"),
        (("campaign", "diff", "baclofen", "1"), "Missing argument 'VERSION_B'", "outreach campaign diff"),
        (("campaign", "show"), "Missing argument 'slug'", "outreach campaign show"),
        (("subscribers", "show"), "Missing argument 'ADDRESS|ID'", "outreach subscribers show"),
        (("campaign", "create", "x.txt"), "Missing option '--slug'", "outreach campaign create"),
        (("campiagn", "list"), "No such command 'campiagn'", "outreach"),
        (("campaign", "lst"), "No such command 'lst'", "outreach campaign"),
        (("stats", "--jsn"), "No such option: --jsn", "outreach stats"),
        (("campaign", "edit", "baclofen", "--step", "three"), "Invalid value for '--step'", "outreach campaign edit"),
        (("campaign", "schedule", "baclofen", "--start", "tomorrow"), "'tomorrow' is not an ISO time", None),
        (("campaign", "edit", "baclofen", "--step", "2"), "give at least one of --subject", "outreach campaign edit"),
        (("campaign", "enroll", "baclofen"), "give exactly one of --all, --tag TAG, --csv FILE", None),
        (("campaign", "window", "baclofen", "--cap", "5", "--no-cap"), "give --cap N or --no-cap, not both", None),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_code_2(cli, tmp_path, args, says, help_of):
    code, out, err = cli(*args)
    assert code == 2, err
    assert "Traceback" not in err and out == ""
    [line] = lines(err)
    assert line.startswith("error: ") and says in line
    command = help_of or f"outreach {args[0]} {args[1]}"
    assert line.endswith(f"Try '{command} --help'.")
    assert not (tmp_path / "o.db").exists()  # a usage mistake touches nothing, not even the database


def test_a_group_without_its_command_shows_what_it_offers(tmp_path):
    for args in ((), ("campaign",)):
        done = run(tmp_path, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
        assert "Usage: outreach" in done.stdout and "Commands" in done.stdout


def test_a_refusal_is_one_line_and_exit_code_1(tmp_path):
    done = run(tmp_path, "campaign", "show", "nope")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    # The first use of a fresh SQLite file says it made the tables, then the refusal: one line each.
    made, refusal = lines(done.stderr)
    assert "was empty: created the tables" in made
    assert refusal == "error: no campaign named 'nope' (`outreach campaign list` lists them)"
    done = run(tmp_path, "subscribers", "show", "3")
    assert done.returncode == 1 and lines(done.stderr) == [
        "error: no subscriber with id 3 (`outreach subscribers list` shows them)"
    ]
    done = run(tmp_path, "admin", "hash-password", stdin="short\n")
    assert done.returncode == 1 and lines(done.stderr) == ["error: admin password: use at least 12 characters"]


def test_hash_password_puts_only_the_hash_on_stdout(tmp_path):
    done = run(tmp_path, "admin", "hash-password", stdin="a long admin password\n")
    assert done.returncode == 0 and lines(done.stdout) == [done.stdout.strip()]
    assert done.stdout.startswith("$argon2id$")
