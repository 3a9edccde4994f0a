"""`outreach serve`: the web app (subscriber pages, admin pages, webhooks) under uvicorn."""

from __future__ import annotations

from urllib.parse import urlsplit

import typer

from campaigns.settings import Settings

# Behind a TLS-terminating proxy (an https OUTREACH_BASE_URL) the app itself listens here.
PROXIED_HOST, PROXIED_PORT = "127.0.0.1", 8000


def listen_address(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """Where to listen: the overrides, else OUTREACH_BASE_URL's host and port when it is plain http, else behind
    a proxy on 127.0.0.1:8000 (uvicorn does not terminate TLS here)."""
    url = urlsplit(settings.base_url)
    if url.scheme == "http":
        default_host, default_port = url.hostname or PROXIED_HOST, url.port or 80
    else:
        default_host, default_port = PROXIED_HOST, PROXIED_PORT
    return host or default_host, port or default_port


def serve(
    host: str | None = typer.Option(None, "--host", help="Interface to listen on (default: from OUTREACH_BASE_URL)"),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default: from OUTREACH_BASE_URL)"),
) -> None:
    """Run the web app: sign-up, confirmation, unsubscribe and preference pages, admin pages and webhooks.

    Which proxies' X-Forwarded-For is believed is the setting OUTREACH_TRUSTED_PROXIES (the app applies it, so it
    holds however the app is served)."""
    import uvicorn

    from campaigns.db.migrate import ensure_schema
    from outreach.bootstrap import get_settings, tell
    from web.app import create_app

    settings = get_settings()
    app = create_app(settings)  # a bad setting (a weak key off localhost) stops here with one line, before anything
    # touches the database or listens
    ensure_schema(settings.database_url, say=tell, address_key=settings.address_key)  # no tables: made (SQLite)
    bind_host, bind_port = listen_address(settings, host, port)
    typer.echo(
        f"serving {settings.base_url} on http://{bind_host}:{bind_port}; the admin is at {settings.base_url}/admin"
    )
    uvicorn.run(
        app,
        host=bind_host,
        port=bind_port,
        proxy_headers=False,  # web.guards.ClientAddress does it, from OUTREACH_TRUSTED_PROXIES
        server_header=False,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
