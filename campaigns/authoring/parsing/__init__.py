"""Articles (raw text, Markdown, HTML; from a file, standard input or a web address) into the typed `Article`; see
`assemble` for the rules every format shares and `rules.RULES` for every rule that drops a block."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.fetch import fetch_article, is_url
from campaigns.authoring.parsing.from_html import parse_html
from campaigns.authoring.parsing.from_markdown import parse_markdown
from campaigns.authoring.parsing.from_text import parse_text
from campaigns.authoring.parsing.rules import RULES, describe
from campaigns.authoring.parsing.source import (
    FORMATS,
    STDIN,
    ArticleSource,
    detect_format,
    read_article_text,
    read_file,
    read_pasted,
)

__all__ = [
    "FORMATS",
    "RULES",
    "STDIN",
    "SUFFIXES",
    "ArticleSource",
    "describe",
    "detect_format",
    "fetch_article",
    "is_url",
    "load_source",
    "parse_article",
    "parse_html",
    "parse_loaded",
    "parse_markdown",
    "parse_source",
    "parse_text",
    "read_article_text",
    "read_file",
    "read_pasted",
]

_READERS = {"text": parse_text, "markdown": parse_markdown, "html": parse_html}
SUFFIXES = tuple(FORMATS)


def parse_source(source: str, fmt: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """Parse article text of a known format ("text", "markdown" or "html"); `path` names it in errors.
    `overrides` maps block ids to staff decisions (True keeps a dropped block, False drops a kept one)."""
    return _READERS[fmt](source, path, overrides)


def parse_article(path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """Read and parse an article file, choosing the format by its suffix; raises ArticleError naming file and line."""
    source = read_file(Path(path))
    return parse_source(source.text, source.fmt, source.name, overrides)


def load_source(spec: str | Path, stdin: BinaryIO | None = None, *, allow_private: bool = False) -> ArticleSource:
    """The article named by `spec`: "-" reads standard input (pasted text, Markdown or HTML), an http(s) address
    is fetched (a public one only, unless `allow_private`), anything else is a file."""
    if str(spec) == STDIN:
        if stdin is None:
            import sys

            stdin = sys.stdin.buffer
        return read_pasted(stdin.read())
    if isinstance(spec, str) and is_url(spec):
        return fetch_article(spec, allow_private=allow_private)
    return read_file(Path(spec))


def parse_loaded(source: ArticleSource, overrides: dict[str, bool] | None = None) -> Article:
    """The Article in a loaded source."""
    return parse_source(source.text, source.fmt, source.name, overrides)
