"""Builds the configured provider, refusing a real one while the setup would send unsafe or placeholder mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from campaigns.brand import Brand
from campaigns.delivery.providers.base import EmailProvider
from campaigns.delivery.providers.outbox import OutboxProvider
from campaigns.delivery.providers.smtp import SMTPProvider
from campaigns.errors import ConfigError
from campaigns.settings import Settings, check_secrets


def build_provider(settings: Settings, brand: Brand, clock: Callable[[], datetime] | None = None) -> EmailProvider:
    """The provider OUTREACH_EMAIL_BACKEND names; ConfigError (one line) when a real one is not safe to start."""
    backend = settings.email_backend
    if backend == "outbox":
        return OutboxProvider(settings.outbox_dir, clock=clock)  # the demo's: writes files, never refuses
    check_real_sending(settings, brand)
    if backend == "smtp":
        if settings.smtp_user and not settings.smtp_password:
            raise ConfigError("setting OUTREACH_SMTP_PASSWORD: not set, but OUTREACH_SMTP_USER is")
        return SMTPProvider(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_user,
            settings.smtp_password,
            clock=clock,
        )
    if backend == "sendgrid":
        if not settings.sendgrid_api_key:
            raise ConfigError("setting SENDGRID_API_KEY: not set, and OUTREACH_EMAIL_BACKEND=sendgrid needs it")
        from campaigns.delivery.providers.sendgrid import (
            SendGridProvider,  # imported only when used
        )

        return SendGridProvider(
            api_key=settings.sendgrid_api_key, host=settings.sendgrid_api_host, sandbox=settings.sendgrid_sandbox
        )
    raise ConfigError(f"setting OUTREACH_EMAIL_BACKEND: unknown backend {backend!r}")


def check_real_sending(settings: Settings, brand: Brand) -> None:
    """Mail to real people needs the real brand (CAN-SPAM: a true postal address; a phone and links that reach the
    organisation) and https links (RFC 8058)."""
    backend = settings.email_backend
    if brand.placeholders():
        # By value, not only by the file's own `examples` list: a placeholder left unlisted (a 555 number, an
        # example.org link) would otherwise go out to real readers.
        raise ConfigError(
            f"OUTREACH_EMAIL_BACKEND={backend} refused: {settings.brand_file} still holds placeholder values: "
            f"{brand.placeholder_summary()}; replace them with the organisation's own, and take them off its "
            "`examples` list"
        )
    if not settings.base_url.startswith("https://"):
        raise ConfigError(
            f"OUTREACH_EMAIL_BACKEND={backend} refused: OUTREACH_BASE_URL must be https "
            f"(unsubscribe links, RFC 8058), not {settings.base_url}"
        )
    # The secret signs every unsubscribe and confirmation link; the address key keeps the suppression list private.
    check_secrets(settings, f"OUTREACH_EMAIL_BACKEND={backend}")
