"""Double opt-in: a sign-up request makes (or finds) a pending subscriber and asks for a confirmation email; only the
signed confirmation link activates them, records their consent and enrolls them in the campaign.

Each confirmation email is for one request (a `SignupRequest` row): its link confirms that request once, and never
after the person unsubscribed later, so an old link (or a mail scanner opening it) cannot sign someone up again.
What a request asks for (name, time zone, where it came from) waits on its row until the link is clicked: an
unconfirmed request changes nothing about a person we already know.

A request never reveals whether an address is known: the caller gets the same answer every time. Confirmation
emails are capped per address (CONFIRMATION_EMAILS) and requests per client network (SIGNUP_REQUESTS), in the
database so every web process shares the count; a request over the address cap is answered as usual and sends
nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns import rate_limits
from campaigns.addresses import AddressError, UnsupportedAddress, address_key, normalize_address, sendable_address
from campaigns.audience.preferences import PreferenceError, clean_name, clean_time_zone
from campaigns.audience.unsubscribe import (
    SUPPRESSION_REASON,
    load_subscriber,
    reactivate,
    resume_enrollment,
)
from campaigns.authoring.crisis import reader_country
from campaigns.authoring.names import NEUTRAL
from campaigns.authoring.render import confirmation_content, crisis_block
from campaigns.brand import Brand
from campaigns.db.models import Campaign, Enrollment, SignupRequest, Subscriber, Suppression
from campaigns.db.sql import rows_changed
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.errors import NotFound, StateError, TokenError
from campaigns.text_input import is_slug
from campaigns.tokens import MAX_AGE, NONCE_BITS, ConfirmToken, Links

# "embedded form": the form pasted into the organisation's own site (web/embedded_signup.py).
SignupSource = Literal["signup form", "embedded form", "api"]
SIGNUP_SOURCES: tuple[str, ...] = ("signup form", "embedded form", "api")
# Campaigns a person can sign up for.
OPEN_FOR_SIGNUP = ("scheduled", "running")
# Confirmation emails to one address: enough for a person who lost the first one, too few to flood an inbox.
CONFIRMATION_EMAILS = rate_limits.Limit("confirmation-email", ((1, 3600), (3, 86400)))
# Sign-up requests from one client network (an IPv4 address, an IPv6 /64).
SIGNUP_REQUESTS = rate_limits.Limit("signup-client", ((5, 600),))
CONFIRM_LINK_DAYS = MAX_AGE["confirm"] // 86400
USED = (
    "this link has been used already (each confirmation link works once); if you confirmed, there is nothing more to do"
)


class SignupError(PreferenceError):
    """A sign-up form field is not valid (names the field); says nothing about whether the address is known."""


@dataclass(frozen=True)
class SignupResult:
    """What a request did. `send_to` is the address to send the confirmation to, or None when no email should go
    (already enrolled, blocked by a bounce, complaint or erasure, or over the per-address cap): the caller answers
    the same either way. `request` names the confirmation link's request when an email goes."""

    subscriber_id: int | None  # None when the address is blocked: no row is made or touched
    campaign_id: int
    send_to: str | None
    request: ConfirmToken | None = None


def open_campaign(session: Session, slug: str | None) -> Campaign:
    """The campaign a sign-up joins: the one named, or the newest open one; NotFound when none is open."""
    query = select(Campaign).where(Campaign.status.in_(OPEN_FOR_SIGNUP))
    if slug:
        if not is_slug(slug):  # nothing that is not a slug reaches the query (a NUL fails PostgreSQL's text type)
            raise NotFound("sign-ups are not open at the moment")
        query = query.where(Campaign.slug == slug)
    campaign = session.scalar(query.order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(1))
    if campaign is None:
        raise NotFound("sign-ups are not open at the moment")
    return campaign


def clean_email(email: str | None) -> str:
    try:
        return normalize_address(email or "")
    except UnsupportedAddress as err:
        raise SignupError("email", str(err)[:1].upper() + str(err)[1:] + ".") from None
    except AddressError:
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
    """Record a sign-up request and say whether to send a confirmation email (and for which request).

    New address: a pending subscriber. Known address (pending, active or unsubscribed): nothing about the person
    changes until a link is clicked. Blocked (bounced, complained, erased, removed by staff): nothing happens at
    all. RateLimited when the client network sent too many requests (a request with a bad field does not count).
    """
    address = clean_email(email)
    try:
        name, tz = clean_name(name), clean_time_zone(tz)
    except PreferenceError as err:
        raise SignupError(err.field, str(err)) from None
    if source not in SIGNUP_SOURCES:
        raise ValueError(f"unknown sign-up source {source!r}")
    campaign = open_campaign(session, (campaign_slug or "").strip() or None)  # an identifier: not cleaned, checked
    rate_limits.hit(session, SIGNUP_REQUESTS, rate_limits.client_bucket(ip), now)
    key = address_key(session).of(address)
    if _blocked(session, key):
        return SignupResult(None, campaign.id, None)  # a bounce, complaint, erasure or staff removal
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email_key == key).with_for_update())
    if subscriber is None:
        subscriber = Subscriber(
            email=address,
            email_key=key,
            name=name,
            timezone=tz,
            status="pending",
            consent_source=source,
            created_at=now,
        )
        session.add(subscriber)
        session.flush()
    if not _wants_confirmation(session, subscriber, campaign):
        return SignupResult(subscriber.id, campaign.id, None)
    if rate_limits.try_hit(session, CONFIRMATION_EMAILS, key, now):
        return SignupResult(subscriber.id, campaign.id, None)  # enough emails to this address for now
    # Requests whose links have expired are of no more use (and hold a name and an IP): drop them.
    session.execute(
        delete(SignupRequest).where(
            SignupRequest.subscriber_id == subscriber.id,
            SignupRequest.created_at < now - timedelta(days=CONFIRM_LINK_DAYS),
        )
    )
    request = SignupRequest(
        subscriber_id=subscriber.id,
        campaign_id=campaign.id,
        nonce=secrets.randbits(NONCE_BITS),
        name=name,
        timezone=tz,
        source=source,
        ip=(ip or None) and ip[:64],
        created_at=now,
    )
    session.add(request)
    session.flush()
    return SignupResult(subscriber.id, campaign.id, subscriber.email, ConfirmToken(request.id, request.nonce))


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
class PendingConfirmation:
    """A confirmation link that can still be used: what its page shows before the button is pressed."""

    request: SignupRequest
    subscriber: Subscriber
    campaign_title: str | None


