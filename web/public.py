"""The subscriber's pages: sign-up (form and JSON), confirmation, unsubscribe (page and RFC 8058 one-click),
preferences and data rights. Thin: each route checks the token or form, calls the domain, renders a page.

Pages never show an email address (a masked one at most) and URLs carry only signed tokens.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from pydantic import BaseModel

from campaigns.audience import preferences, privacy, reading, signup, unsubscribe
from campaigns.authoring.names import NEUTRAL, greeting_name
from campaigns.db.models import Campaign, Subscriber
from campaigns.delivery.providers.base import Batch
from campaigns.delivery.schedule import zone
from campaigns.errors import OutreachError
from campaigns.management.forecast import FirstEmail, first_email
from campaigns.redaction import mask_email
from campaigns.text_input import whole_number
from web.context import AppContext, get_context
from web.guards import client_address
from web.zones import zone_groups, zone_label

log = logging.getLogger(__name__)
# Every form here is a few short fields: FastAPI stops reading a body at this size and answers 413.
MAX_BODY_BYTES = 8 * 1024
router = APIRouter(max_body_size=MAX_BODY_BYTES)

DEFAULT_TIME_ZONE = "America/New_York"  # shown before the browser's guess (and when scripts are off)
SOON = timedelta(minutes=15)  # a first email due within this is "on its way"
NEUTRAL_ANSWER = (
    "If this address can receive our emails, a confirmation link is on its way. "
    "Please check your inbox (and the spam folder) and click the link to start."
)
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def render(
    request: Request,
    ctx: AppContext,
    template: str,
    context: dict,
    *,
    status: int = 200,
    form: bool = False,
    form_path: str | None = None,
) -> Response:
    """A page; with `form`, its forms get a CSRF token for the path they post to (`form_path`, this page's own by
    default) and the browser the matching cookie."""
    nonce = ctx.csrf.nonce(request) if form else None
    if nonce:
        context["csrf_token"] = ctx.csrf.token(nonce, form_path or request.url.path)
    response = ctx.templates.TemplateResponse(request, template, context, status_code=status)
    if nonce:
        ctx.csrf.set_cookie(response, nonce)
    return response


@router.get("/brand.css", include_in_schema=False)
def brand_css(ctx: AppContext = Depends(get_context)) -> Response:
    """The brand's accent colour as a CSS variable: a stylesheet, because the CSP allows no inline style."""
    accent = ctx.brand.accent_color if _HEX_COLOR.fullmatch(ctx.brand.accent_color) else "#1f6f5c"
    return Response(f":root {{ --accent: {accent}; }}\n", media_type="text/css")


# Sign-up -----------------------------------------------------------------------------------------------------------


def signup_page(
    request: Request, ctx: AppContext, campaign, values: dict, errors: dict | None = None, status: int = 200
) -> Response:
    return render(
        request,
        ctx,
        "signup.html",
        {
            "title": "Sign up",
            "campaign": campaign,
            "values": values,
            "errors": errors or {},
            "zone_groups": zone_groups(ctx.clock().date()),
            "zone_label": zone_label(values.get("timezone") or "", ctx.clock().date()),
        },
        status=status,
        form=True,
        form_path="/signup",  # drawn again after the form on the organisation's site too: it posts here next
    )


@router.get("/signup")
def signup_form(request: Request, campaign: str | None = None, ctx: AppContext = Depends(get_context)) -> Response:
    with ctx.transaction() as s:
        chosen = signup.open_campaign(s, campaign)
    return signup_page(request, ctx, chosen, {"email": "", "name": "", "timezone": DEFAULT_TIME_ZONE, "guess": True})


