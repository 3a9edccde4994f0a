"""What every route needs, built once by `create_app` and kept on `app.state.context`.

Routers (public, admin, webhooks) read it with `Depends(get_context)` and open units of work with `ctx.transaction()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.templating import Jinja2Templates

from campaigns.brand import Brand
from campaigns.delivery.providers.base import EmailProvider
from campaigns.settings import Settings
from campaigns.tokens import Links, Tokens
from web.csrf import Csrf


@dataclass
class AppContext:
    settings: Settings
    brand: Brand
    session_factory: sessionmaker[Session]
    provider: EmailProvider
    clock: Callable[[], datetime]
    tokens: Tokens
    links: Links
    templates: Jinja2Templates
    csrf: Csrf

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.session_factory.begin() as session:
            yield session


def get_context(request: Request) -> AppContext:
    return request.app.state.context
