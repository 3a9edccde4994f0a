"""Admin pages for managing campaigns: lifecycle buttons, step edits, sending window, audience, forecast, checks,
versions and their diff, step previews (HTML, text, a 375 px phone). The forms on them post to
web/admin/campaign_actions.py, which draws these pages again (with `form`) when the domain refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from campaigns.audience.tags import clean_tag, tag_counts
from campaigns.db.models import CampaignVersion
from campaigns.delivery.schedule import DAY_NAMES
from campaigns.errors import NotFound, OutreachError
from campaigns.team.accounts import role_at_least
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, require_admin
from web.admin.forms import NO_FORM, FormState, refused
from web.admin.render import NAV, render_admin
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin/campaigns")
CSS = Path(__file__).resolve().parent.parent / "static" / "admin-campaigns.css"
if ("Campaigns", "/admin/campaigns") not in NAV:
    NAV.insert(1, ("Campaigns", "/admin/campaigns"))

# Statuses in which the checks before scheduling mean something (later, the emails are out or on their way).
CHECKED_STATUSES = ("draft", "scheduled")
# The email preview frame: no script, no plugin, no form, no navigation out; the email's own inline styles allowed.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "font-src https: data:; frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Notice:
    """What a page says after a form was saved, shown beside that form (the page opens scrolled to it)."""

    form: str  # the id of the form (or section) it belongs beside
    text: str


def notice_of(request: Request) -> Notice | None:
    """The notice a redirect after a POST asks for: a fixed code plus whole numbers, never text from the URL."""
    q = request.query_params
    done = q.get("done", "")

    def number(name: str) -> int | None:
        return whole_number(q.get(name, ""))

    step, version, n, already = number("step"), number("v"), number("n"), number("already")
    as_version = f" as version {version}" if version else " as a new version"
    if done == "edited" and step:
        return Notice(f"step-{step}", f"Step {step} saved{as_version}.")
    if done == "enrolled" and n is not None:
        if n == 0:
            return Notice("audience", f"Nobody new: all {already or 0} were enrolled already.")
        before = f" ({already} were enrolled already)" if already else ""
        return Notice("audience", f"{n} subscriber{'' if n == 1 else 's'} enrolled{before}.")
    if done == "tested" and n:
        return Notice("test-send", f"Test sent to {n} address{'' if n == 1 else 'es'}. Check the inbox.")
    fixed = {
        "scheduled": ("lifecycle", "Scheduled. The first emails go out at the start time."),
        "paused": ("lifecycle", "Paused: nothing more is sent until you resume."),
        "resumed": ("lifecycle", "Resumed."),
        "archived": ("lifecycle", "Archived: nothing more is sent."),
        "window": ("window", f"Sending window saved{as_version}."),
        "reimported": ("checks", f"Compiled again{as_version}."),
    }
    if done in fixed:
        return Notice(*fixed[done])
    return None


def _context(request: Request):
    """The app's brand and provider (built once by create_app)."""
    from web.context import get_context

    return get_context(request)


# --- pages -----------------------------------------------------------------------------------------------------------


