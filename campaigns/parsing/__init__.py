"""Article files (raw text, Markdown, HTML) into the typed `Article`; see `assemble` for the rules they share."""
from __future__ import annotations

from pathlib import Path

from campaigns.article import Article
from campaigns.errors import ArticleError
from campaigns.parsing.from_html import parse_html
from campaigns.parsing.from_markdown import parse_markdown
from campaigns.parsing.from_text import parse_text
from campaigns.parsing.source import read_article_text

__all__ = ["parse_article", "parse_text", "parse_markdown", "parse_html", "SUFFIXES"]

# Which reader each file suffix gets.
_PARSERS = {".txt": parse_text, ".md": parse_markdown, ".markdown": parse_markdown,
            ".html": parse_html, ".htm": parse_html}
SUFFIXES = tuple(_PARSERS)


def parse_article(path: Path) -> Article:
    """Read and parse an article file, choosing the format by its suffix; raises ArticleError naming file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        raise ArticleError(path, None, f"unsupported file type {suffix or '(none)'!r}; use one of "
                                       + ", ".join(SUFFIXES))
    source = read_article_text(path)
    return _PARSERS[suffix](source, path)
