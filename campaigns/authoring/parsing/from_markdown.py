"""Markdown articles (CommonMark, read with markdown-it-py): `#` is the title, `##`-`####` are sections.

What static-site generators and editors add around the text is read for what it is: YAML (`---`) or TOML (`+++`)
front matter gives the title; Hugo shortcodes (`{{< figure >}}`, `{{< lead >}}...{{< /lead >}}`) give their
caption or inner text, and boxes that point to an action (a notice with a link) are call-outs; footnote markers
(`[^1]`) leave the text and the footnotes are kept as small print (the article's sources); `> [!TIP]` admonitions
are call-outs when they hold a link, and text otherwise; images give no text (an alt text describes a picture the
email does not show).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from campaigns.authoring.article import Article, ParagraphRole
from campaigns.authoring.parsing.assemble import Element, Kind, assemble_article, list_element, table_element
from campaigns.authoring.parsing.from_html import fragment_elements

_YAML_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_TOML_FRONT = re.compile(r"\A\+\+\+[ \t]*\n(.*?\n)\+\+\+[ \t]*\n", re.S)
_YAML_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)
# {{< name args >}} ... {{< /name >}} or {{% name %}}: Hugo's shortcodes, paired or alone.
_SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*([\w-]+)(.*?)\s*[>%]\}\}", re.S)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
# Shortcodes that box their content as an aside: a call-out when the box holds a link.
_BOXES = {"callout", "notice", "alert", "admonition", "warning", "tip", "note", "info", "hint", "aside", "box", "cta"}
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]]+\]:")
_ADMONITION = re.compile(r"^\s*\[!(\w+)\][ \t]*")
_LINK = re.compile(r"\]\([^)]+\)|<https?://|https?://")


@dataclass
class _Aside:
    """What the pre-pass took out of the source, at its line: dropped text, or a caption to keep."""

    line: int
    text: str
    rule: str | None
    role: ParagraphRole = "text"


def markdown_elements(source: str) -> list[Element]:
    """Headings, paragraphs, lists and tables in reading order, inline markup made plain text."""
    source, title, asides = _pre_pass(source)
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    elements = _read_tokens(tokens)
    for aside in asides:
        elements.append(Element("paragraph", aside.text, aside.line, role=aside.role, rule=aside.rule))
    elements.sort(key=lambda e: e.line)  # stable: the pre-pass's pieces fall in at their lines
    if title:
        elements.insert(0, Element("title", title, 1, level=1))
    return elements


def parse_markdown(source: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """The Article in Markdown source."""
    return assemble_article(markdown_elements(source), path, overrides=overrides)


def _pre_pass(source: str) -> tuple[str, str | None, list[_Aside]]:
    """The source with front matter, shortcodes and footnote definitions blanked out (line numbers kept), the
    front matter's title, and what was taken out."""
    asides: list[_Aside] = []
    source, title = _front_matter(source, asides)
    source = _shortcodes(source, asides)
    lines = source.split("\n")
    i = 0
    while i < len(lines):
        if _FOOTNOTE_DEF.match(lines[i]):
            start, text = i, [lines[i]]
            lines[i] = ""
            i += 1
            while i < len(lines) and lines[i].startswith(("    ", "\t")):
                text.append(lines[i].strip())
                lines[i] = ""
                i += 1
            note = _FOOTNOTE_DEF.sub("", " ".join(" ".join(text).split()), count=1).strip()
            asides.append(_Aside(start + 1, note, None, role="caption"))  # a source: small print
        else:
            i += 1
    return "\n".join(lines), title, asides


def _front_matter(source: str, asides: list[_Aside]) -> tuple[str, str | None]:
    m = _YAML_FRONT.match(source) or _TOML_FRONT.match(source)
    if not m:
        return source, None
    body = m.group(1)
    title: str | None = None
    if m.re is _TOML_FRONT:
        try:
            value = tomllib.loads(body).get("title")
            title = value.strip() if isinstance(value, str) else None
        except tomllib.TOMLDecodeError:
            title = None
    else:
        found = _YAML_TITLE.search(body)
        title = found.group(1).strip() if found else None
    asides.append(_Aside(1, " ".join(body.split()), "front-matter"))
    return "\n" * m.group(0).count("\n") + source[m.end() :], title or None


