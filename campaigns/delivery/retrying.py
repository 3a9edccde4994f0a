"""The one place that retries a provider: exponential back-off with full jitter, honouring the provider's hint.

Providers only say what happened (`ProviderError(retryable=...)`, `fatal=...`, `retry_after=...`); this module
decides how long to wait and when to give up, the same way for every transport.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential, wait_random_exponential

from campaigns.delivery.providers.base import Batch, EmailProvider, SendResult
from campaigns.errors import ProviderError

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a batch the provider could not take right now.

    The n-th wait is drawn from [0, min(cap, base * 2**(n-1))] ("full jitter", so many workers that hit a rate
    limit together do not come back together), or is exactly that bound with `jitter=False`. A `retry_after`
    from the provider (Retry-After, X-RateLimit-Reset) is a floor for the wait, itself capped at `cap`.
    """

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 30.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base < 0 or self.cap < 0:
            raise ValueError(f"bad retry policy {self}")

    def wait(self, state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt (tenacity's `wait` hook)."""
        backoff_of = wait_random_exponential if self.jitter else wait_exponential
        wait = backoff_of(multiplier=self.base, max=self.cap)(state)
        err = state.outcome.exception() if state.outcome else None
        hint = getattr(err, "retry_after", None)
        if hint is not None:
            wait = max(wait, min(float(hint), self.cap))
        return wait


def _is_retryable(err: BaseException) -> bool:
    return isinstance(err, ProviderError) and err.retryable and not err.fatal


def send_with_retry(
    provider: EmailProvider,
    batch: Batch,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    log: logging.Logger = _log,
) -> list[SendResult]:
    """Send a batch, retrying whole-batch failures the provider marks retryable.

    Returns one result per recipient. When the attempts run out, or the provider fails the batch without asking
    for a retry, every recipient comes back "failed" with the last reason. A fatal error (bad credentials) is
    re-raised at once: retrying it would only burn through every batch.
    """

    def before_sleep(state: RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: attempt %d/%d failed (status %s); retrying in %.1f s",
            provider.name,
            state.attempt_number,
            policy.max_attempts,
            getattr(err, "status", None),
            state.next_action.sleep if state.next_action else 0.0,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=policy.wait,
        retry=retry_if_exception(_is_retryable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(provider.send_batch, batch)
    except ProviderError as err:
        if err.fatal:
            raise
        attempts = retrying.statistics.get("attempt_number", 1)
        reason = f"gave up after {attempts} attempt(s): {err}" if err.retryable else str(err)
        log.error(
            "%s: batch of %d failed (status %s) after %d attempt(s)",
            provider.name,
            len(batch.recipients),
            err.status,
            attempts,
        )
        return [SendResult(r.delivery_id, "failed", error=reason) for r in batch.recipients]
