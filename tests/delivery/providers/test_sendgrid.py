"""SendGridProvider driving the real `sendgrid` client over loopback HTTP against tests/sendgrid_server.py.

The server's own checks are tested at the end: other tests (faults, benchmark) rely on it refusing what the real
API refuses.
"""

from __future__ import annotations

import email.message
import json
import logging
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaigns.authoring.content import Block, StepContent
from campaigns.brand import Brand
from campaigns.delivery.message import batch_headers, build_message, recipient_headers
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.delivery.providers.sendgrid import (
    SendGridProvider,
    _retry_after,
    mail_body,
)
from campaigns.delivery.retrying import RetryPolicy, send_with_retry
from campaigns.errors import ProviderError
from tests.sendgrid_server import API_KEY, SendGridServer, check_mail

ROOT = Path(__file__).resolve().parents[3]
BRAND = Brand(
    name="Agape Detox",
    legal_name="Agape Detox LLC",
    address="1 Main St, Town, ST 00000",
    phone="+1 555 0100",
    phone_display="(555) 0100",
    website="https://agape.example",
    cta_url="https://agape.example/contact",
    sender_name="Agape Detox",
    sender_email="news@agape.example",
    reply_to="help@agape.example",
    language="en",
    notice="Educational, not advice.",
    accent_color="#123456",
)
CONTENT = StepContent(
    subject="Lesson for %%first_name%%",
    preheader="What baclofen does",
    html='<p>Hi %%first_name%%,</p><div>%%crisis%%</div><a href="%%unsubscribe_url%%">Unsubscribe</a> '
    '<a href="%%preferences_url%%">P</a>',
    text="Hi %%first_name%%,\n%%crisis%%\nUnsubscribe: %%unsubscribe_url%%\nPreferences: %%preferences_url%%\n",
)
# A pre-rendered block (the crisis lines) goes in as it is: its HTML unescaped, its text raw.
CRISIS = Block('<p>Call or text <a href="tel:988">988</a> &amp; talk</p>', "Call or text 988 & talk")


def recipient(i: int, name: str | None = "Ana Díaz") -> Recipient:
    return Recipient(
        delivery_id=i,
        email=f"person{i}@example.org",
        name=name,
        values={
            "first_name": (name or "there").split()[0],
            "unsubscribe_url": f"https://outreach.example/u/tok{i}?a=1&b=2",
            "preferences_url": f"https://outreach.example/p/tok{i}",
            "crisis": CRISIS,
        },
        message_token=f"{i:032x}",
    )


def make_batch(n: int = 3, start: int = 1, **kw) -> Batch:
    return Batch(
        content=kw.pop("content", CONTENT),
        brand=kw.pop("brand", BRAND),
        campaign="baclofen",
        step=2,
        recipients=tuple(recipient(i) for i in range(start, start + n)),
        **kw,
    )


def provider(server: SendGridServer, **kw) -> SendGridProvider:
    return SendGridProvider(kw.pop("api_key", API_KEY), host=server.url, **kw)


class Sleeps(list):
    """A sleep function that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def substitute(text: str, subs: dict[str, str]) -> str:
    """What SendGrid does with a personalization's substitutions."""
    for key, value in subs.items():
        text = text.replace(key, value)
    return text


# -- the request ---------------------------------------------------------------------------------------------


def test_ten_thousand_recipients_take_ten_requests_each_recipient_once(sendgrid_server):
    sg = provider(sendgrid_server)
    tiny = StepContent(subject="Hi", preheader="", html="<p>%%first_name%%</p>", text="%%first_name%%")
    results = []
    for start in range(0, 10_000, 1000):
        results += sg.send_batch(make_batch(1000, start=start, content=tiny))

    assert len(sendgrid_server.exchanges) == 10
    assert [len(b["personalizations"]) for b in sendgrid_server.accepted] == [1000] * 10
    assert {r.status for r in results} == {"accepted"}
    per_recipient = sendgrid_server.emails_per_recipient()
    assert len(per_recipient) == 10_000 and set(per_recipient.values()) == {1}
    # Each result carries the X-Message-Id of the request that carried it.
    sent_id = {int(s.custom_args["delivery_id"]): s.message_id for s in sendgrid_server.sent}
    assert all(r.message_id == sent_id[r.delivery_id] and len(r.message_id) == 22 for r in results)
    assert len({r.message_id for r in results}) == 10