def _shortcodes(source: str, asides: list[_Aside]) -> str:
    """Shortcodes out of the source: a box with a link is a call-out, a figure leaves its caption, a paired
    shortcode leaves its inner text, anything else (toc, youtube, ...) is a placeholder."""
    out: list[str] = []
    pos = 0
    open_box: tuple[int, int, str] | None = None  # (start offset in source, line, name) of an unclosed box
    for m in _SHORTCODE.finditer(source):
        closing, name, args = m.group(2) == "/", m.group(3).lower(), m.group(4)
        line = source.count("\n", 0, m.start()) + 1
        if open_box and closing and name == open_box[2]:
            inner = source[open_box[0] : m.start()]
            if _LINK.search(inner):
                asides.append(_Aside(open_box[1], _plain(inner), "call-out"))
                out.append(_blank(inner))
            else:
                out.append(inner)
            open_box = None
            out.append(_blank(m.group(0)))
            pos = m.end()
            continue
        if open_box:
            continue  # a shortcode inside a box goes with the box
        out.append(source[pos : m.start()])
        pos = m.end()
        out.append(_blank(m.group(0)))
        if not closing and name in _BOXES:
            open_box = (m.end(), line, name)
            pos = m.end()
            continue
        attrs = {a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or "" for a in _ATTR.finditer(args)}
        if name == "figure" and attrs.get("caption"):
            asides.append(_Aside(line, attrs["caption"], None, role="caption"))
        elif not closing and name not in ("lead",):
            asides.append(_Aside(line, m.group(0), "placeholder"))
    out.append(source[pos:])
    return "".join(out)


def _blank(text: str) -> str:
    """As many line breaks as `text` holds, so later line numbers stay right."""
    return "\n" * text.count("\n")


def _plain(markdown: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.replace("*", "").replace("_", " ").split())


def _read_tokens(tokens: list[Token]) -> list[Element]:
    elements: list[Element] = []
    lists: list[tuple[list[str], list[int], list[bool], bool, int]] = []  # open top-level list being read
    depth = 0
    heading_level: int | None = None
    row: list[str] | None = None
    rows: list[list[str]] = []
    table_line = 0
    header_rows = 0
    quote_depth = 0
    quote_start: int | None = None
    quote_links = False
    for token in tokens:
        line = token.map[0] + 1 if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            if depth == 0:
                lists.append(([], [], [], token.type == "ordered_list_open", line))
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                items, depths, anchors, ordered, start = lists.pop()
                rule = "contents" if items and all(anchors) else None  # links to this page's own headings
                elements.append(list_element(items, start, ordered=ordered, depths=depths, rule=rule))
        elif token.type == "blockquote_open":
            quote_depth += 1
            if quote_depth == 1:
                quote_start, quote_links = len(elements), False
        elif token.type == "blockquote_close":
            quote_depth -= 1
            if quote_depth == 0 and quote_start is not None:
                elements[quote_start:] = _quote(elements[quote_start:], quote_links)
        elif token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "heading_close":
            heading_level = None
        elif token.type == "thead_open":
            header_rows = 1
        elif token.type == "table_open":
            rows, table_line, header_rows = [], line, 0
        elif token.type == "table_close":
            elements.append(table_element(rows, table_line, header=header_rows > 0))
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if row is not None and any(row):
                rows.append(row)
            row = None
        elif token.type == "inline":
            text = inline_text(token)
            quote_links = quote_links or (quote_depth > 0 and any(c.type == "link_open" for c in token.children or []))
            if row is not None:
                row.append(text)
            elif heading_level:
                kind: Kind = "title" if heading_level == 1 else "heading"
                elements.append(Element(kind, text, line, level=heading_level))
            elif depth:
                items, depths, anchors, _, _ = lists[-1]
                if text:
                    items.append(text)
                    depths.append(depth - 1)
                    anchors.append(_is_anchor_link(token))
            elif text:
                elements.append(Element("paragraph", text, line, role="quote" if quote_depth else "text"))
        elif token.type in ("fence", "code_block"):
            elements.append(Element("paragraph", token.content.strip(), line))
        elif token.type == "html_block":
            elements += fragment_elements(token.content, line)
    return elements


def _quote(elements: list[Element], has_link: bool) -> list[Element]:
    """A blockquote's paragraphs: an admonition ("[!TIP] ...") holding a link is a call-out box; its marker goes."""
    if not elements or elements[0].kind != "paragraph":
        return elements
    marker = _ADMONITION.match(elements[0].text)
    if not marker:
        return elements
    box = [replace(elements[0], text=elements[0].text[marker.end() :]), *elements[1:]]
    box = [replace(e, role="text") for e in box]
    return [e.drop("call-out") for e in box] if has_link else box


def inline_text(token: Token) -> str:
    """The plain text of an inline token: link text kept, images and inline HTML dropped, breaks as spaces."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _is_anchor_link(token: Token) -> bool:
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    return (
        len(children) >= 3
        and children[0].type == "link_open"
        and children[-1].type == "link_close"
        and str(children[0].attrs.get("href", "")).startswith("#")
    )