@router.post("/signup")
def signup_submit(
    request: Request,
    background: BackgroundTasks,
    email: str = Form(""),
    name: str = Form(""),
    timezone: str = Form(""),
    campaign: str = Form(""),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(get_context),
) -> Response:
    ctx.csrf.verify(request, csrf_token, request.url.path)
    try:
        record_signup(ctx, background, email, name, timezone, campaign or None, client_address(request), "signup form")
    except signup.SignupError as err:
        with ctx.transaction() as s:
            chosen = signup.open_campaign(s, campaign or None)
        values = {"email": email, "name": name, "timezone": timezone, "guess": False}
        return signup_page(request, ctx, chosen, values, {err.field: str(err)}, status=400)
    return render(request, ctx, "signup_sent.html", {"title": "Check your inbox", "message": NEUTRAL_ANSWER})


class SignupRequest(BaseModel):
    email: str
    name: str | None = None
    timezone: str = "UTC"
    campaign: str | None = None


@router.post("/api/signup", status_code=202)
def signup_api(
    request: Request, body: SignupRequest, background: BackgroundTasks, ctx: AppContext = Depends(get_context)
) -> JSONResponse:
    """For the organisation's own site: the same double opt-in, as JSON. Answers 202 whether or not the address
    is known; 400 names a bad field; 429 when the caller's network sent too many."""
    try:
        record_signup(
            ctx, background, body.email, body.name, body.timezone, body.campaign, client_address(request), "api"
        )
    except signup.SignupError as err:
        return JSONResponse({"error": str(err), "field": err.field}, status_code=400)
    return JSONResponse({"status": "pending", "message": NEUTRAL_ANSWER}, status_code=202)


def record_signup(
    ctx: AppContext,
    background: BackgroundTasks,
    email: str,
    name: str | None,
    tz: str,
    campaign_slug: str | None,
    ip: str | None,
    source: signup.SignupSource,
) -> None:
    """Record the request; queue the confirmation email (if one is due) to go after the answer. Sending after
    answering keeps the answer's timing the same for known and unknown addresses. RateLimited (429) when the
    client's network sent too many requests."""
    with ctx.transaction() as s:
        result = signup.request_signup(s, email, name, tz, campaign_slug, ip, ctx.clock(), source=source)
        batch = None
        if result.send_to and result.request is not None:
            campaign = s.get_one(Campaign, result.campaign_id)
            batch = signup.confirmation_batch(result, campaign, ctx.brand, ctx.links, tz)
    if batch is not None and result.subscriber_id is not None:
        background.add_task(_send_confirmation, ctx, batch, result.subscriber_id)


def _send_confirmation(ctx: AppContext, batch: Batch, subscriber_id: int) -> None:
    try:
        results = ctx.provider.send_batch(batch)
    except OutreachError as err:
        log.warning("confirmation email for subscriber %d not sent: %s", subscriber_id, err)
        return
    for r in results:
        if r.status != "accepted":
            log.warning("confirmation email for subscriber %d: %s %s", subscriber_id, r.status, r.error or "")


@router.get("/c/{token}")
def confirm_page(request: Request, token: str, ctx: AppContext = Depends(get_context)) -> Response:
    """The double opt-in link opens a page with one button; nothing changes until it is pressed (mail scanners and
    link previews open links too). A used link, or one from before a later unsubscribe, says so (409)."""
    with ctx.transaction() as s:
        pending = signup.pending_confirmation(s, ctx.tokens.read_confirm(token))
        title = pending.campaign_title
    return render(request, ctx, "confirm.html", {"title": "Confirm your subscription", "topic": title}, form=True)


@router.post("/c/{token}")
def confirm(
    request: Request, token: str, csrf_token: str = Form(""), ctx: AppContext = Depends(get_context)
) -> Response:
    """The page's button: confirms this sign-up request, once; records consent (time, source, IP) and enrolls."""
    data = ctx.tokens.read_confirm(token)
    ctx.csrf.verify(request, csrf_token, request.url.path)
    with ctx.transaction() as s:
        result = signup.confirm_signup(s, data, client_address(request), ctx.clock())
        name, subscriber_id = greeting_name(result.subscriber.name, result.subscriber.first_name), result.subscriber.id
        first = first_email(s, subscriber_id, result.campaign_id, ctx.clock()) if result.enrolled else None
    when = first_email_line(first, ctx.clock())
    return render(
        request,
        ctx,
        "confirmed.html",
        {
            "title": "You are subscribed",
            "first_name": name,
            "already": result.already,
            "first_email": when,
            "preferences_path": path_of(ctx.links.preferences_url(subscriber_id), ctx),
        },
    )