def test_each_personalization_carries_its_own_address_values_headers_and_ids(sendgrid_server):
    batch = make_batch(3)
    provider(sendgrid_server).send_batch(batch)

    [body] = sendgrid_server.accepted
    # Content once per request, text first; subject once.
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert isinstance(body["subject"], str)
    for r, p in zip(batch.recipients, body["personalizations"], strict=True):
        assert p["to"] == [{"email": r.email, "name": r.name}]
        assert p["headers"] == {
            "Message-ID": f"<{r.message_token}@agape.example>",
            "List-Unsubscribe": f"<{r.values['unsubscribe_url']}>",
            "X-Outreach-Delivery": str(r.delivery_id),
        }
        assert p["custom_args"] == {"delivery_id": str(r.delivery_id), "campaign": "baclofen", "step": "2"}
        # SendGrid's substitution yields exactly what the outbox/SMTP path renders: escaped HTML, raw text.
        html, text = CONTENT.fill(r.values)
        assert substitute(body["content"][1]["value"], p["substitutions"]) == html
        assert substitute(body["content"][0]["value"], p["substitutions"]) == text
        assert substitute(body["subject"], p["substitutions"]) == f"Lesson for {r.values['first_name']}"
        assert "&amp;b=2" in html and "?a=1&b=2" in text
        assert CRISIS.html in html and CRISIS.text in text
    assert body["headers"] == {
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "Agape Detox <baclofen.agape.example>",
        "Precedence": "bulk",
    }
    # No address or name anywhere SendGrid keeps as non-personal data.
    flat = json.dumps([p["custom_args"] for p in body["personalizations"]] + body["categories"])
    assert "@" not in flat and "Ana" not in flat


def test_the_headers_are_the_ones_the_smtp_and_outbox_emails_carry(sendgrid_server):
    """One set of headers on every provider path: what SendGrid is asked to add is what build_message writes."""
    batch = make_batch(2, is_test=True)
    provider(sendgrid_server).send_batch(batch)
    [body] = sendgrid_server.accepted
    for r, p in zip(batch.recipients, body["personalizations"], strict=True):
        html, text = CONTENT.fill(r.values)
        msg = build_message(batch, r, now=datetime(2030, 1, 1, tzinfo=UTC), html=html, text=text)
        built = {k: str(v) for k, v in msg.items()}
        ours = {
            k: v
            for k, v in built.items()
            if k not in ("From", "To", "Subject", "Date", "MIME-Version", "Content-Type", "Reply-To")
        }
        assert {**body["headers"], **p["headers"]} == ours
        assert ours["X-Outreach-Test"] == "yes" and ours["List-Id"] and ours["Message-ID"]
        # Reply-To is SendGrid's reply_to (it reserves the header), the same address.
        assert body["reply_to"] == {"email": built["Reply-To"]} == {"email": BRAND.reply_to}
    assert batch_headers(batch) == body["headers"]
    assert recipient_headers(batch, batch.recipients[0]) == body["personalizations"][0]["headers"]


def test_categories_tracking_and_sandbox_follow_batch_and_settings(sendgrid_server):
    results = provider(sendgrid_server, sandbox=True).send_batch(make_batch(2, track_opens=True, is_test=True))

    [exchange] = sendgrid_server.exchanges
    body = exchange.body
    assert exchange.status == 200  # sandbox: valid, not queued
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert body["categories"] == ["campaign-baclofen", "step-2", "test"]
    assert body["tracking_settings"]["open_tracking"] == {"enable": True}
    assert body["tracking_settings"]["click_tracking"]["enable"] is False
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert sendgrid_server.sent == []  # nothing delivered in sandbox mode

    assert mail_body(make_batch(1, track_clicks=True))["tracking_settings"]["click_tracking"]["enable"] is True
    assert mail_body(make_batch(1))["mail_settings"] == {"sandbox_mode": {"enable": False}}


def test_names_lose_characters_sendgrid_refuses_and_empty_batches_send_nothing(sendgrid_server):
    batch = Batch(
        content=CONTENT,
        brand=BRAND,
        campaign="c",
        step=1,
        recipients=(
            Recipient(
                0, "ana@example.org", "Díaz, Ana; MD", {"first_name": "Ana", "unsubscribe_url": "https://u.example/1"}
            ),
            Recipient(7, "bo@example.org", "Bo", {"first_name": "Bo"}),
        ),
    )
    named, unlinked = provider(sendgrid_server).send_batch(batch)
    assert named.status == "accepted"
    assert sendgrid_server.accepted[0]["personalizations"][0]["to"][0]["name"] == "Díaz  Ana  MD"
    # No unsubscribe link, no email (as on every provider path); the rest of the batch goes.
    assert unlinked.status == "failed" and "no unsubscribe_url" in unlinked.error
    assert [p["to"][0]["email"] for p in sendgrid_server.accepted[0]["personalizations"]] == ["ana@example.org"]
    assert provider(sendgrid_server).send_batch(make_batch(0)) == []
    with pytest.raises(ValueError, match="at most 1000"):
        provider(sendgrid_server).send_batch(make_batch(1001))
    assert len(sendgrid_server.exchanges) == 1


