"""The RFC 5322 message for one recipient of a batch, built once and shared by the outbox and SMTP providers, and
the headers every provider path adds the same way (SendGrid sends them in its request: see providers/sendgrid.py).

The Message-ID is random (nothing in it says which campaign, step or person it is, and it cannot repeat after a
database reset or in a staging copy), but it is decided once per delivery, when the tick creates the delivery row,
and stored there: every attempt at one delivery carries the same id and the same MIME boundary, so a retried send is
byte-for-byte the same email and a mailbox that sees it twice can tell.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from typing import cast

from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.text_input import clean_line

# Headers: lines up to RFC 5322's hard limit of 998. With the default 78, Python's email package RFC 2047-encodes a
# header holding one long token (a List-Unsubscribe URL with a signed token) as `=?utf-8?q?...?=`, which mailbox
# providers do not decode there, so one-click unsubscribe silently breaks. CRLF line ends, as on the wire.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)

# Body parts: RFC 2045 limits quoted-printable lines to 76 characters. The content manager wraps encoded bodies at
# the part's policy's max_line_length, so the parts are encoded under this policy, not the 998 one above.
_BODY_POLICY = policy.SMTP.clone(max_line_length=76)

_LABEL = re.compile(r"[^A-Za-z0-9-]+")


def build_message(batch: Batch, recipient: Recipient, *, now: datetime, html: str, text: str) -> EmailMessage:
    """The email for one recipient: multipart/alternative (text, then HTML) with every header a bulk sender needs.

    `html` and `text` are the recipient's already filled content; `now` stamps the Date header (naive means UTC).
    """
    brand = batch.brand
    added = {**batch_headers(batch), **recipient_headers(batch, recipient)}

    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = Address(_one_line(brand.sender_name), addr_spec=brand.sender_email)
    msg["To"] = Address(_one_line(recipient.name or ""), addr_spec=recipient.email)
    if brand.reply_to:
        msg["Reply-To"] = brand.reply_to
    msg["Subject"] = _one_line(batch.content.fill_subject(recipient.values))
    msg["Date"] = _utc(now)
    msg["MIME-Version"] = "1.0"
    for name, value in added.items():
        msg[name] = value

    msg.make_alternative()
    # Text first, HTML last: in multipart/alternative the last part the client can show is the preferred one.
    msg.attach(_text_part(text, "plain"))
    msg.attach(_text_part(html, "html"))
    # A boundary made from the content (instead of a random one) keeps the bytes of one delivery identical across
    # retries and providers. "=_" can never occur in quoted-printable output, so it cannot collide with the content.
    digest = hashlib.sha256(f"{added['Message-ID']}\0{text}\0{html}".encode()).hexdigest()[:32]
    msg.set_boundary(f"=_outreach_{digest}")
    return msg


def batch_headers(batch: Batch) -> dict[str, str]:
    """Headers that are the same for everyone in a batch, as every provider path sends them."""
    domain = sender_domain(batch)
    headers = {
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{_one_line(batch.brand.name)} <{_LABEL.sub('-', batch.campaign).strip('-')}.{domain}>",
        # Bulk mail: tells RFC 3834 auto-responders (vacation replies) not to answer; with List-Id it reads as a list.
        "Precedence": "bulk",
    }
    if batch.is_test:
        headers["X-Outreach-Test"] = "yes"
    return headers


def recipient_headers(batch: Batch, recipient: Recipient) -> dict[str, str]:
    """Headers of one recipient's email, as every provider path sends them."""
    return {
        "Message-ID": message_id_for(recipient, sender_domain(batch)),
        "List-Unsubscribe": list_unsubscribe(recipient),
        "X-Outreach-Delivery": str(recipient.delivery_id),  # an id only: never personal data in headers we add
    }


def list_unsubscribe(recipient: Recipient) -> str:
    """The List-Unsubscribe value; ValueError when the recipient has no link (then no email goes to them)."""
    unsubscribe_url = str(recipient.values.get("unsubscribe_url", ""))
    if not unsubscribe_url:
        # Every email carries a one-click unsubscribe (RFC 8058, Gmail/Yahoo bulk-sender rules): no link, no email.
        raise ValueError(f"delivery {recipient.delivery_id}: no unsubscribe_url to put in List-Unsubscribe")
    return f"<{unsubscribe_url}>"


def sender_domain(batch: Batch) -> str:
    return batch.brand.sender_email.rpartition("@")[2]


def new_message_token() -> str:
    """The random local part of a Message-ID: 128 bits, decided once per delivery (see the module docstring)."""
    return secrets.token_hex(16)


def message_id_for(recipient: Recipient, domain: str) -> str:
    """The Message-ID on the sender's domain: the delivery's stored token, or a fresh random one for a test send or
    a confirmation email (and for a delivery row made before tokens were stored)."""
    return f"<{recipient.message_token or new_message_token()}@{domain}>"


def _text_part(content: str, subtype: str) -> EmailMessage:
    # A bare MIMEPart, not an EmailMessage: no MIME-Version header inside the parts. (The stubs type attach()'s
    # argument as the container's own class; any message part is what it takes.)
    part = cast(EmailMessage, MIMEPart(policy=_BODY_POLICY))
    # quoted-printable: readable in the .eml files, 7-bit safe on any relay, and short lines whatever the HTML.
    part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
    return part


def _one_line(value: str) -> str:
    """One line without control characters: a CR or LF in a name or subject would otherwise be a header injection
    (or an error), a NUL or an ESC garbage in a mail client (input is cleaned, but rows may predate that)."""
    return clean_line(value)


def _utc(now: datetime) -> datetime:
    # Naive datetimes in this project are UTC (SQLite stores them naive); an aware one keeps its own offset.
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now
