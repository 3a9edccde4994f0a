"""A section's body as Markdown, the form staff edit it in, and back to the article's blocks the email templates lay
out (paragraphs, quotes, captions, lists, tables), so an edited body and an untouched one go through the same
templates: `to_markdown(blocks)` then `to_blocks(...)` gives the same blocks back, and the same email.

Markdown is read by markdown-it-py (CommonMark plus tables) with raw HTML off: `<b>` stays the four characters it
is. Inline emphasis and links come out as `RichText`, a string whose value is the plain text (what the text part,
word counts and preheaders read) and whose `__html__` is the sanitised HTML that Jinja's autoescape puts in the HTML
part; links may only go to https, mailto or tel addresses. A whole paragraph in italics is a caption (small print).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from campaigns.authoring.article import Block, BulletList, Paragraph, Table
from campaigns.errors import StateError

LINK_SCHEMES = ("https://", "mailto:", "tel:")
LINK_STYLE = "color:#1f5f8b;text-decoration:underline;"
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
# markdown-it quietly leaves a javascript: or data: link as text; let every link through to be refused by name below.
_MD.validateLink = lambda url: True  # type: ignore[method-assign]
# Characters that mean something inline in Markdown wherever they are, and those that do only at a line's start.
_INLINE = re.compile(r"([\\`*_\[\]<])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_TABLE_CAPTION = "Table: "


class RichText(str):
    """Plain text (the string itself) with its HTML beside it, for text that carries emphasis or links."""

    html: str

    def __new__(cls, text: str, markup: str) -> RichText:
        made = super().__new__(cls, text)
        made.html = markup
        return made

    def __html__(self) -> str:
        return self.html


# ------------------------------------------------------------------------------------------------ blocks to Markdown


def to_markdown(blocks: Sequence[Block]) -> str:
    """The blocks as Markdown that reads back (`to_blocks`) to the same blocks."""
    out: list[str] = []
    after_list = False
    for block in blocks:
        # Two lists in a row would read as one: the second uses the other bullet, which starts a new list.
        out.append(_block_markdown(block, other_bullet=after_list))
        after_list = isinstance(block, BulletList) and not after_list
    return "\n\n".join(out)


def _block_markdown(block: Block, other_bullet: bool = False) -> str:
    if isinstance(block, BulletList):
        return _list_markdown(block, other_bullet)
    if isinstance(block, Table):
        return _table_markdown(block)
    text = _escape(block.text)
    if block.role == "quote":
        return "\n".join("> " + line for line in text.split("\n"))
    if block.role == "caption":
        return f"_{text}_"
    return text


def _list_markdown(block: BulletList, other_bullet: bool = False) -> str:
    lines: list[str] = []

    def walk(nodes: Sequence, indent: str, ordered: bool) -> None:
        for n, node in enumerate(nodes, 1):
            marker = (f"{n}) " if other_bullet else f"{n}. ") if ordered else ("* " if other_bullet else "- ")
            lines.append(indent + marker + _escape(node.text))
            walk(node.children, indent + " " * len(marker), False)

    walk(block.tree, "", block.ordered)
    return "\n".join(lines)


def _table_markdown(block: Table) -> str:
    width = max(len(r) for r in block.rows) if block.rows else 1
    head = block.rows[0] if block.header else ("",) * width
    body = block.rows[1:] if block.header else block.rows

    def row(cells: Sequence[str]) -> str:
        cells = list(cells) + [""] * (width - len(cells))
        return "| " + " | ".join(_escape(c).replace("|", "\\|") for c in cells) + " |"

    out = [row(head), "|" + "---|" * width, *(row(r) for r in body)]
    if block.caption:
        out.insert(0, _TABLE_CAPTION + _escape(block.caption) + "\n")
    return "\n".join(out)


def _escape(text: str) -> str:
    text = _ENTITY.sub(r"\\&", _INLINE.sub(r"\\\1", text))
    return "\n".join(_escape_line_start(line) for line in text.split("\n"))


def _escape_line_start(line: str) -> str:
    """What would start a list, a heading, a quote or a rule at a line's start ("1. Take it slowly"), escaped."""
    m = re.match(r"\s*\d+(?=[.)])", line)
    if m:
        return line[: m.end()] + "\\" + line[m.end() :]
    m = re.match(r"\s*(?=[#>+=~-])", line)
    if m:
        return line[: m.end()] + "\\" + line[m.end() :]
    return line


# ------------------------------------------------------------------------------------------------ Markdown to blocks


