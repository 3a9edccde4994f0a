"""campaigns.rate_limits on both databases: sliding windows, several rules, client networks, and one count shared by
processes racing for the same bucket."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context

import pytest

from campaigns import rate_limits
from campaigns.db.session import make_engine, make_session_factory
from campaigns.errors import RateLimited
from tests.builders import START, TEST_ADDRESS_KEY

PER_HOUR_AND_DAY = rate_limits.Limit("test", ((1, 3600), (3, 86400)))
FIVE = rate_limits.Limit("five", ((5, 3600),))


def hit(factory, limit, key, at) -> int:
    with factory.begin() as s:
        return rate_limits.try_hit(s, limit, key, at)


def test_every_rule_holds_and_the_window_slides(session_factory):
    at = lambda minutes: START + timedelta(minutes=minutes)  # noqa: E731
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(0)) == 0
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(30)) == 30 * 60  # the hour rule: wait for the first
    assert hit(session_factory, PER_HOUR_AND_DAY, "b", at(30)) == 0  # another key is another bucket
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(60)) == 0
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(120)) == 0
    # Three in the day now: the day rule waits until the first leaves the window.
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(240)) == 24 * 3600 - 240 * 60
    assert hit(session_factory, PER_HOUR_AND_DAY, "a", at(24 * 60)) == 0


def test_hit_raises_with_the_wait_and_refund_and_clear_give_places_back(session_factory):
    with session_factory.begin() as s:
        for _ in range(5):
            rate_limits.hit(s, FIVE, "k", START)
    with pytest.raises(RateLimited) as err, session_factory.begin() as s:
        rate_limits.hit(s, FIVE, "k", START + timedelta(minutes=10))
    assert err.value.retry_after == 50 * 60
    with session_factory.begin() as s:
        assert rate_limits.locked_for(s, FIVE, "k", START) == 3600
        rate_limits.refund(s, FIVE, "k", START)
    assert hit(session_factory, FIVE, "k", START) == 0
    with session_factory.begin() as s:
        rate_limits.clear(s, FIVE, "k")
        assert rate_limits.locked_for(s, FIVE, "k", START) == 0


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, "other:unknown"),
        ("testclient", "other:testclient"),
    ],
)
def test_clients_are_counted_by_network(address, bucket):
    assert rate_limits.client_bucket(address) == bucket


def _hammer(db_url: str, tries: int) -> int:
    """In a process of its own: try `tries` hits on one bucket; how many got a place."""
    engine = make_engine(db_url)
    factory = make_session_factory(engine, TEST_ADDRESS_KEY)
    try:
        return sum(hit(factory, FIVE, "shared", START) == 0 for _ in range(tries))
    finally:
        engine.dispose()


def test_processes_racing_for_one_bucket_share_one_count(session_factory, db_url):
    with ProcessPoolExecutor(3, mp_context=get_context("spawn")) as pool:
        taken = list(pool.map(_hammer, [db_url] * 3, [10] * 3))
    assert sum(taken) == 5, taken
