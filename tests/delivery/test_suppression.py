"""The suppression list: one hash for every address, idempotent additions, bulk checks."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from campaigns.db.models import Suppression
from campaigns.delivery.suppression import (
    email_key,
    is_suppressed,
    suppress,
    suppress_key,
    suppressed_keys,
)


def test_email_key_is_sha256_of_the_stripped_lower_cased_address():
    assert email_key("  Ann@Example.COM \n") == hashlib.sha256(b"ann@example.com").hexdigest()
    assert email_key("ann@example.com") != email_key("anne@example.com")


def test_suppress_is_case_insensitive_and_keeps_no_address(session_factory, now):
    with session_factory.begin() as s:
        suppress(s, "Ann@Example.COM", "unsubscribed", "link", now)
    with session_factory() as s:
        assert is_suppressed(s, "ann@example.com")
        assert not is_suppressed(s, "bob@example.com")
        row = s.scalar(select(Suppression))
    assert row.email_key == email_key("ann@example.com") and "@" not in row.email_key


def test_suppress_twice_keeps_one_row_and_the_first_reason(session_factory, now):
    with session_factory.begin() as s:
        suppress(s, "ann@example.com", "complaint", "sendgrid", now)
    with session_factory.begin() as s:
        suppress(s, "ANN@example.com", "manual", "cli", now + timedelta(days=1))
        suppress_key(s, email_key("ann@example.com"), "hard_bounce", None, now)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Suppression)) == 1
        assert s.scalar(select(Suppression.reason)) == "complaint"


def test_suppressed_keys_checks_many_keys_at_once(session_factory, now):
    blocked = [f"gone{i}@example.com" for i in range(3)]
    with session_factory.begin() as s:
        for address in blocked:
            suppress(s, address, "manual", None, now)
    # More keys than one IN (...) chunk holds, so the chunking is exercised too.
    keys = [email_key(f"person{i}@example.com") for i in range(12_000)] + [email_key(a) for a in blocked]
    with session_factory() as s:
        assert suppressed_keys(s, keys) == {email_key(a) for a in blocked}
        assert suppressed_keys(s, []) == set()