def to_blocks(markdown: str, where: str, field: str | None = None) -> tuple[Block, ...]:
    """The blocks a Markdown body says; StateError naming `where` for what an email cannot carry."""
    tokens = _MD.parse(markdown)
    out: list[Block] = []
    i = 0
    caption = ""
    while i < len(tokens):
        t = tokens[i]
        if t.type == "paragraph_open":
            inline = tokens[i + 1]
            para = _paragraph(inline, where, field)
            nxt = tokens[i + 3] if i + 3 < len(tokens) else None
            if (
                para.role == "text"
                and para.text.startswith(_TABLE_CAPTION)
                and nxt is not None
                and nxt.type == "table_open"
            ):
                caption = para.text[len(_TABLE_CAPTION) :]
            else:
                out.append(para)
            i += 3
        elif t.type == "blockquote_open":
            end = _close(tokens, i)
            for j in range(i, end):
                if tokens[j].type == "inline":
                    out.append(Paragraph(_inline(tokens[j], where, field), role="quote"))
            i = end + 1
        elif t.type in ("bullet_list_open", "ordered_list_open"):
            end = _close(tokens, i)
            out.append(_list(tokens[i : end + 1], where, field))
            i = end + 1
        elif t.type == "table_open":
            end = _close(tokens, i)
            out.append(_table(tokens[i : end + 1], caption, where, field))
            caption = ""
            i = end + 1
        elif t.type in ("fence", "code_block"):
            out.append(Paragraph(" ".join(t.content.split())))
            i += 1
        elif t.type == "heading_open":
            raise StateError(
                f"a heading ({tokens[i + 1].content!r}) inside {where}: split the email at a section instead, or "
                "write it as a sentence",
                field=field,
            )
        elif t.type == "hr":
            i += 1  # a rule between paragraphs: the email spaces its blocks already
        else:
            i += 1
    return tuple(out)


def _close(tokens: list[Token], start: int) -> int:
    """The index of the token that closes the one at `start`."""
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _paragraph(inline: Token, where: str, field: str | None) -> Paragraph:
    kids = inline.children or []
    if len(kids) >= 3 and kids[0].type == "em_open" and kids[-1].type == "em_close" and _one_span(kids):
        return Paragraph(_inline_tokens(kids[1:-1], where, field), role="caption")
    return Paragraph(_inline(inline, where, field))


def _one_span(kids: list[Token]) -> bool:
    """Does the first emphasis run to the end (a whole paragraph in italics)?"""
    depth = 0
    for n, k in enumerate(kids):
        depth += 1 if k.type == "em_open" else -1 if k.type == "em_close" else 0
        if depth == 0 and n < len(kids) - 1:
            return False
    return True


def _list(tokens: list[Token], where: str, field: str | None) -> BulletList:
    items: list[str] = []
    depths: list[int] = []
    depth, starting = -1, False
    for t in tokens:
        if t.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif t.type == "list_item_open":
            starting = True
        elif t.type == "inline":
            text = _inline(t, where, field)
            if starting or not items:
                items.append(text)
                depths.append(depth)
                starting = False
            else:  # a second paragraph of an item reads on from its first
                items[-1] = _join(items[-1], text)
    ordered = tokens[0].type == "ordered_list_open"
    return BulletList(tuple(items), ordered=ordered, depths=tuple(depths) if any(depths) else ())


def _join(a: str, b: str) -> str:
    if isinstance(a, RichText) or isinstance(b, RichText):
        return RichText(f"{a} {b}", f"{_html_of(a)} {_html_of(b)}")
    return f"{a} {b}"


def _html_of(s: str) -> str:
    return s.html if isinstance(s, RichText) else html.escape(s)


def _table(tokens: list[Token], caption: str, where: str, field: str | None) -> Table:
    rows: list[list[str]] = []
    for t in tokens:
        if t.type == "tr_open":
            rows.append([])
        elif t.type == "inline":
            rows[-1].append(_inline(t, where, field))
    header = bool(rows) and any(rows[0])
    cells = tuple(tuple(r) for r in (rows if header else rows[1:]))
    return Table(cells, header=header, caption=caption)


def _inline(token: Token, where: str, field: str | None) -> str:
    return _inline_tokens(token.children or [], where, field)


def _inline_tokens(kids: list[Token], where: str, field: str | None) -> str:
    """Plain text, or RichText when there is emphasis or a link."""
    text: list[str] = []
    markup: list[str] = []
    rich = False
    href: list[str] = []
    for k in kids:
        if k.type == "text" or k.type == "code_inline":
            text.append(k.content)
            markup.append(html.escape(k.content))
        elif k.type == "softbreak":
            text.append("\n")
            markup.append("\n")
        elif k.type == "hardbreak":
            text.append("\n")
            markup.append("<br>")
            rich = True
        elif k.type in ("em_open", "em_close", "strong_open", "strong_close"):
            tag = "em" if k.type.startswith("em") else "strong"
            markup.append(f"<{'/' if k.nesting < 0 else ''}{tag}>")
            rich = True
        elif k.type == "link_open":
            url = str(k.attrs.get("href", ""))
            if not url.lower().startswith(LINK_SCHEMES):
                raise StateError(
                    f"the link to {url!r} in {where}: links go to https://, mailto: or tel: addresses", field=field
                )
            href.append(url)
            markup.append(f'<a href="{html.escape(url, quote=True)}" style="{LINK_STYLE}">')
            text.append("\0")  # where the link's words start, to add its address after them in the text part
            rich = True
        elif k.type == "link_close":
            url = href.pop()
            markup.append("</a>")
            start = len(text) - 1 - text[::-1].index("\0")
            words = "".join(text[start + 1 :])
            shown = url.removeprefix("mailto:").removeprefix("tel:")
            text[start:] = [words if words.strip() in (url, shown) else f"{words} ({shown})"]
        elif k.type == "image":
            raise StateError(f"an image in {where}: emails carry no images from other sites", field=field)
        else:
            text.append(k.content)
            markup.append(html.escape(k.content))
    plain = "".join(text)
    return RichText(plain, "".join(markup)) if rich else plain
