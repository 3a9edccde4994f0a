"""Sign-up from the organisation's own site: a form pasted into its pages (plain HTML, no script) that posts to
POST /signup/embedded, and POST /api/signup for a site's own script, across origins (CORS).

Which sites may do it is one setting, OUTREACH_SIGNUP_ORIGINS (origins like https://www.example.org); our own pages
always may. `SignupOrigins` (pure ASGI, in front of both addresses) answers the browser's CORS preflight, adds the
CORS headers to every answer an allowed site's script gets (errors too, so its script can read them), and refuses a
browser request from any other site with 403 before anything is read or recorded. A caller without an Origin header
(a server, curl) is not a browser on another site, and goes on to the same limits as everyone.

The embedded form carries no CSRF token (it is served by another site): what protects it is the origin check, the
double opt-in (nothing is sent but one confirmation email, nobody is mailed before they click), the rate limits per
address and per client network (campaigns.audience.signup), and a hidden field that only robots fill in.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import Response
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaigns.audience import signup
from campaigns.settings import Settings, origin_of
from web.context import AppContext, get_context
from web.guards import client_address
from web.public import DEFAULT_TIME_ZONE, MAX_BODY_BYTES, NEUTRAL_ANSWER, record_signup, render, signup_page

router = APIRouter(max_body_size=MAX_BODY_BYTES)
CROSS_SITE_PATHS = ("/api/signup", "/signup/embedded")
PREFLIGHT_SECONDS = 600
HONEYPOT = "website"  # the embedded form's hidden field: people never see it, form-filling robots fill it in


def allowed_origins(settings: Settings) -> frozenset[str]:
    """The sites that may sign people up here: the setting's, and our own."""
    return settings.signup_origin_set | {origin_of(settings.base_url)}


class SignupOrigins:
    """CORS for the sign-up addresses only (see the module's docstring); every other path passes untouched."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.origins = app, allowed_origins(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in CROSS_SITE_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if origin.lower().rstrip("/") not in self.origins:
            refusal = "This site may not sign people up here: its address is not in OUTREACH_SIGNUP_ORIGINS."
            answer: Response = (
                JSONResponse({"error": refusal}, status_code=403, headers={"Vary": "Origin"})
                if scope["path"].startswith("/api/")
                else PlainTextResponse(refusal + "\n", status_code=403, headers={"Vary": "Origin"})
            )
            await answer(scope, receive, send)
            return
        grant = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":  # the preflight of a script's JSON POST
            preflight = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": str(PREFLIGHT_SECONDS),
                },
            )
            preflight.raw_headers.extend(grant)
            await preflight(scope, receive, send)
            return

        async def granted(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(grant)
            await send(message)

        await self.app(scope, receive, granted)


@router.post("/signup/embedded")
def embedded_signup(
    request: Request,
    background: BackgroundTasks,
    email: str = Form(""),
    name: str = Form(""),
    timezone: str = Form(""),
    campaign: str = Form(""),
    website: str = Form("", alias=HONEYPOT),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """The form on the organisation's site posts here: the answer is our own page (check your inbox), or our sign-up
    page with what was typed and the field to correct (it has its own CSRF token, so it is sent from here next)."""
    back = _back_link(request, ctx.settings)
    if website.strip():  # a robot: answered like anyone, nothing recorded, nothing sent
        return _sent(request, ctx, back)
    tz = timezone or DEFAULT_TIME_ZONE
    try:
        record_signup(ctx, background, email, name, tz, campaign or None, client_address(request), "embedded form")
    except signup.SignupError as err:
        with ctx.transaction() as s:
            chosen = signup.open_campaign(s, campaign or None)
        values = {"email": email, "name": name, "timezone": tz, "guess": False}
        return signup_page(request, ctx, chosen, values, {err.field: str(err)}, status=400)
    return _sent(request, ctx, back)


def _sent(request: Request, ctx: AppContext, back: str | None) -> Response:
    return render(
        request, ctx, "signup_sent.html", {"title": "Check your inbox", "message": NEUTRAL_ANSWER, "back": back}
    )


def _back_link(request: Request, settings: Settings) -> str | None:
    """The site the person came from (its origin, only when it is an allowed site): a way back after signing up."""
    origin = (request.headers.get("origin") or "").lower().rstrip("/")
    return origin if origin in settings.signup_origin_set else None
