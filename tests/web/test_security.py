"""Security across the public pages: headers, no address in any page or URL, no inline code, error pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.db.models import SignupRequest
from campaigns.settings import load_settings
from tests.web.pages import ADDRESS, SECRET, SQLITE_ONLY, TOKENS, add_subscriber, csrf
from web.app import create_app

pytestmark = SQLITE_ONLY
ANY_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def every_page(client, session_factory, campaign_id) -> dict[str, object]:
    """Each public page (and error page) a subscriber can reach, by name."""
    sid = add_subscriber(session_factory, campaign_id)
    u, p = f"/u/{TOKENS.make('unsubscribe', sid)}", f"/p/{TOKENS.make('preferences', sid)}"
    pages = {"signup": client.get("/signup"), "unsubscribe": client.get(u), "preferences": client.get(p)}
    pages["signup sent"] = client.post(
        "/signup", data={"email": "new@example.com", "timezone": "UTC", "csrf_token": csrf(pages["signup"].text)}
    )
    pages["signup error"] = client.post(
        "/signup", data={"email": ADDRESS, "timezone": "Bad/Zone", "csrf_token": csrf(pages["signup"].text)}
    )
    with session_factory() as s:  # the request the "signup sent" page made: its confirmation link
        request = s.scalar(select(SignupRequest).order_by(SignupRequest.id.desc()))
    confirm = f"/c/{TOKENS.make_confirm(request.id, request.nonce)}"
    pages["confirm"] = client.get(confirm)
    pages["confirmed"] = client.post(confirm, data={"csrf_token": csrf(pages["confirm"].text)})
    pages["erase confirm"] = client.post(p, data={"action": "erase", "csrf_token": csrf(pages["preferences"].text)})
    pages["unsubscribed"] = client.post(
        u, data={"action": "unsubscribe", "csrf_token": csrf(pages["unsubscribe"].text)}
    )
    pages["bad token"] = client.get("/u/forged")
    pages["not found"] = client.get("/nowhere")
    return pages


def test_security_headers_on_every_page(client, session_factory, campaign_id):
    for name, page in every_page(client, session_factory, campaign_id).items():
        h = page.headers
        assert h["x-frame-options"] == "DENY", name
        assert h["x-content-type-options"] == "nosniff", name
        assert h["referrer-policy"] == "no-referrer", name  # tokens in our URLs never leak to other sites
        assert h["cache-control"] == "no-store", name
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, name
        assert "strict-transport-security" not in h, name  # plain http here
    static = client.get("/static/css/site.css")
    assert static.headers["x-content-type-options"] == "nosniff" and "cache-control" not in static.headers


def test_hsts_when_served_over_https(session_factory, tmp_path, web_provider, web_clock):
    settings = load_settings(
        database_url="sqlite://", base_url="https://outreach.example.org", secret_key=SECRET, outbox_dir=tmp_path
    )
    client = TestClient(create_app(settings, session_factory, web_provider, web_clock))
    assert client.get("/brand.css").headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_page_shows_or_links_an_email_address(client, session_factory, campaign_id):
    for name, page in every_page(client, session_factory, campaign_id).items():
        main = page.text.split("<main", 1)[-1].split("</main>", 1)[0]
        if name == "signup error":
            # The only exception: the form is filled again with what the visitor typed, to fix the other field.
            # It comes from their own request, never from the database.
            main = main.replace(f'value="{ADDRESS}"', 'value=""', 1)
        assert not ANY_ADDRESS.search(main), f"{name} shows an address: {ANY_ADDRESS.search(main).group(0)}"
        for link in re.findall(r'(?:href|action|src)="([^"]*)"', page.text):
            assert "@" not in link and "%40" not in link, f"{name} links {link}"
        assert "@" not in (page.headers.get("location") or ""), name


def test_pages_have_no_inline_script_or_style(client, session_factory, campaign_id):
    for name, page in every_page(client, session_factory, campaign_id).items():
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None, name
        assert " style=" not in page.text and "<style" not in page.text, name


def test_error_pages_are_plain_pages_with_the_brand(client, session_factory, campaign_id):
    pages = every_page(client, session_factory, campaign_id)
    assert pages["bad token"].status_code == 400 and "Agape Detox" in pages["bad token"].text
    assert pages["not found"].status_code == 404 and "There is nothing at this address" in pages["not found"].text
    assert "Traceback" not in pages["bad token"].text


def test_brand_colour_comes_from_a_stylesheet(client):
    css = client.get("/brand.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--accent: #1f6f5c" in css.text
