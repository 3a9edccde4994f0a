"""Articles fetched from a web address, against a real HTTP server on loopback: redirects, size and type limits,
timeouts, error statuses, and the charset a server or a page declares."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaigns.authoring.parsing import load_source, parse_loaded
from campaigns.authoring.parsing.fetch import fetch_article
from campaigns.errors import ArticleError
from tests.browser import served
from tests.servers import refused_port

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Kratom Basics | Cedar Ridge</title></head>
<body><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav><main><article><h1>Kratom Basics</h1>
<p>Kratom is sold in smoke shops and online as powder, capsules and drinks, often with no dose on the label.</p>
<h2>How It Works</h2><p>At low doses it acts as a stimulant, and at higher doses it acts much like an opioid does.</p>
<h2>Getting Help</h2><p>People who take it every day can become dependent and may need support to stop safely.</p>
</article></main><footer><p>© 2024 Cedar Ridge Recovery. All rights reserved.</p></footer></body></html>"""
# Encoded as Windows-1252: é is 0xe9, the curly quotes 0x93 and 0x94 (pages that say Latin-1 are read so).
CAFE = "<html><body><h1>Café Culture</h1><p>Café culture and “quotes” are part of a long evening.</p>"


def _app(base: str):
    from fastapi import FastAPI, Response
    from fastapi.responses import RedirectResponse

    app = FastAPI()

    @app.get("/blog/kratom-basics/")
    def article() -> Response:
        return Response(PAGE, media_type="text/html; charset=utf-8")

    @app.get("/hop/{n}")
    def hop(n: int) -> Response:
        return RedirectResponse(f"/hop/{n - 1}" if n > 1 else "/blog/kratom-basics/", status_code=302)

    @app.get("/latin1")
    def latin1() -> Response:
        body = (CAFE + "<h2>More</h2><p>Another paragraph of plain text.</p></body></html>").encode("cp1252")
        return Response(body, headers={"content-type": "text/html; charset=ISO-8859-1"})

    @app.get("/meta-charset")
    def meta_charset() -> Response:
        head = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
        return Response((head + CAFE[6:] + "</body></html>").encode("cp1252"), headers={"content-type": "text/html"})

    @app.get("/report.pdf")
    def pdf() -> Response:
        return Response(b"%PDF-1.7 ...", media_type="application/pdf")

    @app.get("/huge")
    def huge() -> Response:
        return Response(b"<p>" + b"word " * 400 + b"</p>", media_type="text/html")

    @app.get("/slow")
    async def slow() -> Response:
        await asyncio.sleep(3)
        return Response(PAGE, media_type="text/html")

    @app.get("/empty")
    def empty() -> Response:
        return Response(b"   ", media_type="text/html")

    @app.get("/notes.md")
    def markdown() -> Response:
        return Response(
            "# Notes\n\nA first paragraph of text.\n\n## Part\n\nMore text here.\n", media_type="text/markdown"
        )

    @app.get("/broken")
    def broken() -> Response:
        return Response(b"oops", status_code=500)

    return app


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with served(_app) as base:
        yield base


def fails(url: str, **limits) -> str:
    with pytest.raises(ArticleError) as caught:
        fetch_article(url, allow_private=True, **limits)
    assert caught.value.path == url and str(caught.value).startswith((f"{url}: ", f"{url}:1: "))
    return caught.value.reason


def test_a_page_is_fetched_parsed_and_named_by_its_address(site: str) -> None:
    source = load_source(f"{site}/blog/kratom-basics/", allow_private=True)
    assert source.fmt == "html" and source.name == Path("kratom-basics") and source.label == source.origin
    article = parse_loaded(source)
    assert article.title == "Kratom Basics"
    assert [s.heading for s in article.sections] == ["How It Works"] and article.closing.heading == "Getting Help"
    assert {b.rule for b in article.dropped} >= {"page-chrome"}  # the navigation and the footer, shown


def test_up_to_five_redirects_are_followed_and_the_sixth_is_refused(site: str) -> None:
    assert fetch_article(f"{site}/hop/5", allow_private=True).origin == f"{site}/blog/kratom-basics/"
    assert "more than 5 redirects" in fails(f"{site}/hop/6")


def test_charset_from_the_header_or_the_pages_meta(site: str) -> None:
    for path in ("/latin1", "/meta-charset"):
        text = fetch_article(f"{site}{path}", allow_private=True).text
        assert "Café culture and “quotes” are part" in text, path


def test_not_a_web_page_too_big_slow_empty_missing_broken(site: str) -> None:
    assert "is application/pdf, not a web page" in fails(f"{site}/report.pdf")
    assert "over the 1 KB limit" in fails(f"{site}/huge", max_bytes=1024)
    assert "no answer within 0.5 seconds" in fails(f"{site}/slow", timeout=0.5)
    assert "the page is empty" in fails(f"{site}/empty")
    assert fails(f"{site}/nowhere") == "the server answered 404 Not Found"
    assert fails(f"{site}/broken") == "the server answered 500 Internal Server Error"


def test_nobody_listening_and_not_a_web_address() -> None:
    with refused_port() as port:
        assert fails(f"http://127.0.0.1:{port}/article").startswith("cannot connect")
    assert "not a web address" in fails("ftp://example.org/article.html")


def test_markdown_served_as_such(site: str) -> None:
    source = fetch_article(f"{site}/notes.md", allow_private=True)
    assert source.fmt == "markdown" and parse_loaded(source).title == "Notes"


def test_private_and_local_addresses_are_refused_unless_allowed(site: str) -> None:
    """The guard against a URL that reaches the server's own network (SSRF): on by default, at every redirect."""
    for url in (
        f"{site}/blog/kratom-basics/",
        "http://localhost:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/article",
        "http://[::1]:9/article",
    ):
        with pytest.raises(ArticleError, match="private or local address"):
            fetch_article(url)
    with pytest.raises(ArticleError, match="private or local address"):
        load_source(f"{site}/blog/kratom-basics/")
