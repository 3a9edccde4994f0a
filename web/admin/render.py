"""The admin shell: templates, the navigation, security headers, and `render_admin` for every admin page.

To add admin pages (e.g. campaign management): put templates in web/admin/templates/ that
`{% extends "base.html" %}` (blocks: `title`, `content`, `scripts`), add routes to `web.admin.router` (or an
APIRouter of your own, prefix /admin, included by the app) with `session = Depends(require_role("viewer"))` for a
page, "editor" for a form that changes something, "owner" for the team (forms carry
`<input type="hidden" name="csrf" value="{{ csrf }}">`, checked by the same dependency), answer with
`render_admin(request, "yours.html", session, title=..., **ctx)`, and append a NAV entry for a top-level page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from campaigns.authoring.merge_tags import from_slots
from campaigns.management.checks import shown_link
from campaigns.team.accounts import role_at_least
from web.admin.auth import ROLE_REFUSED_TITLE, AdminSession, read_session
from web.admin.forms import NO_FORM, sentence
from web.runtime import now_of

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: (label, path) of the top navigation; other modules may append their own pages.
NAV: list[tuple[str, str]] = [
    ("Overview", "/admin"),
    ("Events", "/admin/events"),
    ("Suppressions", "/admin/suppressions"),
    ("Queue", "/admin/queue"),
    ("Audit", "/admin/audit"),
]

# Only what the pages themselves serve: no inline script, no third-party origin (charts are served from here).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def when(value: datetime | str | None) -> str:
    if not value:
        return "—"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso_utc(value: datetime | str | None) -> str:
    """An instant as ISO 8601 in UTC with a Z, for <time datetime="..."> (the pages' script shows it in the
    staff member's own zone)."""
    if not value:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    pct=pct, when=when, duration=duration, iso_utc=iso_utc, sentence=sentence, shown_link=shown_link, as_tags=from_slots
)


def render_admin(
    request: Request,
    template: str,
    session: AdminSession | None = None,
    *,
    status_code: int = 200,
    headers: dict | None = None,
    **ctx,
) -> HTMLResponse:
    """An admin page from `template` (a file in web/admin/templates/) with the shell's context; a page with forms
    passes `form` (a web.admin.forms.FormState) to show a refused form again as it was sent."""
    ctx.setdefault("form", NO_FORM)
    html = env.get_template(template).render(
        request=request,
        csrf=session.csrf if session else "",
        signed_in=session is not None,
        staff=session,
        can_edit=session is not None and role_at_least(session.role, "editor"),
        nav=NAV,
        path=request.url.path,
        now=now_of(request),
        **ctx,
    )
    return HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})


# What staff read when a request fails, by status, where the plain reason would be developer wording.
_ADMIN_ERRORS = {
    401: ("Please sign in again", "Your session has ended. Sign in, then do it again."),
    403: (
        "Please try again",
        "This form was open too long, or it did not come from this site. Go back, reload the page and send it again.",
    ),
    405: ("Not a page", "This address only takes forms. Use the buttons on the campaign's pages."),
}


def admin_error_page(
    request: Request, status: int, title: str, message: str, *, hint: str | None = None, headers: dict | None = None
) -> HTMLResponse:
    """An error in the admin's design: its navigation (when signed in), the reason, and a way on."""
    if title != ROLE_REFUSED_TITLE:  # a refused role says why; other statuses get the staff wording
        title, message = _ADMIN_ERRORS.get(status, (title, message))
    return render_admin(
        request,
        "error.html",
        read_session(request),
        title=title,
        message=sentence(message),
        hint=hint,
        status=status,
        status_code=status,
        headers=headers,
    )
