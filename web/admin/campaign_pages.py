"""Admin pages for managing campaigns: lifecycle buttons, step edits, sending window, audience, forecast, checks,
versions and their diff, step previews (HTML, text, a 375 px phone) and test sends. A thin shell over campaigns/:
each POST calls one domain function with actor "admin" and redirects back (303) with a fixed message code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from campaigns.db.models import CampaignVersion
from campaigns.delivery.schedule import DAY_NAMES, SendingWindow
from campaigns.errors import OutreachError, StateError
from web.admin.auth import AdminSession, require_admin, require_csrf
from web.admin.render import NAV, render_admin
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin/campaigns")
ACTOR = "admin"
CSS = Path(__file__).resolve().parent.parent / "static" / "admin-campaigns.css"
if ("Campaigns", "/admin/campaigns") not in NAV:
    NAV.insert(1, ("Campaigns", "/admin/campaigns"))

# What a redirect after a successful POST says; only these fixed texts are ever shown (no text from the URL).
DONE = {
    "scheduled": "Scheduled.",
    "paused": "Paused: nothing more is sent until you resume.",
    "resumed": "Resumed.",
    "archived": "Archived: nothing more is sent.",
    "edited": "Saved as a new version.",
    "window": "Sending window saved as a new version.",
    "enrolled": "Subscribers enrolled.",
    "reimported": "Compiled again as a new version.",
    "tested": "Test sent.",
}
# The email preview frame: no script, no plugin, no form, no navigation out; the email's own inline styles allowed.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "font-src https: data:; frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _context(request: Request):
    """The app's brand and provider (built once by create_app)."""
    from web.context import get_context

    return get_context(request)


def _back(slug: str, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/admin/campaigns/{slug}/manage?done={done}{anchor}", status_code=303)


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
def manage(slug: str, request: Request, done: str = "", session: AdminSession = Depends(require_admin)) -> Response:
    return _manage_page(request, session, slug, message=DONE.get(done, ""))


def _manage_page(
    request: Request, session: AdminSession, slug: str, *, message: str = "", error: str = "", status_code: int = 200
) -> Response:
    from campaigns.management.checks import check_campaign
    from campaigns.management.lifecycle import MOVES
    from campaigns.management.overview import campaign_overview
    from campaigns.management.records import get_campaign

    ctx, now = _context(request), now_of(request)
    with sessions_of(request)() as s:
        o = campaign_overview(s, slug, now, audit_limit=100)
        problems = check_campaign(s, get_campaign(s, slug), brand=ctx.brand, settings=settings_of(request))
    can = {move: o["status"] in statuses for move, statuses in MOVES.items()}
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
        problems=problems,
        blocking=[p for p in problems if p.blocking],
        message=message,
        error=error,
        day_names=DAY_NAMES,
        default_start=start.strftime("%Y-%m-%dT%H:%M"),
        status_code=status_code,
    )


@router.get("/{slug}/steps/{number}", include_in_schema=False)
def preview_page(
    slug: str,
    number: int,
    request: Request,
    version: int | None = None,
    done: str = "",
    session: AdminSession = Depends(require_admin),
) -> Response:
    return _preview_page(request, session, slug, number, version, message=DONE.get(done, ""))


def _preview_page(
    request: Request,
    session: AdminSession,
    slug: str,
    number: int,
    version: int | None,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    from campaigns.management.checks import SAMPLE_NAME
    from campaigns.management.previews import render_step, stored_step
    from campaigns.management.records import current_steps, get_campaign

    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        row = stored_step(s, slug, number, version)
        rendered = render_step(row, settings_of(request))
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
        message=message,
        error=error,
        status_code=status_code,
    )


@router.get("/{slug}/steps/{number}/email", include_in_schema=False)
def email_frame(
    slug: str, number: int, request: Request, version: int | None = None, session: AdminSession = Depends(require_admin)
) -> Response:
    """The step's HTML, filled with the sample subscriber's values, for the preview frames (sandboxed)."""
    from campaigns.management.previews import render_step, stored_step

    with sessions_of(request)() as s:
        rendered = render_step(stored_step(s, slug, number, version), settings_of(request))
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


# --- actions ---------------------------------------------------------------------------------------------------------


def _act(request: Request, session: AdminSession, slug: str, done: str, action, anchor: str = "") -> Response:
    """Run one domain action in a transaction; a refusal shows the page again with the reason (409)."""
    try:
        with sessions_of(request).begin() as s:
            action(s)
    except OutreachError as err:
        return _manage_page(request, session, slug, error=str(err), status_code=409)
    return _back(slug, done, anchor)


