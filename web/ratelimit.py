"""A per-key sliding-window rate limit, kept in memory.

Per process: with several web workers each keeps its own count, so the real limit is `limit` times the number of
processes. That is enough to stop a script from filling someone's inbox with confirmation emails through one
worker; a shared limit (e.g. in Redis) would be the next step if sign-ups are ever abused at scale.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from campaigns.errors import OutreachError


class RateLimited(OutreachError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many attempts from your network; please try again in a few minutes")
        self.retry_after = retry_after


class SlidingWindowLimiter:
    """At most `limit` hits per key within any `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def hit(self, key: str) -> None:
        """Count one attempt for `key`; RateLimited (with seconds to wait) when it is over the limit."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise RateLimited(max(1, int(hits[0] + self.window - now + 0.999)))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays flat
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