def pending_confirmation(session: Session, token: ConfirmToken) -> PendingConfirmation:
    """The request a (verified) confirmation link names, if it can still confirm; TokenError for an unknown
    request, StateError (saying why) for one already used, made before a later unsubscribe, or for someone who
    may no longer be mailed."""
    request = session.scalar(select(SignupRequest).where(SignupRequest.id == token.request_id).with_for_update())
    if request is None or request.nonce != token.nonce:
        raise TokenError("this link is no longer valid")
    subscriber = load_subscriber(session, request.subscriber_id)
    if request.used_at is not None:
        raise StateError(USED)
    if subscriber.status not in ("pending", "active", "unsubscribed") or _blocked(session, subscriber.email_key):
        raise StateError("this sign-up can no longer be confirmed")
    if subscriber.unsubscribed_at is not None and request.created_at <= subscriber.unsubscribed_at:
        raise StateError(
            "you unsubscribed after asking for this link, so it no longer works; to get our emails again, "
            "please sign up again"
        )
    campaign = session.get(Campaign, request.campaign_id) if request.campaign_id is not None else None
    return PendingConfirmation(request, subscriber, campaign.title if campaign else None)


@dataclass(frozen=True)
class ConfirmResult:
    subscriber: Subscriber
    campaign_id: int | None  # the campaign the request was for
    enrolled: bool  # True when this confirmation (or an earlier one) put them in the campaign
    already: bool  # True when nothing changed: the person was subscribed and enrolled already


def confirm_signup(session: Session, token: ConfirmToken, ip: str | None, now: datetime) -> ConfirmResult:
    """Confirm the sign-up request a (verified) confirmation link names, once: activate the subscriber, record
    their consent, enroll them. Errors as `pending_confirmation`."""
    pending = pending_confirmation(session, token)
    request, subscriber = pending.request, pending.subscriber
    # Used once: a second POST racing this one finds the row taken and stops here.
    taken = rows_changed(
        session,
        update(SignupRequest)
        .where(SignupRequest.id == request.id, SignupRequest.used_at.is_(None))
        .values(used_at=now),
    )
    if not taken:
        raise StateError(USED)
    changed = subscriber.status != "active"
    if changed:
        if subscriber.status == "pending":  # never confirmed: what this request asked for is all we know
            subscriber.name, subscriber.timezone = request.name, request.timezone
        subscriber.consent_source = request.source
        # Consent is given by the click: its address, else the sign-up request's.
        subscriber.consent_at, subscriber.consent_ip = now, (ip or request.ip or "")[:64] or None
        reactivate(session, subscriber, now)  # pending -> active; unsubscribed -> suppression lifted, resumed
    enrolled, new_enrollment = _enroll(session, subscriber, request.campaign_id, now)
    session.flush()
    return ConfirmResult(subscriber, request.campaign_id, enrolled, already=not (changed or new_enrollment))


def _enroll(session: Session, subscriber: Subscriber, campaign_id: int | None, now: datetime) -> tuple[bool, bool]:
    """(enrolled, newly) for the campaign the request names; a closed or deleted campaign enrolls no one."""
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


def confirmation_batch(
    result: SignupResult, campaign: Campaign, brand: Brand, links: Links, tz: str | None = None
) -> Batch:
    """The confirmation email for one sign-up, as a one-recipient batch for any provider.

    The confirm link is part of the content (it is the only thing this email is about); the unsubscribe link and
    the crisis lines (of the country of `tz`, the time zone given at sign-up) are slots like in every other email,
    so List-Unsubscribe works here too. Nothing the requester typed is in it but the address (and, through the
    crisis lines, the time zone): the name waits for the confirmation.
    """
    if result.send_to is None or result.subscriber_id is None or result.request is None:
        raise ValueError("this sign-up needs no confirmation email")
    content = confirmation_content(
        brand,
        campaign_title=campaign.title,
        confirm_url=links.confirm_url(result.request.request_id, result.request.nonce),
    )
    # Delivery id 0: a confirmation has no delivery row (it is not a step of the series).
    # No name, in To or in the text: whoever typed the address typed the name too, and it may not be its owner.
    recipient = Recipient(
        0,
        sendable_address(result.send_to) or result.send_to,  # normalize_address let only sendable ones in
        None,
        {
            "first_name": NEUTRAL,
            # With the campaign, so that leaving from this email is counted in that campaign's stats.
            "unsubscribe_url": links.unsubscribe_url(result.subscriber_id, result.campaign_id),
            "preferences_url": links.preferences_url(result.subscriber_id),
            "crisis": crisis_block(reader_country(None, tz)),
        },
    )
    return Batch(content=content, brand=brand, campaign=campaign.slug, step=0, recipients=(recipient,))
