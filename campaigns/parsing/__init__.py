"""Article files (raw text, Markdown, HTML) into the typed `Article`; see `assemble` for the rules they share."""
from __future__ import annotations

from pathlib import Path

from campaigns.article import Article
from campaigns.errors import ArticleError
from campaigns.parsing.from_text import parse_text
from campaigns.parsing.source import read_article_text

__all__ = ["parse_article", "parse_text", "SUFFIXES"]

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


def parse_article(path: Path) -> Article:
    """Read and parse an article file, choosing the format by its suffix; raises ArticleError naming file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ArticleError(path, None, f"unsupported file type {suffix or '(none)'!r}; use one of "
                                       + ", ".join(SUFFIXES))
    source = read_article_text(path)
    return parse_text(source, path)
