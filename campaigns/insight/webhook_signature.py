"""SendGrid's signed event webhook: ECDSA P-256 with SHA-256 over the timestamp header's value followed by the raw
body; the signature is base64 DER (`X-Twilio-Email-Event-Webhook-Signature`), the public key base64 DER
(SubjectPublicKeyInfo, as the SendGrid settings page shows it).

SendGrid's own helper checks no timestamp age, so a captured request could be replayed for ever: `verify` also
refuses a timestamp older than the configured age, or too far in the future.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns.errors import ConfigError, SignatureError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
#: Clock difference tolerated for a timestamp ahead of ours (SendGrid's clock vs this server's).
FUTURE_SKEW_SECONDS = 120


def load_public_key(value: str) -> ec.EllipticCurvePublicKey:
    """The webhook's public key from the setting (base64 DER, or PEM); a bad one is a ConfigError naming it."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError) as err:
        raise ConfigError(f"setting SENDGRID_WEBHOOK_PUBLIC_KEY: not a base64 DER public key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError("setting SENDGRID_WEBHOOK_PUBLIC_KEY: must be an ECDSA P-256 public key")
    return key


class WebhookVerifier:
    """Checks one request's signature and timestamp; built once from settings."""

    def __init__(self, public_key: str, max_age_seconds: int) -> None:
        self.key = load_public_key(public_key)
        self.max_age = max_age_seconds

    def verify(self, signature: str | None, timestamp: str | None, body: bytes, now: datetime) -> None:
        """Return quietly if the request is SendGrid's and fresh; raise SignatureError otherwise."""
        if not signature or not timestamp:
            raise SignatureError("missing webhook signature or timestamp header")
        if not timestamp.isascii() or not timestamp.isdigit():
            raise SignatureError("webhook timestamp is not a number of seconds")
        try:
            der = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("webhook signature is not base64") from None
        try:
            self.key.verify(der, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureError("webhook signature does not verify") from None
        # Age is checked after the signature, so the timestamp is known to be SendGrid's own.
        age = now.timestamp() - int(timestamp)
        if age > self.max_age:
            raise SignatureError(f"webhook timestamp is {int(age)} s old (limit {self.max_age} s)")
        if age < -FUTURE_SKEW_SECONDS:
            raise SignatureError(f"webhook timestamp is {int(-age)} s in the future")