def first_email_line(first: FirstEmail | None, now: datetime) -> str | None:
    """When the first email comes, said in the subscriber's own time: "today at about 2:00 PM", "on Wednesday, ..."."""
    if first is None:
        return None
    if first.at is None:
        if first.waiting == "resume":
            return "The series is paused for the moment: your first email comes when it starts again."
        return "The series has not started yet: your first email comes when it starts. We send nothing before then."
    if first.at - now <= SOON:
        return "Your first email is on its way: it should arrive within a few minutes."
    return f"Your first email comes {local_when(first.at, first.timezone, now)}."


def local_when(at: datetime, tz: str, now: datetime) -> str:
    """When something happens, in the reader's own time: "today at about 2:00 PM, your time", "on Wednesday,
    December 16, at about 9:00 AM, your time"."""
    where = zone(tz)
    local, today = at.astimezone(where), now.astimezone(where).date()
    clock = local.strftime("%-I:%M %p")
    if local.date() == today:
        return f"today at about {clock}, your time"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at about {clock}, your time"
    return f"on {local.strftime('%A, %B %-d')}, at about {clock}, your time"


def path_of(url: str, ctx: AppContext) -> str:
    """A link of ours as a path on this site (pages link to each other without the host)."""
    return url.removeprefix(ctx.links.base_url)


# Unsubscribe ---------------------------------------------------------------------------------------------------------


def _unsubscribe_page(
    request: Request,
    ctx: AppContext,
    subscriber: Subscriber,
    *,
    can_resubscribe: bool,
    just_left: bool = False,
    just_back: bool = False,
) -> Response:
    return render(
        request,
        ctx,
        "unsubscribe.html",
        {
            "title": "Unsubscribe",
            "first_name": greeting_name(subscriber.name, subscriber.first_name),
            "subscribed": subscriber.status in ("active", "pending"),
            "can_resubscribe": can_resubscribe,
            "just_left": just_left,
            "just_back": just_back,
            "preferences_path": path_of(ctx.links.preferences_url(subscriber.id), ctx),
        },
        form=True,
    )


def sample_page(request: Request, ctx: AppContext, page: str) -> Response:
    """What a link in a preview or test email opens: it names no subscriber, so it says so instead of failing."""
    return render(
        request,
        ctx,
        "message.html",
        {
            "title": "This was a test email",
            "message": f"This link is from a test or preview email, so it belongs to nobody. In a real email it opens "
            f"the reader's own {page} page. Nothing has been changed.",
        },
    )


@router.get("/u/{token}")
def unsubscribe_page(request: Request, token: str, ctx: AppContext = Depends(get_context)) -> Response:
    """The page an email's unsubscribe link opens: one button. A GET never unsubscribes (mail scanners follow
    links)."""
    data = ctx.tokens.read("unsubscribe", token)
    if data.is_sample:
        return sample_page(request, ctx, "unsubscribe")
    with ctx.transaction() as s:
        subscriber = unsubscribe.load_subscriber(s, data.subscriber_id)
        can = unsubscribe.can_resubscribe(s, subscriber)
    return _unsubscribe_page(request, ctx, subscriber, can_resubscribe=can)


