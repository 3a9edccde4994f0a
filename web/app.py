"""The web app factory: one FastAPI app for the public subscriber pages, the admin pages and the provider webhooks.

Routers are listed in ROUTERS as "module:name", where name is an APIRouter or a function without arguments that
returns one. Routes read what they need from `web.context.get_context` (or `web.runtime`, which finds the same
settings, sessions and clock on `app.state`). Security headers, error pages and static files are set up here, once,
for all of them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaigns.delivery.providers.base import EmailProvider
from campaigns.errors import NotFound, OutreachError, RateLimited, StateError, TokenError
from campaigns.settings import Settings, check_secrets
from campaigns.tokens import Links, Tokens
from web.admin.auth import ROLE_REFUSED_TITLE, RoleRefused
from web.context import AppContext
from web.csrf import Csrf, CsrfError
from web.embedded_signup import SignupOrigins
from web.guards import ClientAddress, RequestChecks, ServerErrorPage

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"

# Every router of the app, included in this order: "module:router" or "module:function returning a router".
# Add yours with one line.
ROUTERS: list[str] = [
    "web.public:router",
    "web.reader_pages:router",
    "web.embedded_signup:router",
    "web.webhooks:make_webhook_router",
    "web.admin.sign_in:router",
    "web.admin.series_pages:router",  # before the admin pages: /admin/campaigns/new is no campaign's slug
    "web.admin:router",
    "web.admin.team_pages:router",
    "web.admin.signup_form_page:router",
    "web.admin.campaign_pages:router",
    "web.admin.campaign_actions:router",
    "web.admin.import_pages:router",
    "web.admin.contact_pages:router",
    "web.admin.subscriber_pages:router",
    "web.admin.subscriber_actions:router",
    "web.metrics:router",
]

# The largest request body a route reads, unless its router or itself says otherwise (FastAPI's streaming limit:
# the public forms take 8 KiB, the webhook 8 MiB). Admin forms are a few fields.
MAX_BODY_BYTES = 64 * 1024

# Pages load only our own files: no inline script or style, no framing, forms post only to us.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def create_app(
    settings: Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
    provider: EmailProvider | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The app, wired from `settings` (read from the environment when None); tests pass their own parts."""
    from outreach import bootstrap

    settings = settings or bootstrap.get_settings()
    if not settings.is_local:
        # Anyone who knows a weak key can forge every link (export or erase any subscriber) and read the
        # suppression list: a server others can reach refuses to start with one.
        check_secrets(settings, f"a web app at {settings.base_url}")
    from campaigns.brand import load_brand

    brand = load_brand(settings.brand_file)
    if session_factory is None:
        from campaigns.db.session import make_engine, make_session_factory

        session_factory = make_session_factory(make_engine(settings.database_url), settings.address_key)
    if provider is None:
        from campaigns.delivery.providers.factory import build_provider

        provider = build_provider(settings, brand)  # a bad backend setting stops start-up here, in one line
    tokens = Tokens(settings.secret_key)
    https = settings.base_url.startswith("https://")
    templates = Jinja2Templates(directory=str(TEMPLATES))
    from campaigns.authoring.render import crisis_sentence

    # The pages' footer: the crisis lines of the organisation's own country, and the fallback for everyone else.
    templates.env.globals.update(brand=brand, csrf_field="csrf_token", crisis_line=crisis_sentence(brand.country))

    # No automatic trailing-slash redirect: Starlette builds its Location from the Host header (see _add_error_pages).
    app = FastAPI(
        title="Outreach",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=MAX_BODY_BYTES,
        redirect_slashes=False,
    )
    # The same parts, where web.runtime looks for them.
    app.state.settings, app.state.session_factory = settings, session_factory
    app.state.clock = clock or bootstrap.now
    app.state.context = AppContext(
        settings=settings,
        brand=brand,
        session_factory=session_factory,
        provider=provider,
        clock=clock or bootstrap.now,
        tokens=tokens,
        links=Links(settings.base_url, tokens),
        templates=templates,
        csrf=Csrf(settings.secret_key, secure_cookie=https),
    )
    # Outermost last: the client's address is settled first, then every answer (a 500 too) gets the headers.
    # Innermost: the sign-up addresses' CORS answers carry the security headers like every other answer.
    app.add_middleware(SignupOrigins, settings=settings)
    app.add_middleware(RequestChecks)
    app.add_middleware(ServerErrorPage, page=lambda request: _server_error(request, templates))
    app.add_middleware(SecurityHeaders, hsts=https)
    app.add_middleware(ClientAddress, settings=settings)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    _add_error_pages(app, templates)
    for spec in ROUTERS:
        app.include_router(_router(spec))
    return app


