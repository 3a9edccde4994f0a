"""send_with_retry and RetryPolicy, on a scripted provider (HTTP: tests/delivery/providers/test_sendgrid.py)."""

from __future__ import annotations

import logging

import pytest

from campaigns.authoring.content import StepContent
from campaigns.brand import Brand
from campaigns.delivery.providers.base import Batch, Recipient, SendResult
from campaigns.delivery.retrying import RetryPolicy, send_with_retry
from campaigns.errors import ProviderError

BRAND = Brand(*(["x"] * 14))
BATCH = Batch(
    content=StepContent("s", "p", "<p>h</p>", "t"),
    brand=BRAND,
    campaign="c",
    step=1,
    recipients=(Recipient(1, "a@example.org", None, {}), Recipient(2, "b@example.org", None, {})),
)


class Scripted:
    """A provider that plays a script: each entry is raised if it is an error, else its status is returned."""

    name = "scripted"

    def __init__(self, *script: ProviderError | str) -> None:
        self.script = list(script)
        self.calls = 0

    def send_batch(self, batch: Batch) -> list[SendResult]:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, ProviderError):
            raise step
        return [SendResult(r.delivery_id, step, message_id="m1") for r in batch.recipients]


def busy(retry_after: float | None = None) -> ProviderError:
    return ProviderError("busy", status=429, retryable=True, retry_after=retry_after)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_retryable_errors_are_retried_with_exponential_backoff_until_success():
    provider, sleeps = Scripted(busy(), busy(), busy(), "accepted"), Sleeps()
    results = send_with_retry(provider, BATCH, RetryPolicy(base=0.5, jitter=False), sleep=sleeps)
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert provider.calls == 4 and sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped_and_retry_after_is_a_capped_floor():
    provider, sleeps = Scripted(busy(), busy(), busy(), busy(0.1), busy(120), "accepted"), Sleeps()
    send_with_retry(provider, BATCH, RetryPolicy(max_attempts=6, base=2, cap=5, jitter=False), sleep=sleeps)
    assert sleeps == [2, 4, 5, 5, 5]


def test_full_jitter_waits_somewhere_between_zero_and_the_backoff():
    waits = []
    for _ in range(40):
        sleeps = Sleeps()
        send_with_retry(Scripted(busy(), busy(), busy(), "accepted"), BATCH, RetryPolicy(base=1, cap=3), sleep=sleeps)
        waits.append(sleeps)
    for first, second, third in waits:
        assert 0 <= first <= 1 and 0 <= second <= 2 and 0 <= third <= 3
    assert len({w[2] for w in waits}) > 30  # spread out, not one value for every worker


def test_retry_after_holds_under_jitter():
    sleeps = Sleeps()
    send_with_retry(Scripted(busy(4), "accepted"), BATCH, RetryPolicy(base=1), sleep=sleeps)
    assert sleeps == [4]


def test_attempts_run_out_and_every_recipient_fails_with_the_last_reason(caplog):
    provider, sleeps = Scripted(busy(), ProviderError("SendGrid answered 503", status=503, retryable=True)), Sleeps()
    with caplog.at_level(logging.WARNING, logger="campaigns.delivery.retrying"):
        results = send_with_retry(provider, BATCH, RetryPolicy(max_attempts=3, jitter=False), sleep=sleeps)
    assert provider.calls == 3 and len(sleeps) == 2
    assert [(r.delivery_id, r.status) for r in results] == [(1, "failed"), (2, "failed")]
    assert results[0].error == "gave up after 3 attempt(s): SendGrid answered 503"
    assert "attempt 1/3 failed (status 429)" in caplog.text and "after 3 attempt(s)" in caplog.text


def test_fatal_errors_are_raised_at_once():
    provider, sleeps = Scripted(ProviderError("bad key", status=401, fatal=True)), Sleeps()
    with pytest.raises(ProviderError, match="bad key"):
        send_with_retry(provider, BATCH, RetryPolicy(), sleep=sleeps)
    assert provider.calls == 1 and sleeps == []


def test_a_failure_not_marked_retryable_fails_the_batch_without_retrying():
    provider, sleeps = Scripted(ProviderError("refused", status=400)), Sleeps()
    results = send_with_retry(provider, BATCH, RetryPolicy(), sleep=sleeps)
    assert provider.calls == 1 and sleeps == []
    assert {(r.status, r.error) for r in results} == {("failed", "refused")}


def test_unknown_outcomes_are_returned_never_retried():
    provider, sleeps = Scripted("unknown"), Sleeps()
    results = send_with_retry(provider, BATCH, RetryPolicy(), sleep=sleeps)
    assert provider.calls == 1 and {r.status for r in results} == {"unknown"}


def test_a_nonsense_policy_is_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
