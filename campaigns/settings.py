"""Settings: one typed object read once at start-up from the environment (or a `.env` file), then passed in."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from campaigns.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR = PROJECT_ROOT / "var"
SENDGRID_PUBLIC_HOST = "https://api.sendgrid.com"
# Good enough for the demo and tests; links signed with it are forgeable, so real sending and any web app that is
# not on localhost refuse it (and any other weak key: see `secret_problem`).
DEV_SECRET_KEY = "dev-only-not-secret-change-me"
# The same for the key of address fingerprints (campaigns.addresses): with it, a stolen database would tell who
# was on the list.
DEV_ADDRESS_KEY = "dev-only-address-key-not-secret"
MIN_SECRET_LENGTH = 32
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
_PLACEHOLDERS = (
    "changeme",
    "changethis",
    "replaceme",
    "secret",
    "password",
    "example",
    "default",
    "placeholder",
    "devonly",
    "insecure",
    "123456",
    "qwerty",
)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Settings(BaseSettings):
    """Every setting the product reads. Names match DESIGN.md; each is an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(f"sqlite:///{VAR / 'outreach.db'}", alias="OUTREACH_DATABASE_URL")
    broker_url: str = Field("redis://localhost:6379/0", alias="CELERY_BROKER_URL")
    email_backend: Literal["outbox", "sendgrid", "smtp"] = Field("outbox", alias="OUTREACH_EMAIL_BACKEND")
    outbox_dir: Path = Field(VAR / "outbox", alias="OUTREACH_OUTBOX_DIR")
    brand_file: Path = Field(PROJECT_ROOT / "content" / "brand.toml", alias="OUTREACH_BRAND_FILE")
    sendgrid_api_key: str | None = Field(None, alias="SENDGRID_API_KEY", repr=False)
    sendgrid_api_host: str = Field(SENDGRID_PUBLIC_HOST, alias="SENDGRID_API_HOST")
    sendgrid_sandbox: bool = Field(False, alias="SENDGRID_SANDBOX_MODE")
    sendgrid_webhook_public_key: str | None = Field(None, alias="SENDGRID_WEBHOOK_PUBLIC_KEY", repr=False)
    smtp_host: str = Field("localhost", alias="OUTREACH_SMTP_HOST")
    smtp_port: int = Field(587, alias="OUTREACH_SMTP_PORT")
    smtp_security: Literal["starttls", "tls", "none"] = Field("starttls", alias="OUTREACH_SMTP_SECURITY")
    smtp_user: str | None = Field(None, alias="OUTREACH_SMTP_USER")
    smtp_password: str | None = Field(None, alias="OUTREACH_SMTP_PASSWORD", repr=False)
    secret_key: str = Field(DEV_SECRET_KEY, alias="OUTREACH_SECRET_KEY", repr=False)
    # Keys the fingerprints of addresses (suppressions, events); never change it once the database holds data.
    address_key: str = Field(DEV_ADDRESS_KEY, alias="OUTREACH_ADDRESS_KEY", repr=False)
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); from anyone else the
    # header is ignored and the connection's own address counts (rate limits, consent records, the admin lockout).
    trusted_proxies: str = Field("127.0.0.1, ::1", alias="OUTREACH_TRUSTED_PROXIES")
    # GET /metrics answers a request with this bearer token, or from these addresses/networks; otherwise 403.
    metrics_token: str | None = Field(None, alias="OUTREACH_METRICS_TOKEN", repr=False)
    metrics_allow: str = Field("", alias="OUTREACH_METRICS_ALLOW")
    # Sites (origins, comma-separated, like https://www.example.org) whose pages may sign people up here: the
    # embedded form posts from them, and their scripts may call POST /api/signup (CORS). Our own pages always may.
    signup_origins: str = Field("", alias="OUTREACH_SIGNUP_ORIGINS")
    base_url: str = Field("http://localhost:8000", alias="OUTREACH_BASE_URL")
    admin_password_hash: str | None = Field(None, alias="OUTREACH_ADMIN_PASSWORD_HASH", repr=False)
    webhook_max_age_seconds: int = Field(600, alias="OUTREACH_WEBHOOK_MAX_AGE")
    soft_bounce_limit: int = Field(3, alias="OUTREACH_SOFT_BOUNCE_LIMIT")
    # Apply webhook events' reactions in the web request instead of a Celery task (deployments without a worker).
    events_inline: bool = Field(False, alias="OUTREACH_EVENTS_INLINE")
    batch_size: int = Field(1000, alias="OUTREACH_BATCH_SIZE", ge=1, le=1000)
    # Importing an article from a URL reaches only public addresses; true lets it fetch from loopback and private
    # networks too (tests, a page served on a laptop). Never on a server: it would let a URL reach internal services.
    fetch_private: bool = Field(False, alias="OUTREACH_FETCH_PRIVATE_ADDRESSES")

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, v: str) -> str:
        for item in split_list(v):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (like 10.0.0.0/8)") from None
        return v

    @field_validator("signup_origins")
    @classmethod
    def _origins(cls, v: str) -> str:
        for item in split_list(v):
            parts = urlsplit(item)
            only_origin = parts.path in ("", "/") and not parts.query
            if parts.scheme not in ("http", "https") or not parts.hostname or not only_origin:
                raise ValueError(f"{item!r} is not a site's origin (like https://www.example.org, no path)")
        return v

    @property
    def signup_origin_set(self) -> frozenset[str]:
        """The allowed origins as browsers send them: scheme://host[:port], lower case, no trailing slash."""
        return frozenset(origin_of(item) for item in split_list(self.signup_origins))

    @property
    def is_local(self) -> bool:
        """True when OUTREACH_BASE_URL is this machine (development): the only place weak keys are allowed."""
        host = (urlsplit(self.base_url).hostname or "").lower()
        return host in LOCAL_HOSTS or host.endswith(".localhost")

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, v: str) -> str:
        if v.startswith("postgresql://"):  # use psycopg 3, the driver we install
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        if not v.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return v


