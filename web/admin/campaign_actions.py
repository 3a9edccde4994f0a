"""The campaign forms' actions: schedule, pause, resume, archive, edit a step, the sending window, enroll, compile
again, send a test. A thin shell over campaigns.management: each POST calls one domain function, audited under the
signed-in staff member's name (their address).

Saved: a redirect (303) back to the page, scrolled to the form, with a notice beside it (campaign_pages.notice_of).
Refused: the page drawn again at once, with what was typed and the reason beside the field (web.admin.forms). The
browser then shows the action's address, so a GET there (a reload from the address bar) leads back to the page
instead of a 405.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.delivery.schedule import DAY_NAMES, SendingWindow
from campaigns.errors import NotFound, OutreachError, StateError
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, require_admin, require_csrf
from web.admin.campaign_pages import manage_page, step_preview_page
from web.admin.forms import FormState, refused
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin/campaigns")
# The actions posted from the management page, by path: where a GET of that path (a reload) goes instead.
MANAGE_ACTIONS = {
    "schedule": "lifecycle",
    "pause": "lifecycle",
    "resume": "lifecycle",
    "archive": "lifecycle",
    "window": "window",
    "enroll": "audience",
    "reimport": "checks",
}


def _context(request: Request):
    from web.context import get_context

    return get_context(request)


def _back(slug: str, anchor: str, **query: object) -> RedirectResponse:
    return RedirectResponse(f"/admin/campaigns/{slug}/manage?{urlencode(query)}#{anchor}", status_code=303)


def _act(
    request: Request,
    session: AdminSession,
    slug: str,
    form: str,
    action: Callable[[Session], Mapping[str, object]],
    *,
    anchor: str,
    values: Mapping[str, str] | None = None,
    fields: tuple[str, ...] = (),
) -> Response:
    """Run one domain action in a transaction. Saved: back to the page with the notice `action` returns (its
    `done` code and numbers). Refused: the page again, 400 for a wrong field and 409 for a move that cannot be made."""
    try:
        with sessions_of(request).begin() as s:
            query = dict(action(s))
    except NotFound:
        raise
    except OutreachError as err:
        state = refused(form, err, values or {}, fields)
        status = 400 if "" not in state.errors else 409
        return manage_page(request, session, slug, form=state, status_code=status)
    return _back(slug, anchor, **query)


# --- lifecycle -------------------------------------------------------------------------------------------------------


def start_from_form(start: str, tz: str) -> datetime:
    """The start the picker means: a date and time on the staff member's own clock (their browser's zone, sent beside
    it; UTC when the page's script did not run), as an instant."""
    if not start.strip():
        raise StateError("pick the date and time to start", field="start")
    try:
        local = datetime.fromisoformat(start.strip())
    except ValueError:
        raise StateError(f"{start!r} is not a date and time: use the picker", field="start") from None
    try:
        where = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        where = UTC
    return (local if local.tzinfo else local.replace(tzinfo=where)).astimezone(UTC)