@router.post("/{slug}/schedule", include_in_schema=False)
def schedule(
    slug: str, request: Request, start: str = Form(""), session: AdminSession = Depends(require_csrf)
) -> Response:
    from campaigns.management.lifecycle import schedule_campaign

    ctx, now = _context(request), now_of(request)

    def action(s):
        try:  # the form's datetime-local has no zone: the page says it is UTC
            at = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else now
        except ValueError:
            raise StateError(f"start time {start!r}: use the date and time picker") from None
        schedule_campaign(s, slug, at, now, actor=ACTOR, brand=ctx.brand, settings=settings_of(request))

    return _act(request, session, slug, "scheduled", action)


def _lifecycle_route(move: str, done: str) -> None:
    def route(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
        from campaigns.management import lifecycle

        return _act(
            request,
            session,
            slug,
            done,
            lambda s: getattr(lifecycle, f"{move}_campaign")(s, slug, now_of(request), actor=ACTOR),
        )

    router.post(f"/{{slug}}/{move}", include_in_schema=False, name=f"campaign_{move}")(route)


for _move, _done in (("pause", "paused"), ("resume", "resumed"), ("archive", "archived")):
    _lifecycle_route(_move, _done)


@router.post("/{slug}/steps/{number}", include_in_schema=False)
def edit_step(
    slug: str,
    number: int,
    request: Request,
    subject: str = Form(...),
    preheader: str = Form(""),
    delay_days: int | None = Form(None),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    """One form per step sends all three fields; only what differs from the stored step makes the new version."""
    from campaigns.management.editing import edit_step as edit
    from campaigns.management.records import current_steps, get_campaign

    ctx, now = _context(request), now_of(request)

    def action(s):
        row = current_steps(s, get_campaign(s, slug))[number - 1] if number >= 1 else None
        if row is None:
            raise StateError(f"no step {number}")
        edit(
            s,
            slug,
            number,
            ctx.brand,
            now,
            actor=ACTOR,
            subject=subject if " ".join(subject.split()) != row.subject else None,
            preheader=preheader if " ".join(preheader.split()) != row.preheader else None,
            delay_days=delay_days if delay_days is not None and delay_days != row.delay_days else None,
        )

    return _act(request, session, slug, "edited", action, f"#step-{number}")


@router.post("/{slug}/window", include_in_schema=False)
async def edit_window(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    from campaigns.management.editing import edit_window as edit

    form = await request.form()
    days = ",".join(d for d in DAY_NAMES if form.get(f"day_{d}"))
    now = now_of(request)

    def action(s):
        if not days:
            raise StateError("pick at least one day of the week")
        try:
            start, end = int(str(form.get("start_hour", ""))), int(str(form.get("end_hour", "")))
            cap_text = str(form.get("daily_cap", "")).strip()
            cap = int(cap_text) if cap_text else None
        except ValueError:
            raise StateError("hours and the daily cap must be whole numbers") from None
        edit(s, slug, now, actor=ACTOR, window=SendingWindow.parse(days, f"{start}-{end}"), daily_cap=cap)

    return _act(request, session, slug, "window", action, "#window")


@router.post("/{slug}/enroll", include_in_schema=False)
def enroll(
    slug: str,
    request: Request,
    who: str = Form("all"),
    tag: str = Form(""),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    from campaigns.management.enrollment import enroll_subscribers

    def action(s):
        if who == "tag" and not tag.strip():
            raise StateError("type the tag to enroll")
        enroll_subscribers(s, slug, now_of(request), actor=ACTOR, tag=tag if who == "tag" else None)

    return _act(request, session, slug, "enrolled", action, "#audience")


@router.post("/{slug}/reimport", include_in_schema=False)
def reimport(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """Compile the stored article again with today's brand and templates (a revised file: use the CLI)."""
    from campaigns.management.editing import reimport_article

    ctx = _context(request)
    return _act(
        request,
        session,
        slug,
        "reimported",
        lambda s: reimport_article(s, slug, None, ctx.brand, now_of(request), actor=ACTOR),
    )


@router.post("/{slug}/steps/{number}/test", include_in_schema=False)
def send_test(
    slug: str, number: int, request: Request, addresses: str = Form(""), session: AdminSession = Depends(require_csrf)
) -> Response:
    from campaigns.management.previews import send_test as send

    ctx = _context(request)
    to = [a for a in addresses.replace(",", "\n").replace(";", "\n").split() if a]
    try:
        with sessions_of(request).begin() as s:
            results = send(
                s, slug, number, to, ctx.provider, ctx.brand, settings_of(request), now_of(request), actor=ACTOR
            )
    except OutreachError as err:
        return _preview_page(request, session, slug, number, None, error=str(err), status_code=409)
    failed = [r for r in results if r.status != "accepted"]
    if failed:
        return _preview_page(
            request,
            session,
            slug,
            number,
            None,
            status_code=502,
            error=f"{len(failed)} of {len(results)} test emails were not accepted: "
            f"{failed[0].error or failed[0].status}",
        )
    return RedirectResponse(f"/admin/campaigns/{slug}/steps/{number}?done=tested", status_code=303)
