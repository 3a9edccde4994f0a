"""Article files (raw text, Markdown, HTML) into the typed `Article`; see `assemble` for the rules they share."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.from_html import parse_html
from campaigns.authoring.parsing.from_markdown import parse_markdown
from campaigns.authoring.parsing.from_text import parse_text
from campaigns.authoring.parsing.source import read_article_text
from campaigns.errors import ArticleError

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "parse_article",
    "parse_html",
    "parse_markdown",
    "parse_source",
    "parse_text",
    "read_article_text",
]

# The format each file suffix is read as, and the reader of each format.
FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
_READERS = {"text": parse_text, "markdown": parse_markdown, "html": parse_html}
SUFFIXES = tuple(FORMATS)


def parse_source(source: str, fmt: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """Parse article text of a known format ("text", "markdown" or "html"); `path` names it in errors.
    `overrides` maps block ids to staff decisions (True keeps a dropped block, False drops a kept one)."""
    return _READERS[fmt](source, path, overrides)


def parse_article(path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """Read and parse an article file, choosing the format by its suffix; raises ArticleError naming file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ArticleError(
            path, None, f"unsupported file type {suffix or '(none)'!r}; use one of " + ", ".join(SUFFIXES)
        )
    return parse_source(read_article_text(path), FORMATS[suffix], path, overrides)
