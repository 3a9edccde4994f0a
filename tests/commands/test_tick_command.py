"""`outreach tick`: one line a person reads, `--send` to send from its own process (no worker, no Redis), and an
unreachable broker said in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

from tests.builders import enroll, make_campaign
from tests.servers import refused_port

# The command runs on the real clock: a start a day ago is due now, whatever the day.
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def test_tick_says_what_it_did_and_send_sends_here(cli, session_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("OUTREACH_BASE_URL", "https://outreach.test")
    monkeypatch.setenv("OUTREACH_SECRET_KEY", "a-test-secret")
    cid = make_campaign(session_factory, status="scheduled", start=START, window=(range(7), 0, 24))
    enroll(session_factory, cid, 3, enrolled_at=START)
    code, out, err = cli("tick", "--send")
    assert code == 0, err
    assert out.splitlines() == ["tick: 1 campaign started; 3 emails due; 3 in 1 batch to send here", "sent: 3 accepted"]
    emails = [BytesParser(policy=policy.default).parse(p.open("rb")) for p in (tmp_path / "outbox").rglob("*.eml")]
    assert sorted(str(m["To"]) for m in emails) == [f"Person {i} <person{i}@example.com>" for i in range(3)]
    assert "{" not in out  # no Python dict: sentences
    code, out, _ = cli("tick")
    assert code == 0 and out.strip() == "tick: nothing due"


def test_tick_without_a_broker_is_one_line(cli, session_factory, monkeypatch):
    cid = make_campaign(session_factory, status="running", start=START, window=(range(7), 0, 24))
    enroll(session_factory, cid, 1, enrolled_at=START)
    with refused_port() as port:
        monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/0")  # nothing listens there
        code, _, err = cli("tick")
    assert code == 1 and "Traceback" not in err
    line = " ".join(err.split())
    assert line.startswith("error: cannot reach the broker at CELERY_BROKER_URL (redis://127.0.0.1:")
    assert line.endswith("(start Redis, or send from here with `outreach tick --send`)")