# -- answers and retries -------------------------------------------------------------------------------------


def test_rate_limit_then_errors_are_retried_honouring_retry_after_with_growing_backoff(sendgrid_server):
    sendgrid_server.rate_limit_next(1, retry_after=3)
    sendgrid_server.fail_next(2, status=500)
    sleeps = Sleeps()

    results = send_with_retry(provider(sendgrid_server), make_batch(4), RetryPolicy(base=1, jitter=False), sleep=sleeps)

    assert [x.status for x in sendgrid_server.exchanges] == [429, 500, 500, 202]
    assert sleeps == [3, 2, 4]  # Retry-After 3 s beat the 1 s back-off; then 2 s, 4 s
    assert {r.status for r in results} == {"accepted"}
    assert set(sendgrid_server.emails_per_recipient().values()) == {1}


def test_rate_limit_reports_retry_after_from_the_answer(sendgrid_server):
    sendgrid_server.rate_limit_next(1, retry_after=7)
    with pytest.raises(ProviderError) as caught:
        provider(sendgrid_server).send_batch(make_batch(1))
    assert caught.value.retryable and not caught.value.fatal
    assert (caught.value.status, caught.value.retry_after) == (429, 7)
    assert "too many requests" in caught.value.body


def test_retry_after_falls_back_to_rate_limit_reset():
    headers = email.message.Message()
    headers["X-RateLimit-Reset"] = "1000"
    assert _retry_after(headers, now=990.0) == 10
    headers["Retry-After"] = "Thu, 01 Jan 1970 00:16:50 GMT"  # 1010
    assert _retry_after(headers, now=1000.0) == 10
    assert _retry_after(email.message.Message(), now=0) is None


def test_server_errors_past_the_limit_fail_every_recipient_with_the_reason(sendgrid_server):
    sendgrid_server.fail_next(5, status=503)
    sleeps = Sleeps()
    results = send_with_retry(
        provider(sendgrid_server), make_batch(3), RetryPolicy(max_attempts=3, jitter=False), sleep=sleeps
    )
    assert len(sendgrid_server.exchanges) == 3 and len(sleeps) == 2
    assert {r.status for r in results} == {"failed"}
    assert all("gave up after 3 attempt(s)" in r.error and "503" in r.error for r in results)
    assert sendgrid_server.sent == []


@pytest.mark.parametrize(
    "key, status, message",
    [
        ("SG.wrong", 401, "SendGrid rejected the API key: stop sending"),
        ("SG.no-mail-send", 403, "stop sending"),
    ],
)
def test_bad_credentials_are_fatal_and_never_retried(sendgrid_server, key, status, message):
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as caught:
        send_with_retry(provider(sendgrid_server, api_key=key), make_batch(2), RetryPolicy(), sleep=sleeps)
    assert caught.value.fatal and caught.value.status == status
    assert message in str(caught.value) and key not in str(caught.value)
    assert len(sendgrid_server.exchanges) == 1 and sleeps == []


def test_one_rejected_recipient_does_not_block_the_rest(sendgrid_server):
    batch = Batch(
        content=CONTENT,
        brand=BRAND,
        campaign="c",
        step=1,
        recipients=tuple(
            [
                recipient(1),
                recipient(2),
                Recipient(3, "not-an-address", None, {"unsubscribe_url": "https://u.example/3"}),
                recipient(4),
            ]
        ),
    )
    sendgrid_server.reject_address("person2@example.org")

    results = send_with_retry(provider(sendgrid_server), batch, RetryPolicy(), sleep=Sleeps())

    assert [r.status for r in results] == ["accepted", "failed", "failed", "accepted"]
    assert results[1].error == "personalizations.1.to.0.email: Does not contain a valid address."
    assert results[2].error == "personalizations.2.to.0.email: Does not contain a valid address."
    assert results[0].message_id == results[3].message_id is not None
    assert [x.status for x in sendgrid_server.exchanges] == [400, 202]
    assert sorted(sendgrid_server.emails_per_recipient()) == ["person1@example.org", "person4@example.org"]