@router.get("", include_in_schema=False)
def campaign_list(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    from campaigns.management.overview import campaigns_overview

    with sessions_of(request)() as s:
        rows = campaigns_overview(s)
    return render_admin(request, "campaign_list.html", session, title="Campaigns", campaigns=rows)


@router.get("/_static/manage.css", include_in_schema=False)
def stylesheet() -> Response:
    return FileResponse(
        CSS,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{slug}/manage", include_in_schema=False)
def manage(slug: str, request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return manage_page(request, session, slug, notice=notice_of(request))


def manage_page(
    request: Request,
    session: AdminSession,
    slug: str,
    *,
    notice: Notice | None = None,
    form: FormState = NO_FORM,
    status_code: int = 200,
) -> Response:
    """The campaign's management page; with `form`, the refused form as it was sent, with the reason beside it."""
    from campaigns.management.checks import check_campaign
    from campaigns.management.lifecycle import MOVES
    from campaigns.management.overview import campaign_overview
    from campaigns.management.records import get_campaign

    ctx, now = _context(request), now_of(request)
    with sessions_of(request)() as s:
        o = campaign_overview(s, slug, now, audit_limit=100)
        checked = o["status"] in CHECKED_STATUSES
        problems = (
            check_campaign(s, get_campaign(s, slug), brand=ctx.brand, settings=settings_of(request)) if checked else []
        )
        tags = tag_counts(s)
    # What the page offers: what the campaign's status allows, and nothing at all to a viewer (who changes nothing).
    editor = role_at_least(session.role, "editor")
    can = {move: editor and o["status"] in statuses for move, statuses in MOVES.items()}
    start = (
        datetime.fromisoformat(o["start_at"])
        if o["status"] == "scheduled" and o["start_at"]
        else (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    ).astimezone(UTC)
    return render_admin(
        request,
        "campaign_manage.html",
        session,
        title=f"Manage {o['title']}",
        o=o,
        can=can,
        checked=checked,
        problems=problems,
        blocking=[p for p in problems if p.blocking],
        tags=[t for t in tags if t.active],
        notice=notice,
        form=form,
        day_names=DAY_NAMES,
        # The picker shows this in the staff member's own zone (the page's script converts it; UTC without it).
        default_start=start.strftime("%Y-%m-%dT%H:%M"),
        default_start_utc=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        status_code=status_code,
    )


@router.get("/{slug}/enroll-tag", include_in_schema=False)
def enroll_tag_page(
    slug: str, request: Request, tag: str = "", session: AdminSession = Depends(require_admin)
) -> Response:
    """Before enrolling everyone with a tag: how many that is (a dry run; a GET changes nothing), and the button."""
    from campaigns.management.enrollment import enroll_subscribers
    from campaigns.management.records import get_campaign

    try:
        with sessions_of(request)() as s:
            report = enroll_subscribers(s, slug, now_of(request), actor="", tag=tag, dry_run=True)
            title = get_campaign(s, slug).title
    except NotFound:
        raise
    except OutreachError as err:
        state = refused("enroll-tag", err, {"tag": tag}, ("tag",))
        return manage_page(request, session, slug, form=state, status_code=400)
    return render_admin(
        request,
        "campaign_enroll.html",
        session,
        title=f"Enroll everyone tagged \u201c{clean_tag(tag)}\u201d",
        slug=slug,
        campaign_title=title,
        tag=clean_tag(tag),
        report=report,
    )


@router.get("/{slug}/steps/{number}", include_in_schema=False)
def preview_page(
    slug: str,
    number: int,
    request: Request,
    version: int | None = None,
    session: AdminSession = Depends(require_admin),
) -> Response:
    return step_preview_page(request, session, slug, number, version, notice=notice_of(request))


def step_preview_page(
    request: Request,
    session: AdminSession,
    slug: str,
    number: int,
    version: int | None,
    *,
    notice: Notice | None = None,
    form: FormState = NO_FORM,
    status_code: int = 200,
) -> Response:
    from campaigns.management.checks import SAMPLE_NAME
    from campaigns.management.previews import render_step, stored_step
    from campaigns.management.records import current_steps, get_campaign

    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        row = stored_step(s, slug, number, version)
        rendered = render_step(row, settings_of(request), _context(request).brand.country)
        steps = len(current_steps(s, campaign))
        title, current = campaign.title, campaign.current_version
    shown = version or current
    query = f"?version={shown}"
    return render_admin(
        request,
        "campaign_preview.html",
        session,
        title=f"Step {number}: {row.subject}",
        slug=slug,
        campaign_title=title,
        step=row,
        text=rendered.text,
        number=number,
        steps=steps,
        version=shown,
        current=current,
        frame=f"/admin/campaigns/{slug}/steps/{number}/email{query}",
        html_kb=len(rendered.html.encode()) / 1024,
        sample_name=SAMPLE_NAME,
        notice=notice,
        form=form,
        status_code=status_code,
    )


@router.get("/{slug}/steps/{number}/email", include_in_schema=False)
def email_frame(
    slug: str, number: int, request: Request, version: int | None = None, session: AdminSession = Depends(require_admin)
) -> Response:
    """The step's HTML, filled with the sample subscriber's values, for the preview frames (sandboxed)."""
    from campaigns.management.previews import render_step, stored_step

    with sessions_of(request)() as s:
        rendered = render_step(
            stored_step(s, slug, number, version), settings_of(request), _context(request).brand.country
        )
    return Response(rendered.html, media_type="text/html; charset=utf-8", headers=PREVIEW_HEADERS)


@router.get("/{slug}/diff", include_in_schema=False)
def diff_page(
    slug: str,
    request: Request,
    a: int | None = None,
    b: int | None = None,
    session: AdminSession = Depends(require_admin),
) -> Response:
    from campaigns.management.editing import diff_versions, version_notes
    from campaigns.management.records import get_campaign

    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        b = b or campaign.current_version
        a = a or max(1, b - 1)
        changes = diff_versions(s, slug, a, b)
        notes = version_notes(s, slug, a, b)
        numbers = list(
            s.scalars(
                select(CampaignVersion.number)
                .where(CampaignVersion.campaign_id == campaign.id)
                .order_by(CampaignVersion.number)
            )
        )
        title = campaign.title
    return render_admin(
        request,
        "campaign_diff.html",
        session,
        title=f"Versions {a} and {b}",
        slug=slug,
        campaign_title=title,
        a=a,
        b=b,
        changes=changes,
        notes=notes,
        numbers=numbers,
    )
