"""The outbox provider: one RFC 5322 file per delivery, written atomically, stamped with the (simulated) clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from campaigns.authoring.content import StepContent
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.delivery.providers.outbox import OutboxProvider
from tests.builders import BRAND

SIMULATED = datetime(2031, 6, 2, 13, 0, tzinfo=UTC)
CONTENT = StepContent(
    subject="Baclofen, lesson 1",
    preheader="Why it matters",
    html=(
        "<p>Hi %%first_name%%,</p><p>Lesson text.</p><p>500 Harbor Road, Fort Lauderdale, FL 33301</p>"
        "<p>This email is educational, not medical advice. If you are in crisis, call or text 988.</p>"
        '<p><a href="%%unsubscribe_url%%">Unsubscribe</a></p>'
    ),
    text=(
        "Hi %%first_name%%,\n\nLesson text.\n\n500 Harbor Road, Fort Lauderdale, FL 33301\n"
        "This email is educational, not medical advice. If you are in crisis, call or text 988.\n"
        "Unsubscribe: %%unsubscribe_url%%\n"
    ),
)


def recipient(delivery_id: int, first: str = "Dana") -> Recipient:
    return Recipient(
        delivery_id,
        f"reader{delivery_id}@mail.test",
        f"{first} Reyes",
        {"first_name": first, "unsubscribe_url": f"https://outreach.agape.test/u/tok{delivery_id}"},
        message_token=f"{delivery_id:032x}" if delivery_id else None,  # decided once per delivery, by the tick
    )


def batch(*recipients: Recipient, is_test: bool = False) -> Batch:
    return Batch(CONTENT, BRAND, "baclofen", 3, recipients, is_test=is_test)


def read(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_one_file_per_delivery_where_expected(tmp_path):
    outbox = OutboxProvider(tmp_path, clock=lambda: SIMULATED)
    results = outbox.send_batch(batch(recipient(11, "Ana"), recipient(12, "Ben")))
    step_dir = tmp_path / "baclofen" / "step-03"
    assert all_files(tmp_path) == [step_dir / "11.eml", step_dir / "12.eml"]
    assert [(r.delivery_id, r.status) for r in results] == [(11, "accepted"), (12, "accepted")]
    for r in results:
        msg = read(step_dir / f"{r.delivery_id}.eml")
        assert f"<{r.message_id}>" == msg["Message-ID"]
        assert msg["To"].addresses[0].addr_spec == f"reader{r.delivery_id}@mail.test"
    assert "Hi Ben," in read(step_dir / "12.eml").get_body(("plain",)).get_content()
    assert outbox.name == "outbox"


def test_sending_the_same_batch_twice_leaves_one_file_per_delivery(tmp_path):
    outbox = OutboxProvider(tmp_path, clock=lambda: SIMULATED)
    first = outbox.send_batch(batch(recipient(11), recipient(12)))
    before = {p: p.read_bytes() for p in all_files(tmp_path)}
    again = outbox.send_batch(batch(recipient(11), recipient(12)))
    assert {p: p.read_bytes() for p in all_files(tmp_path)} == before  # same names, same bytes, no temp files
    assert [r.message_id for r in again] == [r.message_id for r in first]


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_no_temp_file(tmp_path, monkeypatch):
    outbox = OutboxProvider(tmp_path, clock=lambda: SIMULATED)
    outbox.send_batch(batch(recipient(11)))
    path = tmp_path / "baclofen" / "step-03" / "11.eml"
    old = path.read_bytes()

    # Fault injection (a crash between writing and renaming can't be staged for real in-process): the rename fails.
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    later = OutboxProvider(tmp_path, clock=lambda: datetime(2031, 6, 9, tzinfo=UTC))
    [result] = later.send_batch(batch(recipient(11)))
    assert result.status == "failed" and "No space left" in result.error
    assert all_files(tmp_path) == [path] and path.read_bytes() == old


def test_a_file_has_everything_every_email_needs(tmp_path):
    OutboxProvider(tmp_path, clock=lambda: SIMULATED).send_batch(batch(recipient(21)))
    raw = (tmp_path / "baclofen" / "step-03" / "21.eml").read_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html, text = msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()
    assert len(html.encode()) < 102 * 1024  # Gmail clips HTML above 102 KB
    assert msg["List-Unsubscribe"] == "<https://outreach.agape.test/u/tok21>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert '<a href="https://outreach.agape.test/u/tok21">Unsubscribe</a>' in html  # the visible link, same token
    assert "https://outreach.agape.test/u/tok21" in text
    for part in (html, text):
        assert BRAND.address in part and "not medical advice" in part and "988" in part
        assert "%%" not in part and "{{" not in part
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        assert msg[name], name
    assert b"reader21@mail.test" not in raw.split(b"\r\n\r\n", 1)[1]  # the address is in To only, not in links


def test_date_is_the_simulated_send_time(tmp_path):
    times = iter([SIMULATED, datetime(2031, 6, 5, 9, 15, tzinfo=UTC)])
    outbox = OutboxProvider(tmp_path, clock=lambda: next(times))
    outbox.send_batch(batch(recipient(1)))
    outbox.send_batch(batch(recipient(2)))
    step_dir = tmp_path / "baclofen" / "step-03"
    assert parsedate_to_datetime(read(step_dir / "1.eml")["Date"]) == SIMULATED
    assert parsedate_to_datetime(read(step_dir / "2.eml")["Date"]) == datetime(2031, 6, 5, 9, 15, tzinfo=UTC)


def test_default_clock_is_now_in_utc(tmp_path):
    before = datetime.now(UTC).replace(microsecond=0)
    OutboxProvider(tmp_path).send_batch(batch(recipient(1)))
    stamped = parsedate_to_datetime(read(tmp_path / "baclofen" / "step-03" / "1.eml")["Date"])
    assert stamped >= before and stamped.utcoffset().total_seconds() == 0


def test_test_sends_go_under_tests_and_never_overwrite_each_other(tmp_path):
    outbox = OutboxProvider(tmp_path, clock=lambda: SIMULATED)
    outbox.send_batch(batch(recipient(0), is_test=True))
    outbox.send_batch(batch(recipient(0), is_test=True))
    files = all_files(tmp_path)
    assert len(files) == 2 and all(p.parent == tmp_path / "tests" for p in files)
    assert all(read(p)["X-Outreach-Test"] == "yes" for p in files)


def test_a_recipient_without_unsubscribe_link_fails_alone(tmp_path):
    bad = Recipient(5, "x@mail.test", None, {"first_name": "X"})
    results = OutboxProvider(tmp_path, clock=lambda: SIMULATED).send_batch(batch(recipient(4), bad, recipient(6)))
    assert [r.status for r in results] == ["accepted", "failed", "accepted"]
    assert "unsubscribe_url" in results[1].error
    assert not (tmp_path / "baclofen" / "step-03" / "5.eml").exists()


def test_campaign_slug_cannot_escape_the_outbox(tmp_path):
    evil = Batch(CONTENT, BRAND, "../../etc", 1, (recipient(1),))
    OutboxProvider(tmp_path / "outbox", clock=lambda: SIMULATED).send_batch(evil)
    [path] = all_files(tmp_path)
    assert (tmp_path / "outbox") in path.parents
