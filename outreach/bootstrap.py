"""The one place that builds real objects from settings; entrypoints (CLI, web, workers) call these."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from campaigns.brand import Brand, load_brand
from campaigns.settings import Settings, load_settings
from campaigns.tokens import Links, Tokens

if TYPE_CHECKING:  # SQLAlchemy is imported only by commands that use the database, to keep the CLI quick
    from sqlalchemy.orm import Session, sessionmaker


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def get_brand() -> Brand:
    return load_brand(get_settings().brand_file)


@lru_cache(maxsize=1)
def get_session_factory() -> sessionmaker[Session]:
    """Sessions on OUTREACH_DATABASE_URL, once its schema is checked (see `ensure_schema`)."""
    from campaigns.db.migrate import ensure_schema
    from campaigns.db.session import make_engine, make_session_factory

    settings = get_settings()
    ensure_schema(settings.database_url, say=tell, address_key=settings.address_key)
    return make_session_factory(make_engine(settings.database_url), settings.address_key)


def tell(line: str) -> None:
    """A note for the person at the terminal, on stderr so that it never mixes with a command's output."""
    print(line, file=sys.stderr)


def get_links() -> Links:
    s = get_settings()
    return Links(s.base_url, Tokens(s.secret_key))


def now() -> datetime:
    return datetime.now(UTC)
