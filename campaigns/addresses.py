"""Email addresses: the form we store, the form we send to, and the keyed fingerprint (`email_key`) that lets a
subscriber, a suppression and a provider event about one address meet without the address being stored twice.

Stored form: email-validator's normalised address (domain lower-cased, Unicode NFC), so `idn@bücher.de` is shown
to people as they typed it. Sent form (`sendable_address`): the domain in its ASCII (punycode) form, which every
relay and provider accepts in an envelope and a To header. A non-ASCII local part (`josé@…`) is refused at entry:
it needs SMTPUTF8 on our relay and on the recipient's, which most mail servers do not offer (a 2023 survey found it
on about a fifth of MX hosts), SendGrid's and the outbox path have no way to ask for it, and a sign-up that is
accepted and then never delivered is worse than a clear "please use another address" when it is typed.

The fingerprint is HMAC-SHA256, keyed with OUTREACH_ADDRESS_KEY, of the SHA-256 of the address: keyed, so that a
copy of the database (a backup, a dump) cannot confirm whether a guessed address was ever on a list about substance
use; over the SHA-256, because that was the unkeyed key before, so migration 0003 could re-key every stored row,
erased people's suppressions included, without knowing their addresses. The key must never change (the stored
fingerprints are made with it): `check_address_key` compares it with the fingerprint the database keeps of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import unicodedata
from functools import cached_property

import idna
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.db.models import KeyCheck
from campaigns.db.sql import insert_ignore
from campaigns.errors import ConfigError
from campaigns.text_input import clean_line

MAX_ADDRESS = 320  # RFC 5321: 64 before the @, 255 after
# Where a session finds its database's AddressKey (campaigns.db.session.make_session_factory puts it there).
ADDRESS_KEY_INFO = "outreach.address_key"
ADDRESS_KEY_CHECK = "address"  # the KeyCheck row of OUTREACH_ADDRESS_KEY
_CHECKED = "outreach.address_key_checked"


class AddressError(ValueError):
    """An address we cannot take; the message says why, in words for the person who typed it."""


class UnsupportedAddress(AddressError):
    """A well-formed address we cannot send to (non-ASCII characters before the @)."""


UNSUPPORTED_REASON = (
    "addresses with accented or non-Latin letters before the @ cannot receive our emails yet; "
    "please use another address"
)


def normalize_address(address: str) -> str:
    """The address as we store it; AddressError (UnsupportedAddress for a non-ASCII local part) with the reason."""
    address = address.strip()
    if clean_line(address) != address:  # stripping a NUL out of an address would make it another address
        raise AddressError("the address contains a control character or a line break")
    if len(address) > MAX_ADDRESS:
        raise AddressError(f"the address is longer than {MAX_ADDRESS} characters")
    local, at, _ = address.rpartition("@")
    if at and local and not local.isascii():
        raise UnsupportedAddress(UNSUPPORTED_REASON)
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as err:
        raise AddressError(str(err)) from None


def sendable_address(address: str) -> str | None:
    """The address to put on the envelope and in To: the domain as punycode. None when it cannot be sent at all
    (a non-ASCII local part stored before such addresses were refused at entry)."""
    if address.isascii():
        return address
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return None


def canonical_address(address: str) -> str:
    """The form an address is fingerprinted in: trimmed, lower-cased, NFC, the domain in Unicode (so a provider
    event naming `xn--bcher-kva.de` meets the subscriber stored as `bücher.de`). For a normalised address this is
    exactly what the unkeyed key of old hashed, which keeps migrated keys matching."""
    address = address.strip().lower()
    if not address.isascii():
        address = unicodedata.normalize("NFC", address)
    elif "xn--" in address:
        local, _, domain = address.rpartition("@")
        with contextlib.suppress(idna.IDNAError):  # not a valid IDN: fingerprinted as given
            address = f"{local}@{idna.decode(domain)}"
    return address


class AddressKey:
    """The keyed fingerprint of addresses for one OUTREACH_ADDRESS_KEY."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("setting OUTREACH_ADDRESS_KEY: empty")
        self._mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)
        self._checked: set[str] = set()

    def of(self, address: str) -> str:
        """The fingerprint of an address (64 hex digits)."""
        return self.of_unkeyed(hashlib.sha256(canonical_address(address).encode("utf-8")).hexdigest())

    def of_unkeyed(self, sha256_hex: str) -> str:
        """The fingerprint for a key made before keys were keyed (SHA-256 hex of the canonical address)."""
        mac = self._mac.copy()
        mac.update(sha256_hex.encode("ascii"))
        return mac.hexdigest()

    @cached_property
    def fingerprint(self) -> str:
        """What the database keeps to recognise this key (not the key, nor anything that helps find it)."""
        return self.of_unkeyed("outreach.address-key-check")

    def check(self, session: Session) -> None:
        """ConfigError when the database's addresses were fingerprinted with another key. Asked once per session
        until the database is known to hold this key's fingerprint, then once per process; the first use on a new
        database records it (migration 0003 records it too, when it is given the key)."""
        bind = session.get_bind()
        where = str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))
        if where in self._checked or session.info.get(_CHECKED):
            return
        stored = session.scalar(select(KeyCheck.fingerprint).where(KeyCheck.name == ADDRESS_KEY_CHECK))
        if stored is None:
            session.execute(
                insert_ignore(session, KeyCheck.__table__, ["name"]).values(
                    name=ADDRESS_KEY_CHECK, fingerprint=self.fingerprint
                )
            )
            session.info[_CHECKED] = True  # recorded in this transaction: known for good once it commits
            return
        if not hmac.compare_digest(str(stored), self.fingerprint):
            raise ConfigError(
                "setting OUTREACH_ADDRESS_KEY: this database's addresses were fingerprinted with another key; "
                "with this one, suppressed addresses would not be recognised (set the key the database was made with)"
            )
        self._checked.add(where)


def address_key(session: Session) -> AddressKey:
    """The address key of the session's database (given to make_session_factory), checked against it."""
    found = session.info.get(ADDRESS_KEY_INFO)
    if not isinstance(found, AddressKey):
        raise ConfigError("no address key for this database session (make_session_factory needs settings.address_key)")
    found.check(session)
    return found


def email_key(session: Session, address: str) -> str:
    """The keyed fingerprint of `address` in the session's database."""
    return address_key(session).of(address)
