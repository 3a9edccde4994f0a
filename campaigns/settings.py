"""Settings: one typed object read once at start-up from the environment (or a `.env` file), then passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from campaigns.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR = PROJECT_ROOT / "var"
SENDGRID_PUBLIC_HOST = "https://api.sendgrid.com"
# Good enough for the demo and tests; links signed with it are forgeable, so real sending refuses it.
DEV_SECRET_KEY = "dev-only-not-secret-change-me"


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
    base_url: str = Field("http://localhost:8000", alias="OUTREACH_BASE_URL")
    admin_password_hash: str | None = Field(None, alias="OUTREACH_ADMIN_PASSWORD_HASH", repr=False)
    webhook_max_age_seconds: int = Field(600, alias="OUTREACH_WEBHOOK_MAX_AGE")
    soft_bounce_limit: int = Field(3, alias="OUTREACH_SOFT_BOUNCE_LIMIT")
    # Apply webhook events' reactions in the web request instead of a Celery task (deployments without a worker).
    events_inline: bool = Field(False, alias="OUTREACH_EVENTS_INLINE")
    batch_size: int = Field(1000, alias="OUTREACH_BATCH_SIZE", ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, v: str) -> str:
        if v.startswith("postgresql://"):  # use psycopg 3, the driver we install
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        if not v.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return v


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; a malformed one becomes a single ConfigError line naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        name = _env_name(str(first["loc"][0])) if first["loc"] else "settings"
        raise ConfigError(f"setting {name}: {first['msg']}") from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    return info.alias if info and info.alias else field