@router.post("/{slug}/schedule", include_in_schema=False)
def schedule(
    slug: str,
    request: Request,
    start: str = Form(""),
    tz: str = Form("UTC"),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    from campaigns.management.lifecycle import schedule_campaign

    ctx, now = _context(request), now_of(request)

    def action(s: Session) -> dict:
        at = start_from_form(start, tz)
        schedule_campaign(s, slug, at, now, actor=session.actor, brand=ctx.brand, settings=settings_of(request))
        return {"done": "scheduled"}

    values = {"start": start, "tz": tz}
    return _act(request, session, slug, "schedule", action, anchor="lifecycle", values=values, fields=("start",))


def _lifecycle_route(move: str, done: str) -> None:
    def route(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
        from campaigns.management import lifecycle

        def action(s: Session) -> dict:
            getattr(lifecycle, f"{move}_campaign")(s, slug, now_of(request), actor=session.actor)
            return {"done": done}

        return _act(request, session, slug, "lifecycle", action, anchor="lifecycle")

    router.post(f"/{{slug}}/{move}", include_in_schema=False, name=f"campaign_{move}")(route)


for _move, _done in (("pause", "paused"), ("resume", "resumed"), ("archive", "archived")):
    _lifecycle_route(_move, _done)


# --- steps, window, audience ---------------------------------------------------------------------------------------


@router.post("/{slug}/steps/{number}", include_in_schema=False)
def edit_step(
    slug: str,
    number: int,
    request: Request,
    subject: str = Form(""),
    preheader: str = Form(""),
    delay_days: str = Form(""),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    """One form per step sends all three fields; only what differs from the stored step makes the new version."""
    from campaigns.management.editing import edit_step as edit
    from campaigns.management.records import current_steps, get_campaign

    ctx, now = _context(request), now_of(request)

    def action(s: Session) -> dict:
        rows = current_steps(s, get_campaign(s, slug))
        if not 1 <= number <= len(rows):
            raise NotFound(f"campaign {slug!r} has no step {number}")
        row = rows[number - 1]
        delay = None
        if delay_days.strip():
            delay = whole_number(delay_days)
            if delay is None:
                raise StateError("the delay is a whole number of days", field="delay_days")
        version = edit(
            s,
            slug,
            number,
            ctx.brand,
            now,
            actor=session.actor,
            subject=subject if " ".join(subject.split()) != row.subject else None,
            preheader=preheader if " ".join(preheader.split()) != row.preheader else None,
            delay_days=delay if delay is not None and delay != row.delay_days else None,
        )
        return {"done": "edited", "step": number, "v": version.number}

    values = {"subject": subject, "preheader": preheader, "delay_days": delay_days}
    return _act(
        request,
        session,
        slug,
        f"step-{number}",
        action,
        anchor=f"step-{number}",
        values=values,
        fields=("subject", "preheader", "delay_days"),
    )


@router.post("/{slug}/window", include_in_schema=False)
async def edit_window(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    from campaigns.management.editing import edit_window as edit

    form = await request.form()
    picked = [d for d in DAY_NAMES if form.get(f"day_{d}")]
    values = {name: str(form.get(name, "")).strip() for name in ("start_hour", "end_hour", "daily_cap")}
    values.update({f"day_{d}": "1" for d in picked})
    now = now_of(request)

    def action(s: Session) -> dict:
        if not picked:
            raise StateError("pick at least one day of the week", field="days")
        start, end = whole_number(values["start_hour"]), whole_number(values["end_hour"])
        if start is None or end is None:
            raise StateError("the hours are whole numbers from 0 to 24", field="hours")
        cap_text = values["daily_cap"]
        cap = whole_number(cap_text)
        if cap_text and cap is None:
            raise StateError("the daily cap is a whole number (leave it empty for none)", field="daily_cap")
        window = SendingWindow.parse(",".join(picked), f"{start}-{end}")
        version = edit(s, slug, now, actor=session.actor, window=window, daily_cap=cap)
        return {"done": "window", "v": version.number}

    fields = ("days", "hours", "daily_cap")
    return _act(request, session, slug, "window", action, anchor="window", values=values, fields=fields)


@router.post("/{slug}/enroll", include_in_schema=False)
def enroll(
    slug: str,
    request: Request,
    who: str = Form("all"),
    tag: str = Form(""),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    from campaigns.management.enrollment import enroll_subscribers

    def action(s: Session) -> dict:
        if who == "tag" and not tag.strip():
            raise StateError("type the tag whose subscribers to enroll", field="tag")
        report = enroll_subscribers(s, slug, now_of(request), actor=session.actor, tag=tag if who == "tag" else None)
        return {"done": "enrolled", "n": report.enrolled, "already": report.already}

    form = "enroll-tag" if who == "tag" else "enroll-all"
    return _act(request, session, slug, form, action, anchor="audience", values={"tag": tag}, fields=("tag",))


@router.post("/{slug}/reimport", include_in_schema=False)
def reimport(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """Compile the stored article again with today's brand and templates (a revised file: use the CLI)."""
    from campaigns.management.editing import reimport_article

    ctx = _context(request)

    def action(s: Session) -> dict:
        version = reimport_article(s, slug, None, ctx.brand, now_of(request), actor=session.actor)
        return {"done": "reimported", "v": version.number}

    return _act(request, session, slug, "reimport", action, anchor="checks")


# --- test sends ----------------------------------------------------------------------------------------------------


@router.post("/{slug}/steps/{number}/test", include_in_schema=False)
def send_test(
    slug: str, number: int, request: Request, addresses: str = Form(""), session: AdminSession = Depends(require_csrf)
) -> Response:
    from campaigns.management.previews import send_test as send

    ctx = _context(request)
    to = [a for a in addresses.replace(",", "\n").replace(";", "\n").split() if a]
    values = {"addresses": addresses}
    try:
        with sessions_of(request).begin() as s:
            results = send(
                s, slug, number, to, ctx.provider, ctx.brand, settings_of(request), now_of(request), actor=session.actor
            )
    except NotFound:
        raise
    except OutreachError as err:
        state = refused("test-send", err, values, ("addresses",))
        return step_preview_page(request, session, slug, number, None, form=state, status_code=400)
    failed = [r for r in results if r.status != "accepted"]
    if failed:
        problem = failed[0].error or failed[0].status
        message = f"{len(failed)} of {len(results)} test emails were not accepted by the email service: {problem}."
        state = FormState("test-send", values, {"": message})
        return step_preview_page(request, session, slug, number, None, form=state, status_code=502)
    query = urlencode({"done": "tested", "n": len(results)})
    return RedirectResponse(f"/admin/campaigns/{slug}/steps/{number}?{query}#test-send", status_code=303)


# --- a GET where only a form posts -----------------------------------------------------------------------------------


@router.get("/{slug}/steps/{number}/test", include_in_schema=False)
def test_address(slug: str, number: int, session: AdminSession = Depends(require_admin)) -> Response:
    return RedirectResponse(f"/admin/campaigns/{slug}/steps/{number}#test-send", status_code=303)


@router.get("/{slug}/{action}", include_in_schema=False)
def action_address(slug: str, action: str, session: AdminSession = Depends(require_admin)) -> Response:
    """The address a refused form left in the browser: reloading it from the address bar shows the page again."""
    if action not in MANAGE_ACTIONS:
        raise HTTPException(status_code=404)
    return RedirectResponse(f"/admin/campaigns/{slug}/manage#{MANAGE_ACTIONS[action]}", status_code=303)
