"""Where an article's text comes from (a file, pasted text on standard input, a web page) and what format it is in;
every way reading can fail is an ArticleError naming the file, input or address, and the line where it can."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from campaigns.errors import ArticleError

# Control bytes that never occur in a text article (tab, newline, carriage return and form feed do).
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
# The format each file suffix is read as.
FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
STDIN = "-"
_HTML_TAG = re.compile(r"<(?:!doctype|html|head|body|article|main|p|div|h[1-6]|ul|ol|li|br|table|section|span)\b", re.I)
_MARKDOWN = re.compile(r"\A(?:---|\+\+\+)\s*\n|^#{1,6}\s+\S|^\S.*\n(?:=+|-+)\s*$|\[[^\]\n]+\]\([^)\s]+\)", re.M)


@dataclass(frozen=True)
class ArticleSource:
    """An article's text as the parser reads it, its format, and the name it goes by."""

    text: str
    fmt: str  # "text", "markdown" or "html"
    name: Path  # names the source in messages; its words give a title when the article states none
    origin: str  # as given: a file path, "-" for standard input, or the address the page came from

    @property
    def is_pasted(self) -> bool:
        return self.origin == STDIN

    @property
    def label(self) -> str:
        """How staff know it: the file's name, the page's address, or "pasted text"."""
        if self.is_pasted:
            return "pasted text"
        return self.origin if "://" in self.origin else Path(self.origin).name


def read_file(path: Path) -> ArticleSource:
    """An article file, its format chosen by its suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ArticleError(
            path, None, f"unsupported file type {suffix or '(none)'!r}; use one of " + ", ".join(FORMATS)
        )
    return ArticleSource(read_article_text(path), FORMATS[suffix], path, str(path))


def read_pasted(data: bytes, name: str = "untitled") -> ArticleSource:
    """Text given on standard input (pasted text, Markdown or HTML), its format told from what it holds."""
    text = decode_article(data, "standard input", empty="no text was given")
    return ArticleSource(text, detect_format(text), Path(name), STDIN)


def detect_format(text: str) -> str:
    """ "html" for markup, "markdown" for front matter, '#' headings or Markdown links, else "text"."""
    head = text[:20_000]
    if head.lstrip().startswith("<") or len(_HTML_TAG.findall(head)) >= 3:
        return "html"
    if _MARKDOWN.search(head):
        return "markdown"
    return "text"


def read_article_text(path: Path) -> str:
    """The file's text (UTF-8, a leading byte-order mark removed), or an ArticleError saying why it is not one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArticleError(path, None, "no such file") from None
    except IsADirectoryError:
        raise ArticleError(path, None, "is a directory, not an article file") from None
    except OSError as err:
        raise ArticleError(path, None, f"cannot be read ({err.strerror or err})") from None
    return decode_article(data, path)


def decode_article(data: bytes, where: object, encoding: str = "utf-8-sig", empty: str = "the file is empty") -> str:
    """Bytes as article text: no binary bytes, decodable, not empty; line ends made "\\n"."""
    found = _BINARY_BYTE.search(data)
    if found:
        bad = found.start()
        raise ArticleError(where, line_of(data, bad), f"binary content (byte 0x{data[bad]:02x}), not a text article")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ArticleError(
            where, line_of(data, err.start), f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the article as UTF-8"
        ) from None
    if not text.strip():
        raise ArticleError(where, 1, empty)
    # Windows and old-Mac line endings count as line breaks like any other.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line number holding byte `offset`."""
    return data.count(b"\n", 0, offset) + 1