def test_a_request_refused_as_a_whole_fails_every_recipient_at_once(sendgrid_server):
    bad_brand = Brand(**{**BRAND.__dict__, "sender_email": "not an address"})
    results = send_with_retry(provider(sendgrid_server), make_batch(2, brand=bad_brand), RetryPolicy(), sleep=Sleeps())
    assert {r.status for r in results} == {"failed"}
    assert all(r.error == "SendGrid 400: from.email: The from email does not contain a valid address." for r in results)
    assert len(sendgrid_server.exchanges) == 1


@pytest.mark.parametrize("seconds", [30.0, 0.0], ids=["no-answer-before-timeout", "connection-closed"])
def test_a_lost_answer_leaves_every_recipient_unknown_and_is_not_resent(sendgrid_server, seconds):
    sendgrid_server.hang_next(1, seconds=seconds, deliver=True)
    sleeps = Sleeps()
    results = send_with_retry(provider(sendgrid_server, timeout=0.5), make_batch(3), RetryPolicy(), sleep=sleeps)
    assert {r.status for r in results} == {"unknown"}
    assert all("not re-sent" in r.error for r in results)
    assert len(sendgrid_server.exchanges) == 1 and sleeps == []
    assert set(sendgrid_server.emails_per_recipient().values()) == {1}  # it went out once, and only once


def test_connection_refused_before_sending_is_retryable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sg = SendGridProvider(API_KEY, host=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ProviderError) as caught:
        sg.send_batch(make_batch(1))
    assert caught.value.retryable and not caught.value.fatal
    sleeps = Sleeps()
    results = send_with_retry(sg, make_batch(2), RetryPolicy(max_attempts=2), sleep=sleeps)
    assert {r.status for r in results} == {"failed"} and len(sleeps) == 1


