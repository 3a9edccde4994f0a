"""Signed, purpose-bound tokens for the links in emails and pages. No email address ever appears in a URL.

A token carries only ids and is signed with OUTREACH_SECRET_KEY; the purpose is part of the key, so a token made
for one purpose never verifies for another. Unsubscribe and preference links name a subscriber (and a campaign);
a confirmation link names one sign-up request (its id and a random nonce kept on the row), which it confirms once.
A reader link names one email (subscriber, campaign, step): one signature per email, and every link that acts on
that email (pace, "was this useful?", the call to action) is that token with the action after it in the path.

A token is `<ids>.<time>.<tag>`: the ids joined by `-`, the Unix time it was made in hexadecimal, and a 128-bit
keyed BLAKE2b tag over both (RFC 7693's MAC mode: one hashlib call, about 1 µs, where itsdangerous' signer took
10 µs and `hmac.digest` 4 µs; the send path signs two or three links per email), with a key per purpose. Tokens
made before, in itsdangerous' format (base64 JSON first, so never starting with a digit), keep verifying: emails
already sent carry them for a year.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)

from campaigns.errors import TokenError

Purpose = Literal["confirm", "unsubscribe", "preferences", "reader"]

# How long each kind of link keeps working. Unsubscribe links must work for at least 30 days after sending
# (CAN-SPAM); we keep them valid for a year so that an old email still lets a person leave.
MAX_AGE: dict[str, int] = {
    "confirm": 7 * 24 * 3600,
    "unsubscribe": 365 * 24 * 3600,
    "preferences": 365 * 24 * 3600,
    # Pacing and feedback links matter while the series runs; the call to action may be clicked long after.
    "reader": 365 * 24 * 3600,
}


# Confirmation links once named the subscriber and worked any number of times; they name a sign-up request now,
# under a salt of their own, so the links in confirmation emails sent before that change no longer verify.
_SALTS: dict[str, str] = {"confirm": "outreach.confirm-request"}
NONCE_BITS = 52  # a random nonce that JSON and a BIGINT column both keep exactly


def salt_of(purpose: Purpose) -> str:
    """The signer's salt for a purpose: what makes a token of one purpose useless for another."""
    return _SALTS.get(purpose, f"outreach.{purpose}")


class _Signer(TimestampSigner):
    """itsdangerous' signer, deriving its key once rather than for every signature (same key, same tokens)."""

    @cached_property
    def _key(self) -> bytes:
        return super().derive_key()

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return self._key if secret_key is None else super().derive_key(secret_key)


# The subscriber a preview or test email's links name: no row has this id, and the pages these links open say that
# the email was a test instead of "this subscription no longer exists".
SAMPLE_SUBSCRIBER = 0


@dataclass(frozen=True)
class TokenData:
    subscriber_id: int
    campaign_id: int | None = None

    @property
    def is_sample(self) -> bool:
        """A link from a preview or a test email, naming no real subscriber."""
        return self.subscriber_id == SAMPLE_SUBSCRIBER


@dataclass(frozen=True)
class ConfirmToken:
    """What a confirmation link names: one sign-up request, and the nonce stored with it."""

    request_id: int
    nonce: int


