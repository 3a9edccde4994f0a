"""The suppression list: one keyed fingerprint for every address, idempotent additions, bulk checks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import func, select

from campaigns.addresses import AddressKey, email_key
from campaigns.db.models import Suppression
from campaigns.delivery.suppression import is_suppressed, suppress, suppress_key, suppressed_keys
from tests.builders import KEYS, TEST_ADDRESS_KEY


def test_email_key_is_the_keyed_hmac_of_the_old_unkeyed_key():
    old = hashlib.sha256(b"ann@example.com").hexdigest()  # what the key was before: see migration 0003
    expected = hmac.new(TEST_ADDRESS_KEY.encode(), old.encode(), hashlib.sha256).hexdigest()
    assert KEYS.of("  Ann@Example.COM \n") == expected
    assert KEYS.of("ann@example.com") != KEYS.of("anne@example.com")
    # Without the key, the fingerprint of a guessed address cannot be made: another key gives another one.
    assert AddressKey("another-key-Zx8Kp2Qm7Vt4Rn1Wb6Yc").of("ann@example.com") != expected


def test_an_internationalised_domain_has_one_key_in_either_spelling():
    assert KEYS.of("idn@bücher.de") == KEYS.of("IDN@xn--bcher-kva.de") == KEYS.of("idn@BÜCHER.de")


def test_suppress_is_case_insensitive_and_keeps_no_address(session_factory, now):
    with session_factory.begin() as s:
        suppress(s, "Ann@Example.COM", "unsubscribed", "link", now)
    with session_factory() as s:
        assert is_suppressed(s, "ann@example.com")
        assert not is_suppressed(s, "bob@example.com")
        row = s.scalar(select(Suppression))
        assert row.email_key == email_key(s, "ann@example.com") == KEYS.of("ann@example.com")
    assert "@" not in row.email_key


def test_suppress_twice_keeps_one_row_and_the_first_reason(session_factory, now):
    with session_factory.begin() as s:
        suppress(s, "ann@example.com", "complaint", "sendgrid", now)
    with session_factory.begin() as s:
        suppress(s, "ANN@example.com", "manual", "cli", now + timedelta(days=1))
        suppress_key(s, KEYS.of("ann@example.com"), "hard_bounce", None, now)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Suppression)) == 1
        assert s.scalar(select(Suppression.reason)) == "complaint"


def test_suppressed_keys_checks_many_keys_at_once(session_factory, now):
    blocked = [f"gone{i}@example.com" for i in range(3)]
    with session_factory.begin() as s:
        for address in blocked:
            suppress(s, address, "manual", None, now)
    # More keys than one IN (...) chunk holds, so the chunking is exercised too.
    keys = [KEYS.of(f"person{i}@example.com") for i in range(12_000)] + [KEYS.of(a) for a in blocked]
    with session_factory() as s:
        assert suppressed_keys(s, keys) == {KEYS.of(a) for a in blocked}
        assert suppressed_keys(s, []) == set()