def test_the_api_key_and_addresses_never_reach_the_logs(sendgrid_server, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, including the HTTP client's, at its most talkative
    secret = "SG.very-secret-key"
    sendgrid_server.api_key = secret
    sendgrid_server.rate_limit_next(1)
    sendgrid_server.reject_address("person2@example.org")
    sg = provider(sendgrid_server, api_key=secret)
    send_with_retry(sg, make_batch(3), RetryPolicy(jitter=False), sleep=Sleeps())
    with pytest.raises(ProviderError) as caught:
        send_with_retry(provider(sendgrid_server, api_key="SG.other-secret"), make_batch(1), RetryPolicy())

    assert caplog.records, "the send path should log what happened"
    assert "400" in caplog.text and "429" in caplog.text and "401" in caplog.text
    for text in (caplog.text, repr(sg), str(caught.value)):
        assert secret not in text and "other-secret" not in text
        assert "@example.org" not in text and "Bearer" not in text


# -- the server's own checks ---------------------------------------------------------------------------------


def post(server: SendGridServer, body: object, key: str | None = API_KEY) -> tuple[int, dict, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(server.url + "/v3/mail/send", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), {}
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def valid_body() -> dict:
    return mail_body(make_batch(2))


def test_server_accepts_a_valid_body_with_202_an_empty_body_and_a_message_id(sendgrid_server):
    status, headers, body = post(sendgrid_server, valid_body())
    assert status == 202 and body == {} and headers["Content-Length"] == "0"
    assert len(headers["X-Message-Id"]) == 22
    assert check_mail(valid_body(), time.time()) == []


def _without_from(b: dict) -> None:
    del b["from"]


def _thousand_and_one(b: dict) -> None:
    b["personalizations"] = [{"to": [{"email": f"p{i}@example.org"}]} for i in range(1001)]


def _too_many_recipients(b: dict) -> None:
    b["personalizations"] = [{"to": [{"email": f"p{i}.{j}@example.org"} for j in range(3)]} for i in range(400)]


def _set(path: str, value: object):
    def change(b: dict) -> None:
        *parents, last = path.split(".")
        node = b
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value

    return change


@pytest.mark.parametrize(
    "change, field",
    [
        (_without_from, "from"),
        (_thousand_and_one, "personalizations"),
        (_too_many_recipients, "personalizations"),
        (_set("personalizations.0.custom_args", {"delivery_id": 7}), "personalizations.0.custom_args.delivery_id"),
        (_set("personalizations.0.custom_args", {"big": "x" * 10_000}), "personalizations.0.custom_args"),
        (_set("personalizations.1.headers", {"Reply-To": "x@example.org"}), "personalizations.1.headers.Reply-To"),
        (_set("headers", {"subject": "override"}), "headers.subject"),
        (_set("personalizations.0.to", []), "personalizations.0.to"),
        (_set("personalizations.1.to", [{"email": "person1@example.org"}]), "personalizations.1.to.0.email"),
        (_set("personalizations.0.to", [{"email": "a@example.org", "name": "A, B"}]), "personalizations.0.to.0.name"),
        (_set("personalizations.0.substitutions", {"%%x%%": "y" * 50_001}), "personalizations.0.substitutions"),
        (_set("subject", None), "subject"),
        (
            _set("content", [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}]),
            "content",
        ),
        (_set("content.0.value", ""), "content.0.value"),
        (_set("categories", [f"c{i}" for i in range(11)]), "categories"),
        (_set("categories", ["x" * 256]), "categories.0"),
        (_set("send_at", int(time.time()) + 73 * 3600), "send_at"),
    ],
)
def test_server_refuses_what_sendgrid_refuses(sendgrid_server, change, field):
    body = valid_body()
    change(body)
    status, _, answer = post(sendgrid_server, body)
    assert status == 400
    assert field in [e["field"] for e in answer["errors"]]
    assert all(set(e) == {"message", "field", "help"} for e in answer["errors"]) and answer["id"]
    assert sendgrid_server.sent == []


def test_server_takes_subject_per_personalization_and_checks_auth_and_size(sendgrid_server):
    body = valid_body()
    del body["subject"]
    for p in body["personalizations"]:
        p["subject"] = "Per person"
    assert post(sendgrid_server, body)[0] == 202

    status, _, answer = post(sendgrid_server, valid_body(), key=None)
    assert status == 401 and answer["errors"][0]["message"] == "authorization required"
    assert post(sendgrid_server, valid_body(), key="SG.wrong")[0] == 401
    assert post(sendgrid_server, b"{not json")[0] == 400
    huge = valid_body()
    huge["content"][1]["value"] = "x" * (30 * 1024 * 1024)
    status, _, answer = post(sendgrid_server, huge)
    assert status == 413 and "too large" in answer["errors"][0]["message"]


def test_server_runs_as_a_process_steered_over_http(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sendgrid_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == f"listening on http://127.0.0.1:{port}"
        remote = SendGridServer(port=port)  # not started: only lends .url to the helpers here
        control = f"{remote.url}/_test/"
        req = urllib.request.Request(
            control + "faults",
            method="POST",
            data=json.dumps({"kind": "rate_limit", "count": 1, "retry_after": 2}).encode(),
        )
        urllib.request.urlopen(req, timeout=5).close()
        sleeps = Sleeps()
        results = send_with_retry(provider(remote), make_batch(2), RetryPolicy(jitter=False), sleep=sleeps)
        assert sleeps == [2] and {r.status for r in results} == {"accepted"}
        with urllib.request.urlopen(control + "sent", timeout=5) as answer:
            sent = json.loads(answer.read())
        assert [(s["email"], s["custom_args"]["delivery_id"]) for s in sent] == [
            ("person1@example.org", "1"),
            ("person2@example.org", "2"),
        ]
        with urllib.request.urlopen(control + "requests", timeout=5) as answer:
            assert json.loads(answer.read()) == [{"status": 429}, {"status": 202}]
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_reader_links_are_never_rewritten_by_click_tracking_and_carry_only_our_token():
    """Even with a campaign's click tracking on, SendGrid leaves the reader links alone (clicktracking="off" on each
    anchor): what a reader does with pace, "was this useful?" and the call to action reaches us only."""
    from campaigns.authoring.render import compile_step
    from tests.authoring.test_render import SERIES

    lesson = compile_step(SERIES, SERIES.step(2), BRAND)
    final = compile_step(SERIES, SERIES.step(4), BRAND)
    for content in (lesson, final):
        batch = make_batch(1, content=content, track_clicks=True)
        reader = {**batch.recipients[0].values, "reader_url": "https://outreach.example/r/tok1"}
        body = mail_body(replace(batch, recipients=(replace(batch.recipients[0], values=reader),)))
        assert body["tracking_settings"]["click_tracking"]["enable"] is True
        html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
        anchors = re.findall(r"<a\b[^>]*>", html)
        # The HTML goes once, each reader's link as a substitution: every anchor that takes it is marked.
        ours = [a for a in anchors if "%%reader_url%%" in a]
        assert len(ours) == (5 if content is lesson else 1) and all('clicktracking="off"' in a for a in ours)
        assert body["personalizations"][0]["substitutions"]["%%reader_url%%"] == "https://outreach.example/r/tok1"
        assert BRAND.cta_url not in html  # the button goes through our redirect
