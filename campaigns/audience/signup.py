"""Double opt-in: a sign-up request makes (or finds) a pending subscriber and asks for a confirmation email; only the
signed confirmation link activates them, records their consent and enrolls them in the campaign.

A request never reveals whether an address is known: the caller gets the same answer every time, and a repeated
request reuses the row instead of making a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jinja2 import Environment, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audience.preferences import PreferenceError, clean_name, clean_time_zone
from campaigns.audience.subscribers import normalize_address
from campaigns.audience.unsubscribe import (
    SUPPRESSION_REASON,
    load_subscriber,
    reactivate,
    resume_enrollment,
)
from campaigns.authoring.content import StepContent
from campaigns.brand import Brand
from campaigns.db.models import Campaign, Enrollment, Subscriber, Suppression
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.delivery.sending import first_name
from campaigns.delivery.suppression import email_key
from campaigns.errors import NotFound, StateError
from campaigns.tokens import Links, TokenData

SignupSource = Literal["signup form", "api"]
SIGNUP_SOURCES: tuple[str, ...] = ("signup form", "api")
# Campaigns a person can sign up for.
OPEN_FOR_SIGNUP = ("scheduled", "running")


class SignupError(PreferenceError):
    """A sign-up form field is not valid (names the field); says nothing about whether the address is known."""


@dataclass(frozen=True)
class SignupResult:
    """What a request did. `send_to` is the address to send the confirmation to, or None when no email should go
    (already enrolled, or blocked by a bounce, complaint or erasure): the caller answers the same either way."""

    subscriber_id: int | None  # None when the address is blocked: no row is made or touched
    campaign_id: int
    send_to: str | None
    name: str | None


def open_campaign(session: Session, slug: str | None) -> Campaign:
    """The campaign a sign-up joins: the one named, or the newest open one; NotFound when none is open."""
    query = select(Campaign).where(Campaign.status.in_(OPEN_FOR_SIGNUP))
    if slug:
        query = query.where(Campaign.slug == slug)
    campaign = session.scalar(query.order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(1))
    if campaign is None:
        raise NotFound("sign-ups are not open at the moment")
    return campaign


def clean_email(email: str | None) -> str:
    try:
        return normalize_address(email or "")
    except ValueError:
        raise SignupError("email", "Please enter a valid email address, like name@example.com.") from None


def request_signup(
    session: Session,
    email: str,
    name: str | None,
    tz: str,
    campaign_slug: str | None,
    ip: str | None,
    now: datetime,
    *,
    source: SignupSource = "signup form",
) -> SignupResult:
    """Record a sign-up request (pending until confirmed) and say whether to send a confirmation email.

    New address: a pending subscriber. Pending: name, time zone and source updated (nothing is confirmed yet).
    Active or unsubscribed: nothing changes until the link is clicked (an unconfirmed request must not alter a
    confirmed person's data). Blocked (bounced, complained, erased, removed by staff): nothing happens at all.
    """
    address = clean_email(email)
    try:
        name, tz = clean_name(name), clean_time_zone(tz)
    except PreferenceError as err:
        raise SignupError(err.field, str(err)) from None
    if source not in SIGNUP_SOURCES:
        raise ValueError(f"unknown sign-up source {source!r}")
    campaign = open_campaign(session, campaign_slug)
    key = email_key(address)
    if _blocked(session, key):
        return SignupResult(None, campaign.id, None, None)  # a bounce, complaint, erasure or staff removal
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email_key == key).with_for_update())
    if subscriber is None:
        subscriber = Subscriber(
            email=address,
            email_key=key,
            name=name,
            timezone=tz,
            status="pending",
            tags=[],
            consent_source=source,
            created_at=now,
        )
        session.add(subscriber)
        session.flush()
    elif subscriber.status == "pending":
        subscriber.name, subscriber.timezone, subscriber.consent_source = name, tz, source
    send_to = subscriber.email if _wants_confirmation(session, subscriber, campaign) else None
    if send_to and subscriber.status == "unsubscribed":
        # Until the new consent is confirmed the address stays suppressed; this only remembers where it came from.
        subscriber.consent_source = source
    session.flush()
    return SignupResult(subscriber.id, campaign.id, send_to, subscriber.name)


def _blocked(session: Session, key: str) -> bool:
    """True when the address may never be mailed again (suppressed for any reason but an unsubscribe, which a new,
    confirmed sign-up may undo)."""
    reason = session.scalar(select(Suppression.reason).where(Suppression.email_key == key))
    return reason not in (None, SUPPRESSION_REASON)


def _wants_confirmation(session: Session, subscriber: Subscriber, campaign: Campaign) -> bool:
    if subscriber.status in ("pending", "unsubscribed"):
        return True
    if subscriber.status == "active":
        enrolled = session.scalar(
            select(Enrollment.status).where(
                Enrollment.subscriber_id == subscriber.id, Enrollment.campaign_id == campaign.id
            )
        )
        return enrolled is None or enrolled == "stopped"
    return False


@dataclass(frozen=True)
class ConfirmResult:
    subscriber: Subscriber
    enrolled: bool  # True when this confirmation (or an earlier one) put them in the campaign
    already: bool  # True when nothing changed: the link had been used before


def confirm_signup(session: Session, token_data: TokenData, ip: str | None, now: datetime) -> ConfirmResult:
    """Activate the subscriber the (already verified) confirm token names, record their consent, enroll them.

    Idempotent: a second click changes nothing. StateError for someone who may not be mailed (bounced,
    complained, erased or removed by staff since).
    """
    subscriber = load_subscriber(session, token_data.subscriber_id)
    if subscriber.status not in ("pending", "active", "unsubscribed"):
        raise StateError("this sign-up can no longer be confirmed")
    if _blocked(session, subscriber.email_key):
        raise StateError("this sign-up can no longer be confirmed")
    changed = subscriber.status != "active"
    if changed:
        if subscriber.consent_source not in SIGNUP_SOURCES:
            subscriber.consent_source = "signup form"
        subscriber.consent_at, subscriber.consent_ip = now, (ip or None) and ip[:64]
        reactivate(session, subscriber, now)  # pending -> active; unsubscribed -> suppression lifted, resumed
    enrolled, new_enrollment = _enroll(session, subscriber, token_data.campaign_id, now)
    session.flush()
    return ConfirmResult(subscriber, enrolled, already=not (changed or new_enrollment))


def _enroll(session: Session, subscriber: Subscriber, campaign_id: int | None, now: datetime) -> tuple[bool, bool]:
    """(enrolled, newly) for the campaign the token names; a closed or deleted campaign enrolls no one."""
    campaign = session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None or campaign.status not in ("draft", *OPEN_FOR_SIGNUP, "paused"):
        return False, False
    enrollment = session.scalar(
        select(Enrollment).where(Enrollment.subscriber_id == subscriber.id, Enrollment.campaign_id == campaign.id)
    )
    if enrollment is None:
        # next_due_at stays empty: the scheduler's tick gives it the first due time in the subscriber's zone.
        session.add(
            Enrollment(
                campaign_id=campaign.id,
                subscriber_id=subscriber.id,
                next_step=1,
                next_due_at=None,
                status="active",
                enrolled_at=now,
            )
        )
        return True, True
    if enrollment.status == "stopped":
        resume_enrollment(session, enrollment, campaign, subscriber.timezone, now)
        return True, True
    return True, False


# The confirmation email: small, one link, rendered per request (it is sent once, not to a list).
_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_HTML = _ENV.from_string("""<!doctype html>
<html lang="{{ brand.language }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f4f6f5;">
<div style="display:none;max-height:0;overflow:hidden;">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"
 style="max-width:560px;background:#ffffff;border-radius:8px;font-family:Arial,Helvetica,sans-serif;color:#1d2b27;">
<tr><td style="padding:20px 28px;border-bottom:4px solid {{ brand.accent_color }};font-size:20px;font-weight:bold;
 color:{{ brand.accent_color }};">{{ brand.name }}</td></tr>
<tr><td style="padding:28px;font-size:16px;line-height:1.55;">
<p style="margin:0 0 16px;">Hi {{ first_name }},</p>
<p style="margin:0 0 16px;">Please confirm that you want to receive {{ brand.name }}'s short educational emails
 about <strong>{{ campaign_title }}</strong>. We will not send anything else until you do.</p>
<p style="margin:24px 0;text-align:center;"><a href="{{ confirm_url }}" style="display:inline-block;
 background:{{ brand.accent_color }};color:#ffffff;text-decoration:none;font-weight:bold;padding:14px 28px;
 border-radius:6px;">Yes, send me the emails</a></p>
<p style="margin:0 0 16px;font-size:14px;color:#4a5a55;">If you did not ask for this, ignore this email:
 you will not hear from us again. The link works for 7 days.</p>
</td></tr>
<tr><td style="padding:20px 28px;font-size:12px;line-height:1.5;color:#4a5a55;border-top:1px solid #e2e8e5;">
<p style="margin:0 0 8px;">{{ brand.notice }} {{ brand.crisis_line }}</p>
<p style="margin:0 0 8px;">{{ brand.legal_name }}, {{ brand.address }}</p>
<p style="margin:0;"><a href="%%unsubscribe_url%%" style="color:#4a5a55;">Unsubscribe</a></p>
</td></tr></table></td></tr></table></body></html>
""")
_TEXT = _ENV.from_string("""Hi {{ first_name }},

Please confirm that you want to receive {{ brand.name }}'s short educational emails about {{ campaign_title }}.
We will not send anything else until you do:

{{ confirm_url }}

If you did not ask for this, ignore this email: you will not hear from us again. The link works for 7 days.

--
{{ brand.notice }} {{ brand.crisis_line }}
{{ brand.legal_name }}, {{ brand.address }}
Unsubscribe: %%unsubscribe_url%%
""")
CONFIRM_SUBJECT = "Please confirm your subscription"


def confirmation_batch(result: SignupResult, campaign: Campaign, brand: Brand, links: Links) -> Batch:
    """The confirmation email for one sign-up, as a one-recipient batch for any provider.

    The confirm link is part of the content (it is the only thing this email is about); the unsubscribe link is a
    slot like in every other email, so List-Unsubscribe works here too.
    """
    if result.send_to is None or result.subscriber_id is None:
        raise ValueError("this sign-up needs no confirmation email")
    values: dict[str, Any] = {
        "brand": brand,
        "first_name": first_name(result.name),
        "campaign_title": campaign.title,
        "confirm_url": links.confirm_url(result.subscriber_id, result.campaign_id),
        "subject": CONFIRM_SUBJECT,
        "preheader": "One click and you are in.",
    }
    content = StepContent(CONFIRM_SUBJECT, values["preheader"], _HTML.render(values), _TEXT.render(values))
    # Delivery id 0: a confirmation has no delivery row (it is not a step of the series).
    recipient = Recipient(
        0,
        result.send_to,
        result.name,
        {
            "first_name": values["first_name"],
            # With the campaign, so that leaving from this email is counted in that campaign's stats.
            "unsubscribe_url": links.unsubscribe_url(result.subscriber_id, result.campaign_id),
            "preferences_url": links.preferences_url(result.subscriber_id),
        },
    )
    return Batch(content=content, brand=brand, campaign=campaign.slug, step=0, recipients=(recipient,))
