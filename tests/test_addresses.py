"""campaigns.addresses: the stored form, the sent form and the keyed fingerprint of an address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaigns.addresses import (
    AddressError,
    AddressKey,
    UnsupportedAddress,
    address_key,
    email_key,
    normalize_address,
    sendable_address,
)
from campaigns.db.models import KeyCheck
from campaigns.db.session import make_session_factory
from campaigns.errors import ConfigError
from tests.builders import KEYS


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Ann@Example.COM ", "Ann@example.com"),
        ("idn@BÜCHER.de", "idn@bücher.de"),
        ("x@xn--bcher-kva.de", "x@bücher.de"),
    ],
)
def test_normalize_keeps_what_we_can_send(typed, stored):
    assert normalize_address(typed) == stored


@pytest.mark.parametrize("typed", ["josé@example.com", "李@example.com"])
def test_a_non_ascii_local_part_is_refused_with_the_reason(typed):
    with pytest.raises(UnsupportedAddress, match="before the @"):
        normalize_address(typed)


@pytest.mark.parametrize("typed", ["a\x00b@example.com", "ab@exa\x00mple.com", "a\nb@example.com", "x" * 400 + "@a.b"])
def test_an_address_with_a_control_character_is_refused_not_changed(typed):
    with pytest.raises(AddressError):
        normalize_address(typed)


def test_the_sent_form_has_an_ascii_domain():
    assert sendable_address("idn@bücher.de") == "idn@xn--bcher-kva.de"
    assert sendable_address("ann@example.com") == "ann@example.com"
    assert sendable_address("josé@example.com") is None


def test_a_database_refuses_another_key_than_its_own(session_factory):
    with session_factory.begin() as s:
        assert email_key(s, "ann@example.com") == KEYS.of("ann@example.com")  # the first use records the key
    with session_factory() as s:
        assert s.scalar(select(KeyCheck.fingerprint)) == KEYS.fingerprint
    other = make_session_factory(session_factory.kw["bind"], "another-key-Wb6Yc3Lh9Fd0Gs5JaZx8Kp2Q")
    with pytest.raises(ConfigError, match="OUTREACH_ADDRESS_KEY"), other() as s:
        address_key(s)


def test_the_fingerprint_is_no_unkeyed_hash():
    import hashlib

    assert KEYS.of("ann@example.com") != hashlib.sha256(b"ann@example.com").hexdigest()
    assert AddressKey("k1-Zx8Kp2Qm7Vt4Rn1W").fingerprint != AddressKey("k2-Zx8Kp2Qm7Vt4Rn1W").fingerprint
