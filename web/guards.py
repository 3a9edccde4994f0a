"""What every request passes before a route sees it, and what every failure looks like (pure ASGI middleware).

    ClientAddress      the client's address: the connection's own, or X-Forwarded-For's when the connection comes
                       from a proxy named in OUTREACH_TRUSTED_PROXIES (uvicorn's own parser, with our setting)
    RequestChecks      a path or query holding a control character is refused (400) before any route runs; HEAD is
                       answered as GET without the body (links are checked with HEAD by mail scanners and monitors)
    ServerErrorPage    an unexpected exception becomes the 500 page (inside SecurityHeaders, so it carries the same
                       headers as every other page), logged with its traceback

Request bodies are capped by FastAPI's own streaming limit (`max_body_size` on the app, the public router and the
webhook route): it counts bytes as they arrive and answers 413 at the cap, so a 300 MB body never sits in memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from campaigns.settings import Settings, split_list

log = logging.getLogger(__name__)

# C0 controls and DEL, as they arrive percent-decoded: no path or query of ours holds one.
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")


class ClientAddress(ProxyHeadersMiddleware):
    """X-Forwarded-For believed only from the proxies in OUTREACH_TRUSTED_PROXIES (its rightmost untrusted address)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app, trusted_hosts=split_list(settings.trusted_proxies))  # type: ignore[arg-type]


def client_address(request: Request) -> str | None:
    """The client's address as ClientAddress settled it (None when the server does not know it)."""
    return request.client.host if request.client else None


class RequestChecks:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if _CONTROL_BYTES.search(unquote_to_bytes(raw_path)) or _CONTROL_BYTES.search(
            unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
        ):
            await PlainTextResponse("This address holds characters that no address here has.", 400)(
                scope, receive, send
            )
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class ServerErrorPage:
    def __init__(self, app: ASGIApp, page: Callable[[Request], Response]) -> None:
        self.app, self.page = app, page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if started:  # half an answer went out already: all that is left is to close the connection
                raise
            await self.page(Request(scope))(scope, receive, send)
