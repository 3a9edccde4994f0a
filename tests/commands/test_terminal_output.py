"""What the CLI prints of stored text (issue 19, point 8), and `outreach serve` on a public address (point 2)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaigns.db.models import Campaign, Subscriber
from tests.builders import KEYS

ROOT = Path(__file__).resolve().parents[2]
# Stored before input was cleaned (or written by another program): a clear-screen, a window title, a bell, an 8-bit
# CSI, a right-to-left override, and Rich markup that would either style the terminal or stop the command.
HOSTILE_NAMES = [
    "Ann\x1b[2J\x1b[H",
    "Bob\x1b]0;pwned\x07",
    "Cy\x9b31m",
    "Dee\u202eevil",
    "[/]",
    "[link=https://evil.example]Eve[/link]",
]


@pytest.fixture
def hostile_rows(session_factory):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with session_factory.begin() as s:
        for i, name in enumerate(HOSTILE_NAMES):
            address = f"p{i}@example.com"
            s.add(Subscriber(email=address, email_key=KEYS.of(address), name=name, timezone="UTC", created_at=now))
        s.add(Campaign(slug="drip", title="Drip \x1b[2J [/] [bold]loud[/bold]", status="draft", created_at=now))


@pytest.mark.parametrize(
    "args", [("subscribers", "list"), ("subscribers", "show", "p0@example.com"), ("campaign", "list")]
)
def test_stored_text_is_printed_with_its_controls_visible_and_never_as_markup(cli, hostile_rows, args):
    code, out, err = cli(*args)
    assert code == 0, err
    assert not any(c in out for c in "\x1b\x07\x9b\u202e"), repr(out)
    assert "\\x1b" in out
    if args[0] == "subscribers" and args[1] == "list":
        for shown in ("\\x1b]0;pwned\\x07", "\\x9b31m", "\\u202eevil", "[/]", "[link=https://evil.example]Eve[/link]"):
            assert shown in out, shown
    if args[0] == "campaign":
        assert "[/]" in out and "[bold]loud[/bold]" in out  # shown as typed, not read as markup


def test_an_error_quoting_what_was_typed_is_one_line_even_with_brackets(cli, session_factory):
    code, _, err = cli("campaign", "show", "[/]")
    assert code == 1 and "no campaign named '[/]'" in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("who", ["²", "100000000000000000000"])
def test_a_subscriber_number_that_is_no_id_is_not_found(cli, session_factory, who):
    code, _, err = cli("subscribers", "show", who)
    assert code == 1 and "no subscriber" in err and "Traceback" not in err


def test_serve_refuses_the_development_key_on_a_public_address(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
        "OUTREACH_BASE_URL": "https://outreach.example.org",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("outreach")), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "OUTREACH_SECRET_KEY" in line and "built-in development value" in line
