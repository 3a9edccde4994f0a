"""`outreach contacts import FILE`, and the readers' figures in `outreach stats --json`."""

from __future__ import annotations

import json
from datetime import timedelta

from campaigns.insight.reader_signals import record_feedback
from tests.builders import START
from tests.insight.support import sent_campaign


def test_import_reports_what_it_did_and_stats_json_shows_the_lesson_before_the_contact(
    cli, session_factory, tmp_path, monkeypatch
):
    # The test campaign was sent in January 2027; the command's clock is a week after, so the call is in the past.
    monkeypatch.setattr("outreach.commands.contacts.now", lambda: START + timedelta(days=7))
    cid, _ = sent_campaign(session_factory, 2)  # step 1 sent to both at START + 1 minute
    with session_factory.begin() as s:
        record_feedback(s, 1, cid, 1, True, "Gentle and clear", START + timedelta(hours=1))
    calls = tmp_path / "calls.csv"
    later = (START + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    calls.write_text(f"Email,Time,Channel\nperson0@example.com,{later},phone\nnobody@example.com,{later},call\n")
    code, out, err = cli("contacts", "import", str(calls))
    assert code == 0, err
    assert "1 contact(s) imported, 1 put down to a lesson" in out and "1 matched no subscriber (lines 3)" in out
    code, out, _ = cli("stats", "test", "--json")
    found = json.loads(out)
    assert found["last_before_contact"] == [{"step": 1, "subject": "Step 1", "contacts": 1}]
    readers = found["steps"][0]["readers"]
    assert (readers["useful_yes"], readers["contacts"], readers["comments"][0]["text"]) == (1, 1, "Gentle and clear")
    code, out, _ = cli("stats", "test")
    assert "What readers tell us" in out and "last lesson before a contact: 1. Step 1 (1)" in out


def test_a_bad_file_imports_nothing_and_exits_1_naming_the_lines(cli, session_factory, tmp_path):
    sent_campaign(session_factory, 1)
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "address,time,channel\nperson0@example.com,2026-01-04 15:00,call\nperson0@,2026-01-04 15:00,call\n"
    )
    code, out, err = cli("contacts", "import", str(calls))
    assert code == 1 and "1 bad row(s); nothing was imported" in err and "line 3: the address" in err
    code, out, _ = cli("stats", "test", "--json")
    assert json.loads(out)["contacts"] == 0
