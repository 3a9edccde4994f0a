"""The sign-up form for the organisation's own site: the HTML to paste (no script needed), a preview of it, the
script alternative (POST /api/signup), and what must be set for it to work (OUTREACH_SIGNUP_ORIGINS)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from campaigns.audience.signup import CONFIRMATION_EMAILS, OPEN_FOR_SIGNUP, SIGNUP_REQUESTS
from campaigns.db.models import Campaign
from campaigns.rate_limits import Limit
from web.admin.auth import AdminSession, require_admin
from web.admin.render import env, render_admin
from web.public import DEFAULT_TIME_ZONE
from web.runtime import sessions_of, settings_of

router = APIRouter(prefix="/admin")

# A form without a script cannot ask the browser for its zone: these cover the people a US center writes to (the
# person can change it later from any email's preferences link).
EMBED_ZONES: tuple[tuple[str, str], ...] = (
    ("America/New_York", "Eastern time (New York, Miami)"),
    ("America/Chicago", "Central time (Chicago, Houston)"),
    ("America/Denver", "Mountain time (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific time (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
    ("Europe/London", "United Kingdom (London)"),
    ("UTC", "Somewhere else (UTC)"),
)


def snippet(base_url: str, slug: str, title: str) -> str:
    """The HTML to paste into a page of the organisation's site."""
    return env.get_template("_signup_snippet.html").render(
        base_url=base_url,
        slug=slug,
        heading="Learn at your own pace",
        blurb=f"Get \u201c{title}\u201d as a short series of educational emails, one every few days.",
        zones=EMBED_ZONES,
        default_zone=DEFAULT_TIME_ZONE,
    )


SPANS = {600: "ten minutes", 3600: "hour", 86400: "day"}


def _words(limit: Limit) -> str:
    """A limit's rules in words: "1 per hour and 3 per day"."""
    return " and ".join(f"{hits} per {SPANS.get(seconds, f'{seconds} seconds')}" for hits, seconds in limit.rules)


@router.get("/signup-form", include_in_schema=False)
def signup_form(request: Request, campaign: str = "", session: AdminSession = Depends(require_admin)) -> Response:
    settings = settings_of(request)
    with sessions_of(request)() as s:
        open_ones = s.execute(
            select(Campaign.slug, Campaign.title)
            .where(Campaign.status.in_(OPEN_FOR_SIGNUP))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        ).all()
    chosen = next(((slug, title) for slug, title in open_ones if slug == campaign), open_ones[0] if open_ones else None)
    html = snippet(settings.base_url, chosen[0], chosen[1]) if chosen else ""
    return render_admin(
        request,
        "signup_form.html",
        session,
        title="Sign-up form for your site",
        campaigns=open_ones,
        chosen=chosen,
        snippet=html,
        base_url=settings.base_url,
        origins=sorted(settings.signup_origin_set),
        per_address=_words(CONFIRMATION_EMAILS),
        per_client=_words(SIGNUP_REQUESTS),
    )
