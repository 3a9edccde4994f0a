"""Shared by the browser tests: Debian's chromium driven by Playwright, and the web app served by uvicorn.

Never `playwright install`: this network is closed, so the tests drive the distribution's browser by path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.parts import CHROMIUM
from tests.servers import free_port

# Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed network refuses.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Through the `chromium` fixture (tests/conftest.py): a missing browser skips, and fails under CI=true.
needs_chromium = pytest.mark.usefixtures("chromium")


@contextmanager
def served(make_app, port: int | None = None) -> Iterator[str]:
    """Serve the app returned by `make_app(base_url)` with uvicorn on 127.0.0.1; yields the base URL."""
    import uvicorn

    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(viewport: dict[str, int], **context_options) -> Iterator:
    """A fresh page in headless Chromium with the given viewport."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser.new_context(viewport=viewport, **context_options).new_page()
        finally:
            browser.close()


def screenshot(page, folder: str, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (the whole page, or only what the window shows) under tests/artifacts/<folder>/ (kept as
    a test artifact, not committed)."""
    path = ARTIFACTS / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
