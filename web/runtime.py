"""What a request needs from the running app: settings, database sessions, the clock.

The app factory may put `settings`, `session_factory` and `clock` on `app.state` (tests do, with their own database
and a fixed time); anything missing comes from outreach.bootstrap, built once from the environment.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from campaigns.settings import Settings


def settings_of(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    if found is None:
        from outreach.bootstrap import get_settings

        found = get_settings()
    return found


def sessions_of(request: Request) -> sessionmaker[Session]:
    found = getattr(request.app.state, "session_factory", None)
    if found is None:
        from outreach.bootstrap import get_session_factory

        found = get_session_factory()
    return found


def now_of(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    if clock is None:
        from outreach.bootstrap import now

        return now()
    return clock()
