"""The `cli` fixture: run `outreach ARGS...` in this process against the test database."""

from __future__ import annotations

import pytest

from outreach import bootstrap
from outreach.cli import main


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    """Run `outreach ARGS...` in this process against db_url; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("OUTREACH_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")  # Rich wraps tables at 80 columns when not on a terminal
    bootstrap.get_settings.cache_clear()
    bootstrap.get_session_factory.cache_clear()

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    if bootstrap.get_session_factory.cache_info().currsize:
        bootstrap.get_session_factory().kw["bind"].dispose()
    bootstrap.get_settings.cache_clear()
    bootstrap.get_session_factory.cache_clear()
