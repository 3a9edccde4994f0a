"""The sliding-window sign-up limit, on a hand-moved clock (no sleeping, no timing)."""

from __future__ import annotations

import pytest

from web.ratelimit import RateLimited, SlidingWindowLimiter


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_window_slides_per_key():
    clock = Ticker()
    limiter = SlidingWindowLimiter(3, 600, clock)
    for _ in range(3):
        limiter.hit("198.51.100.7")
        clock.t += 100
    with pytest.raises(RateLimited) as err:
        limiter.hit("198.51.100.7")
    assert err.value.retry_after == 300  # the first hit leaves the window at t=1600
    limiter.hit("203.0.113.1")  # another address is not affected
    clock.t = 1600
    limiter.hit("198.51.100.7")  # the oldest hit has left the window
    with pytest.raises(RateLimited):
        limiter.hit("198.51.100.7")