@router.post("/u/{token}")
def unsubscribe_post(
    request: Request,
    token: str,
    one_click: str = Form("", alias="List-Unsubscribe"),
    action: str = Form(""),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """RFC 8058 one-click (body `List-Unsubscribe=One-Click`): unsubscribes at once, answers 200 with a tiny body,
    no redirect, no cookie, no CSRF (mailbox providers send no cookie; the signed token authorises it).
    Otherwise the page's buttons: unsubscribe or resubscribe, each with a CSRF token."""
    data = ctx.tokens.read("unsubscribe", token)  # a bad token changes nothing: 400 before anything else
    if data.is_sample:  # a test email's link: nobody to unsubscribe
        if one_click == "One-Click":
            return PlainTextResponse("This was a test email: nobody was unsubscribed.\n")
        return sample_page(request, ctx, "unsubscribe")
    if one_click == "One-Click":
        with ctx.transaction() as s:
            unsubscribe.unsubscribe(s, data.subscriber_id, "one-click", ctx.clock(), data.campaign_id)
        return PlainTextResponse("Unsubscribed.\n")
    ctx.csrf.verify(request, csrf_token, request.url.path)
    with ctx.transaction() as s:
        if action == "unsubscribe":
            subscriber = unsubscribe.unsubscribe(s, data.subscriber_id, "page", ctx.clock(), data.campaign_id)
        elif action == "resubscribe":
            subscriber = unsubscribe.resubscribe(s, data.subscriber_id, ctx.clock())
        else:
            raise OutreachError("unknown action; please reload the page and use its button")
        can = unsubscribe.can_resubscribe(s, subscriber)
    return _unsubscribe_page(
        request,
        ctx,
        subscriber,
        can_resubscribe=can,
        just_left=action == "unsubscribe",
        just_back=action == "resubscribe",
    )


# Preferences and data rights -------------------------------------------------------------------------------------

NOTICES = {
    "paused": "Your emails are paused.",
    "resumed": "Your emails will start again.",
    "saved": "Your details are saved.",
    "left": "You are unsubscribed. You will not get any more emails from us.",
    "back": "Welcome back: your emails will start again where they stopped.",
    "pace": "Your pace is changed.",
}
# The preference page's pace buttons: the way back from what an email's links set (campaigns.audience.reading).
SERIES_ACTIONS = {
    "series-usual": "usual",
    "series-weekly": "weekly",
    "series-resume": "resume",
    "series-pause": "pause",
}


def _first(subscriber: Subscriber) -> str:
    """The first name the preference form shows when none was given: the one the emails greet by, if any."""
    name = greeting_name(subscriber.name)
    return "" if name == NEUTRAL else name


def _preferences_page(
    request: Request,
    ctx: AppContext,
    subscriber: Subscriber,
    *,
    notice: str | None = None,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
    can_resubscribe: bool = False,
) -> Response:
    now = ctx.clock()
    with ctx.transaction() as s:
        places = [p for p in reading.series_places(s, subscriber.id) if p.is_open]
    series = [
        {
            "place": p,
            "held": p.held_until is not None and p.held_until > now,
            "held_until": local_when(p.held_until, subscriber.timezone, now) if p.held_until else None,
            "next_when": local_when(p.next_due_at, subscriber.timezone, now) if p.next_due_at else None,
        }
        for p in places
    ]
    paused = preferences.is_paused(subscriber, now)
    paused_until = (
        subscriber.paused_until.astimezone(zone(subscriber.timezone)).strftime("%A %-d %B %Y")
        if paused and subscriber.paused_until
        else None
    )
    return render(
        request,
        ctx,
        "preferences.html",
        {
            "title": "Your email preferences",
            "first_name": greeting_name(subscriber.name, subscriber.first_name),
            "masked_email": mask_email(subscriber.email),
            "subscribed": subscriber.status in ("active", "pending"),
            "can_resubscribe": can_resubscribe,
            "paused_until": paused_until,
            "pause_weeks": preferences.PAUSE_WEEKS,
            "series": series,
            "values": values or {"name": subscriber.first_name or _first(subscriber), "timezone": subscriber.timezone},
            "zone_groups": zone_groups(now.date()),
            "zone_label": zone_label((values or {}).get("timezone") or subscriber.timezone, now.date()),
            "notice": notice,
            "errors": errors or {},
        },
        status=status,
        form=True,
    )


@router.get("/p/{token}")
def preferences_page(
    request: Request, token: str, done: str | None = None, ctx: AppContext = Depends(get_context)
) -> Response:
    data = ctx.tokens.read("preferences", token)
    if data.is_sample:
        return sample_page(request, ctx, "email preferences")
    with ctx.transaction() as s:
        subscriber = unsubscribe.load_subscriber(s, data.subscriber_id)
        can = unsubscribe.can_resubscribe(s, subscriber)
    if subscriber.status == "erased":
        return render(
            request,
            ctx,
            "message.html",
            {"title": "Nothing stored", "message": "Nothing is stored about you any more."},
        )
    return _preferences_page(request, ctx, subscriber, notice=NOTICES.get(done or ""), can_resubscribe=can)


@router.post("/p/{token}")
def preferences_post(
    request: Request,
    token: str,
    action: str = Form(""),
    weeks: str = Form(""),
    name: str = Form(""),
    timezone: str = Form(""),
    campaign: str = Form(""),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """Every form of the preference page posts here with its `action`; success redirects back to the page
    (303), so reloading never repeats an action."""
    data = ctx.tokens.read("preferences", token)
    if data.is_sample:
        return sample_page(request, ctx, "email preferences")
    ctx.csrf.verify(request, csrf_token, request.url.path)
    sid, now = data.subscriber_id, ctx.clock()
    if action == "export":
        with ctx.transaction() as s:
            exported = privacy.export_subscriber(s, sid)
        return JSONResponse(exported, headers={"Content-Disposition": 'attachment; filename="my-data.json"'})
    if action == "erase":  # the confirm step: nothing is erased until the second button
        with ctx.transaction() as s:
            subscriber = unsubscribe.load_subscriber(s, sid)
        return render(
            request,
            ctx,
            "erase_confirm.html",
            {"title": "Erase your data", "first_name": greeting_name(subscriber.name, subscriber.first_name)},
            form=True,
        )
    if action == "erase_confirm":
        with ctx.transaction() as s:
            privacy.erase_subscriber(s, sid, now)
        return render(
            request,
            ctx,
            "message.html",
            {
                "title": "Your data is erased",
                "message": "We have erased your name, address and history. We keep only a one-way fingerprint of "
                "your address so that we never email it again.",
            },
        )
    if action in SERIES_ACTIONS:
        # The pace of one series (a campaign the subscriber is on: reading.change_pace finds their enrollment).
        with ctx.transaction() as s:
            reading.change_pace(s, sid, whole_number(campaign) or 0, 0, SERIES_ACTIONS[action], now)  # type: ignore[arg-type]
        return RedirectResponse(f"{request.url.path}?done=pace", status_code=303)
    try:
        with ctx.transaction() as s:
            done = _apply_preference(s, sid, action, weeks, name, timezone, now)
    except preferences.PreferenceError as err:
        with ctx.transaction() as s:
            subscriber = unsubscribe.load_subscriber(s, sid)
            can = unsubscribe.can_resubscribe(s, subscriber)
        return _preferences_page(
            request,
            ctx,
            subscriber,
            errors={err.field: str(err)},
            status=400,
            values={"name": name, "timezone": timezone},
            can_resubscribe=can,
        )
    return RedirectResponse(f"{request.url.path}?done={done}", status_code=303)


def _apply_preference(s, sid: int, action: str, weeks: str, name: str, tz: str, now: datetime) -> str:
    if action == "pause":
        preferences.pause(s, sid, whole_number(weeks, most=52) or 0, now)
        return "paused"
    if action == "resume":
        preferences.resume(s, sid, now)
        return "resumed"
    if action == "profile":
        preferences.update_profile(s, sid, name, tz)
        return "saved"
    if action == "unsubscribe":
        unsubscribe.unsubscribe(s, sid, "preferences", now)
        return "left"
    if action == "resubscribe":
        unsubscribe.resubscribe(s, sid, now)
        return "back"
    raise OutreachError("unknown action; please reload the page and use its buttons")