def _router(spec: str) -> APIRouter:
    module, _, name = spec.partition(":")
    found = getattr(importlib.import_module(module), name)
    return found if isinstance(found, APIRouter) else found()


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI, so streaming and static files pass through)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                if not static:
                    # Pages carry signed tokens in their URL and personal choices: keep them out of every cache.
                    extra.append((b"cache-control", b"no-store"))
                headers.extend((k, v) for k, v in extra if k not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Our errors, by kind: the page's status code and title. A user's mistake is a page, never a traceback.
_ERRORS: list[tuple[type[Exception], int, str]] = [
    (TokenError, 400, "This link does not work"),
    (CsrfError, 403, "Please try again"),
    (RateLimited, 429, "Too many attempts"),
    (RoleRefused, 403, ROLE_REFUSED_TITLE),
    (NotFound, 404, "Not found"),
    (StateError, 409, "This cannot be done now"),
    (OutreachError, 400, "Something is not right"),
]


TOKEN_HINT = (
    "Links in our emails are long: check that the whole link was opened, or use the link in our most recent email."
)
# An expired link, by what it was for: how to get a new one.
EXPIRED_HINTS = {
    "confirm": "Confirmation links work for 7 days. Sign up again and we will send you a new one.",
    "unsubscribe": "Every email we send has a working unsubscribe link at the bottom: use the one in our most recent "
    "email, or call us and we will take you off the list.",
    "preferences": "Every email we send has a link to your preferences at the bottom: use the one in our most recent "
    "email.",
    "reader": "The pace and feedback links of an email work for a year: use the ones in our most recent email, or "
    "change the pace on your preferences page (the link at the bottom of every email).",
}


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def wants_json(request: Request) -> bool:
    """JSON errors for API paths (/api/..., /admin/api/..., /webhooks/...) and clients that ask only for JSON; pages
    otherwise."""
    accept, path = request.headers.get("accept", ""), request.url.path
    return (
        "/api/" in path or path.startswith("/webhooks/") or ("application/json" in accept and "text/html" not in accept)
    )


def _server_error(request: Request, templates: Jinja2Templates) -> Response:
    message = "Something went wrong on our side; nothing was changed. Please try again in a few minutes."
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=500)
    return templates.TemplateResponse(
        request, "error.html", {"title": "Something went wrong", "message": message, "hint": None}, status_code=500
    )


def _without_trailing_slash(request: Request) -> str | None:
    """For a GET of `/signup/`: `/signup` (with the query) when that is a page here, else None. A path only, never
    the Host header, so the redirect cannot be pointed at another site."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or len(path) < 2 or not path.endswith("/"):
        return None
    candidate = "/" + path.strip("/")
    scope = {"type": "http", "path": candidate, "method": "GET"}
    if not any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
        return None
    query = request.url.query
    return candidate + (f"?{query}" if query else "")


def _add_error_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    def page(
        request: Request,
        status: int,
        title: str,
        message: str,
        headers: dict | None = None,
        hint: str | None = None,
        *,
        detail: str | None = None,
        signup_again: bool = False,
    ) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        if request.url.path.startswith("/admin"):  # staff see errors in the admin's own design
            from web.admin.render import admin_error_page

            return admin_error_page(request, status, title, detail or message, hint=hint, headers=headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": title,
                "message": message,
                "hint": hint,
                # A refused request changed nothing, and a worried reader wants to know; a missing page is just missing.
                "nothing_changed": status not in (404, 405, 503),
                "signup_again": signup_again,
            },
            status_code=status,
            headers=headers,
        )

    @app.exception_handler(OutreachError)
    async def outreach_error(request: Request, exc: Exception) -> Response:
        status, title = next((s, t) for kind, s, t in _ERRORS if isinstance(exc, kind))
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        message = str(exc)
        hint, signup_again = None, False
        if isinstance(exc, TokenError):
            # An expired link: how to get a new one, which is all a person holding an old link needs.
            hint = EXPIRED_HINTS.get(exc.purpose or "", TOKEN_HINT) if exc.expired else TOKEN_HINT
            signup_again = exc.expired and exc.purpose == "confirm"
        return page(
            request,
            status,
            title,
            message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."),
            headers,
            hint,
            signup_again=signup_again,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and (target := _without_trailing_slash(request)):
            return RedirectResponse(target, status_code=308)
        titles = {404: "Not found", 405: "Not allowed", 413: "Too large"}
        message = {
            404: "There is nothing at this address.",
            405: "This page cannot be used that way.",
            413: "What was sent is larger than this address takes.",
        }.get(exc.status_code, str(exc.detail))
        # Our own routes say what is missing (e.g. "no campaign named 'x'"); Starlette's say only "Not Found".
        ours = isinstance(exc.detail, str) and exc.detail not in (_phrase(exc.status_code), "")
        return page(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Something is not right"),
            message,
            getattr(exc, "headers", None),
            detail=exc.detail if ours else None,
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        from campaigns.db.migrate import missing_schema

        if not missing_schema(exc):
            raise exc  # a real fault: the server error page and the log, as for any other
        log.error("the database has no tables: run `outreach db upgrade` (%s)", exc.orig)
        if request.url.path.startswith("/admin"):
            return page(
                request,
                503,
                "The database is not set up",
                "The database has no tables yet. On the server, run `outreach db upgrade`, then reload this page.",
            )
        return page(
            request,
            503,
            "Not available right now",
            "This page cannot be shown right now. Please try again later.",
            {"Retry-After": "300"},
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return page(request, 400, "Something is not right", "The form was incomplete; please reload it and try again.")
