"""`outreach subscribers export|erase ADDRESS` and `outreach serve`'s listen address, run as a user would."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from campaigns.db.models import Subscriber, Suppression
from campaigns.settings import load_settings
from outreach.commands.serve import listen_address
from tests.builders import KEYS, enroll, make_campaign


def test_export_prints_everything_as_json(cli, session_factory, tmp_path):
    enroll(session_factory, make_campaign(session_factory), 1)
    code, out, _ = cli("subscribers", "export", "PERSON0@example.com")
    assert code == 0
    data = json.loads(out)
    assert data["subscriber"]["email"] == "person0@example.com" and data["enrollments"][0]["campaign"] == "test"
    code, out, _ = cli("subscribers", "export", "person0@example.com", "--output", str(tmp_path / "p.json"))
    assert code == 0 and json.loads((tmp_path / "p.json").read_text())["subscriber"]["name"] == "Person 0"


def test_erase_leaves_only_the_suppressed_hash(cli, session_factory):
    [sid] = enroll(session_factory, make_campaign(session_factory), 1)
    code, out, _ = cli("subscribers", "erase", "person0@example.com", "--yes")
    assert code == 0 and f"subscriber {sid} erased" in out and "person0" not in out
    with session_factory() as s:
        assert s.get(Subscriber, sid).email is None
        assert (
            s.scalar(select(Suppression.reason).where(Suppression.email_key == KEYS.of("person0@example.com")))
            == "erased"
        )
    code, _, err = cli("subscribers", "erase", "person0@example.com", "--yes")
    assert code == 1 and "no subscriber with that address" in err


def test_erase_asks_first(cli, session_factory, monkeypatch):
    [sid] = enroll(session_factory, make_campaign(session_factory), 1)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    code, _, _ = cli("subscribers", "erase", "person0@example.com")
    assert code != 0
    with session_factory() as s:
        assert s.get(Subscriber, sid).email == "person0@example.com"


@pytest.mark.parametrize(
    "base, overrides, expected",
    [
        ("http://localhost:8000", (None, None), ("localhost", 8000)),
        ("http://127.0.0.1:9123", (None, None), ("127.0.0.1", 9123)),
        ("https://outreach.example.org", (None, None), ("127.0.0.1", 8000)),  # TLS ends at the proxy
        ("http://localhost:8000", ("0.0.0.0", 8080), ("0.0.0.0", 8080)),
    ],
)
def test_serve_listens_where_the_base_url_says(base, overrides, expected):
    assert listen_address(load_settings(base_url=base), *overrides) == expected
