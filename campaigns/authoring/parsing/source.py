"""Reading an article file as text, with every way it can fail turned into an ArticleError naming file and line."""

from __future__ import annotations

import re
from pathlib import Path

from campaigns.errors import ArticleError

# Control bytes that never occur in a text article (tab, newline, carriage return and form feed do).
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")


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
    found = _BINARY_BYTE.search(data)
    if found:
        bad = found.start()
        raise ArticleError(path, line_of(data, bad), f"binary content (byte 0x{data[bad]:02x}), not a text article")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(
            path, line_of(data, err.start), f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the article as UTF-8"
        ) from None
    if not text.strip():
        raise ArticleError(path, 1, "the file is empty")
    # Windows and old-Mac line endings count as line breaks like any other.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line number holding byte `offset`."""
    return data.count(b"\n", 0, offset) + 1
