"""Signed, purpose-bound tokens for the links in emails and pages. No email address ever appears in a URL.

A token carries only ids and is signed with OUTREACH_SECRET_KEY; the purpose is the signer's salt, so a token made
for one purpose never verifies for another. Unsubscribe and preference links name a subscriber (and a campaign);
a confirmation link names one sign-up request (its id and a random nonce kept on the row), which it confirms once.
A reader link names one email (subscriber, campaign, step): one signature per email, and every link that acts on
that email (pace, "was this useful?", the call to action) is that token with the action after it in the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

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
        self._signers: dict[str, Signer] = {}

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=salt_of(purpose), signer=_Signer)

    def make(self, purpose: Purpose, subscriber_id: int, campaign_id: int | None = None) -> str:
        return self._sign(purpose, [subscriber_id] if campaign_id is None else [subscriber_id, campaign_id])

    def make_confirm(self, request_id: int, nonce: int) -> str:
        """The token of a confirmation link for one sign-up request."""
        return self._sign("confirm", [request_id, nonce])

    def make_reader(self, subscriber_id: int, campaign_id: int, step: int) -> str:
        """The one token of an email's reader links."""
        return self._sign("reader", [subscriber_id, campaign_id, step])

    def _sign(self, purpose: Purpose, payload: list[int]) -> str:
        # The send path signs two links per email. `dumps` would build a signer and try to zlib-compress a dozen
        # bytes of JSON each time; this makes the same token (uncompressed, as `loads` reads it) in a third of
        # the time.
        signer = self._signers.get(purpose)
        if signer is None:
            signer = self._signers[purpose] = self._serializer(purpose).make_signer()
        compact_json = f"[{','.join(map(str, payload))}]"  # as json.dumps(..., separators=(",", ":")) for ints
        return signer.sign(base64_encode(compact_json)).decode("ascii")

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
        try:
            payload = self._serializer(purpose).loads(token, max_age=max_age or MAX_AGE[purpose])
        except SignatureExpired:
            raise TokenError("this link has expired", purpose=purpose, expired=True) from None
        except BadSignature:
            raise TokenError("this link is not valid", purpose=purpose) from None
        if not (
            isinstance(payload, list)
            and least <= len(payload) <= most
            and all(type(i) is int and 0 <= i < 2**63 for i in payload)
        ):
            raise TokenError("this link is not valid", purpose=purpose)
        return payload


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
