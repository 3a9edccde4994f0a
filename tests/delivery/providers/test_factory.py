"""build_provider: the outbox by default, and the real providers refused until the setup is safe to send."""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import UTC, datetime

import pytest

from campaigns.brand import load_brand
from campaigns.delivery.providers.factory import build_provider
from campaigns.delivery.providers.outbox import OutboxProvider
from campaigns.delivery.providers.smtp import SMTPProvider
from campaigns.errors import ConfigError
from campaigns.settings import PROJECT_ROOT, load_settings

EXAMPLE_BRAND = load_brand(PROJECT_ROOT / "content" / "brand.toml")  # the shipped sample, placeholders and all
# Values that look real (nothing here is ever mailed): no reserved domain, no 555 number, no "Example".
REAL_BRAND = dataclasses.replace(
    EXAMPLE_BRAND,
    examples=(),
    address="2400 East Commercial Boulevard, Fort Lauderdale, FL 33308",
    phone="+1-954-730-0100",
    phone_display="(954) 730-0100",
    website="https://www.agapedetox-site.org",
    cta_url="https://www.agapedetox-site.org/contact",
    sender_email="learn@agapedetox-site.org",
    reply_to="care@agapedetox-site.org",
)
SAFE = {"base_url": "https://outreach.agape.test", "secret_key": "Zx8Kp2Qm7Vt4Rn1Wb6Yc3Lh9Fd0Gs5Ja"}


def settings(**overrides):
    return load_settings(**overrides)


def test_outbox_by_default_even_with_the_example_brand_and_http(tmp_path):
    s = settings(outbox_dir=tmp_path, base_url="http://localhost:8000")
    assert s.email_backend == "outbox"
    clock = lambda: datetime(2030, 1, 1, tzinfo=UTC)  # noqa: E731
    provider = build_provider(s, EXAMPLE_BRAND, clock=clock)
    assert isinstance(provider, OutboxProvider)
    assert provider.directory == tmp_path and provider.clock is clock


@pytest.mark.parametrize("backend", ["smtp", "sendgrid"])
def test_real_providers_refuse_the_example_brand_naming_the_keys(backend):
    with pytest.raises(ConfigError) as err:
        build_provider(settings(email_backend=backend, sendgrid_api_key="SG.x", **SAFE), EXAMPLE_BRAND)
    message = str(err.value)
    assert "\n" not in message
    assert f"OUTREACH_EMAIL_BACKEND={backend}" in message and "placeholder values" in message
    assert all(key in message for key in EXAMPLE_BRAND.examples)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"website": "https://www.example.com/agape"}, "website"),
        ({"cta_url": "https://example.org/contact"}, "cta_url"),
        ({"cta_url": "https://agape.test/contact"}, "cta_url"),
        ({"sender_email": "learn@example.net"}, "sender_email"),
        ({"reply_to": "care@example.org"}, "reply_to"),
        ({"phone": "+1-954-555-0142", "phone_display": "(954) 555-0142"}, "phone (+1-954-555-0142 is a 555 number"),
        ({"phone_display": "(555) 010-0199", "phone": "+1-555-010-0199"}, "phone_display ((555) 010-0199 is a 555"),
        ({"phone_display": "(954) 730-0199"}, "phone_display ((954) 730-0199 is not the number phone dials"),
        ({"address": "1234 Example Avenue, Fort Lauderdale, FL 33301"}, "address"),
    ],
)
def test_placeholders_are_refused_by_value_whatever_examples_says(change, named):
    brand = dataclasses.replace(REAL_BRAND, **change)
    assert brand.examples == ()
    with pytest.raises(ConfigError, match="placeholder values") as err:
        build_provider(settings(email_backend="smtp", **SAFE), brand)
    assert named in str(err.value)


def test_the_real_looking_brand_has_no_placeholders():
    assert REAL_BRAND.placeholders() == {}


@pytest.mark.parametrize("backend", ["smtp", "sendgrid"])
def test_real_providers_refuse_a_base_url_that_is_not_https(backend):
    with pytest.raises(ConfigError, match=r"OUTREACH_BASE_URL must be https .*http://outreach\.agape\.test$"):
        build_provider(
            settings(email_backend=backend, sendgrid_api_key="SG.x", base_url="http://outreach.agape.test"), REAL_BRAND
        )


@pytest.mark.parametrize("secret", [None, "short"])
def test_real_providers_refuse_a_forgeable_secret_key(secret):
    overrides = {**SAFE, **({"secret_key": secret} if secret else {})}
    if secret is None:
        del overrides["secret_key"]  # the built-in development key
    with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY"):
        build_provider(settings(email_backend="smtp", **overrides), REAL_BRAND)


def test_sendgrid_needs_an_api_key():
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        build_provider(settings(email_backend="sendgrid", sendgrid_api_key=None, **SAFE), REAL_BRAND)


def test_smtp_user_without_password_is_refused():
    with pytest.raises(ConfigError, match="OUTREACH_SMTP_PASSWORD"):
        build_provider(settings(email_backend="smtp", smtp_user="relay", smtp_password=None, **SAFE), REAL_BRAND)


def test_smtp_built_from_settings_and_its_password_never_shown():
    s = settings(
        email_backend="smtp",
        smtp_host="relay.agape.test",
        smtp_port=465,
        smtp_security="tls",
        smtp_user="relay",
        smtp_password="hunter2-secret",
        **SAFE,
    )
    provider = build_provider(s, REAL_BRAND)
    assert isinstance(provider, SMTPProvider)
    assert (provider.host, provider.port, provider.security, provider.user) == ("relay.agape.test", 465, "tls", "relay")
    assert "hunter2-secret" not in repr(provider) and "hunter2-secret" not in repr(s)


@pytest.mark.skipif(
    importlib.util.find_spec("campaigns.delivery.providers.sendgrid") is None,
    reason="campaigns/providers/sendgrid.py is not written yet",
)
def test_sendgrid_built_lazily_when_safe():
    provider = build_provider(settings(email_backend="sendgrid", sendgrid_api_key="SG.test", **SAFE), REAL_BRAND)
    assert provider.name == "sendgrid"