def origin_of(url: str) -> str:
    """The origin of a URL as a browser's Origin header names it: scheme://host[:port] (default ports left out)."""
    parts = urlsplit(url.strip())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


def split_list(value: str) -> list[str]:
    """A comma-separated setting as its items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_problem(value: str, dev_value: str) -> str | None:
    """Why `value` is too weak to protect real people (None when it is fine)."""
    if value == dev_value:
        return "still the built-in development value"
    if any(c.isspace() for c in value):
        return "contains whitespace (a copy-and-paste slip?)"
    if len(value) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < 10:
        return "made of too few different characters"
    letters = "".join(c for c in value.lower() if c.isalnum())
    word = next((w for w in _PLACEHOLDERS if w in letters), None)
    if word:
        return f"contains {word!r}, which reads like a placeholder"
    return None


def check_secrets(settings: Settings, purpose: str) -> None:
    """ConfigError naming the first weak secret, for `purpose` (a web app on a public address, real sending)."""
    for name, value, dev in (
        ("OUTREACH_SECRET_KEY", settings.secret_key, DEV_SECRET_KEY),
        ("OUTREACH_ADDRESS_KEY", settings.address_key, DEV_ADDRESS_KEY),
    ):
        problem = secret_problem(value, dev)
        if problem:
            raise ConfigError(
                f"setting {name}: {problem}; {purpose} needs a long random value (make one with: {MAKE_A_SECRET})"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; a malformed one becomes a single ConfigError line naming it. `overrides` (by field
    name) win over the environment."""
    try:
        # By alias: a field name given while the environment holds the alias would lose to the environment.
        return Settings(**{_env_name(name): value for name, value in overrides.items()})
    except ValidationError as err:
        first = err.errors()[0]
        name = _env_name(str(first["loc"][0])) if first["loc"] else "settings"
        raise ConfigError(f"setting {name}: {first['msg']}") from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return info.alias if info and info.alias else field