@dataclass(frozen=True)
class ReaderToken:
    """What an email's reader links name: the subscriber, and the campaign and step of the email they were in."""

    subscriber_id: int
    campaign_id: int
    step: int

    @property
    def is_sample(self) -> bool:
        return self.subscriber_id == SAMPLE_SUBSCRIBER


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key
        self._keys: dict[str, bytes] = {}

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        """itsdangerous' reader, for tokens made before the one-shot format (see the module docstring)."""
        return URLSafeTimedSerializer(self._secret, salt=salt_of(purpose), signer=_Signer)

    def _key(self, purpose: Purpose) -> bytes:
        key = self._keys.get(purpose)
        if key is None:
            # Derived once per purpose: the salt in the key is what keeps one purpose's tokens from another's.
            msg = f"outreach.token-key\0{salt_of(purpose)}".encode()
            key = self._keys[purpose] = hmac.digest(self._secret.encode(), msg, "sha256")  # BLAKE2b takes 64 bytes
        return key

    def make(self, purpose: Purpose, subscriber_id: int, campaign_id: int | None = None) -> str:
        return self._sign(purpose, (subscriber_id,) if campaign_id is None else (subscriber_id, campaign_id))

    def make_confirm(self, request_id: int, nonce: int) -> str:
        """The token of a confirmation link for one sign-up request."""
        return self._sign("confirm", (request_id, nonce))

    def make_reader(self, subscriber_id: int, campaign_id: int, step: int) -> str:
        """The one token of an email's reader links."""
        return self._sign("reader", (subscriber_id, campaign_id, step))

    def _sign(self, purpose: Purpose, payload: tuple[int, ...], at: float | None = None) -> str:
        body = f"{'-'.join(map(str, payload))}.{int(time.time() if at is None else at):x}"
        return f"{body}.{_tag(self._key(purpose), body)}"

    def read(self, purpose: Purpose, token: str, max_age: int | None = None) -> TokenData:
        """The ids a token carries; TokenError if it is forged, altered, expired or for another purpose."""
        return TokenData(*self._load(purpose, token, 1, 2, max_age))

    def read_confirm(self, token: str) -> ConfirmToken:
        """The sign-up request a confirmation link names; TokenError as for `read`."""
        return ConfirmToken(*self._load("confirm", token, 2, 2, None))

    def read_reader(self, token: str) -> ReaderToken:
        """The email a reader link names; TokenError as for `read`."""
        return ReaderToken(*self._load("reader", token, 3, 3, None))

    def _load(self, purpose: Purpose, token: str, least: int, most: int, max_age: int | None) -> list[int]:
        if len(token) > 400:  # ours are under 100 characters; do not spend a signature check on a megabyte
            raise TokenError("this link is not valid", purpose=purpose)
        age_limit = max_age or MAX_AGE[purpose]
        payload = (
            self._load_one_shot(purpose, token, age_limit)
            if token[:1].isdigit()
            else self._load_legacy(purpose, token, age_limit)
        )
        if not (
            isinstance(payload, list)
            and least <= len(payload) <= most
            and all(type(i) is int and 0 <= i < 2**63 for i in payload)
        ):
            raise TokenError("this link is not valid", purpose=purpose)
        return payload

    def _load_one_shot(self, purpose: Purpose, token: str, max_age: int) -> list[int]:
        body, _, tag = token.rpartition(".")
        ids, _, stamp = body.partition(".")
        if not hmac.compare_digest(_tag(self._key(purpose), body), tag):
            raise TokenError("this link is not valid", purpose=purpose)
        # Signed by us, so well formed; still read strictly (one spelling per token, no surprises from int()).
        try:
            payload, made = [int(i) for i in ids.split("-")], int(stamp, 16)
        except ValueError:
            raise TokenError("this link is not valid", purpose=purpose) from None
        age = time.time() - made
        if age > max_age:
            raise TokenError("this link has expired", purpose=purpose, expired=True)
        if age < -60:  # made in the future: a clock far off, or not ours
            raise TokenError("this link is not valid", purpose=purpose)
        return payload

    def _load_legacy(self, purpose: Purpose, token: str, max_age: int) -> list[int]:
        try:
            return self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise TokenError("this link has expired", purpose=purpose, expired=True) from None
        except BadSignature:
            raise TokenError("this link is not valid", purpose=purpose) from None


def _tag(key: bytes, body: str) -> str:
    """The token's tag: keyed BLAKE2b of 128 bits, URL-safe base64 without padding (22 characters)."""
    mac = hashlib.blake2b(body.encode(), key=key, digest_size=16).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class Links:
    """The public URLs an email carries, for one base URL."""

    def __init__(self, base_url: str, tokens: Tokens) -> None:
        self.base_url, self.tokens = base_url.rstrip("/"), tokens

    def unsubscribe_url(self, subscriber_id: int, campaign_id: int | None = None) -> str:
        """The one-click URL: GET shows a page with a button, POST (RFC 8058) unsubscribes at once."""
        return f"{self.base_url}/u/{self.tokens.make('unsubscribe', subscriber_id, campaign_id)}"

    def preferences_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/p/{self.tokens.make('preferences', subscriber_id)}"

    def reader_url(self, subscriber_id: int, campaign_id: int, step: int) -> str:
        """The root of one email's reader links: itself the call to action (our redirect, `/r/<token>`), and with
        `/pace/next`, `/useful/yes`... after it, the pages that act on the reader's series."""
        return f"{self.base_url}/r/{self.tokens.make_reader(subscriber_id, campaign_id, step)}"

    def confirm_url(self, request_id: int, nonce: int) -> str:
        """The double opt-in link for one sign-up request: GET shows a button, POST confirms (once)."""
        return f"{self.base_url}/c/{self.tokens.make_confirm(request_id, nonce)}"
