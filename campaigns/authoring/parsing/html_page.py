"""An HTML page as the HTML reader sees it: loaded with lxml, its blocks (`Piece`) and their places, its visible
text, its title, what its classes say.

The title comes from the page's `<h1>` (or the element the page or an export marks as its title) when it agrees with
`og:title`/`<title>`; else `og:title` or `<title>` less the site's name; a page without a usable `<title>` (an
export) takes its first `<h1>` or title-classed element. Never from navigation or the site's own header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from campaigns.authoring.parsing.assemble import Element
from campaigns.errors import ArticleError

# Tags whose content is never text a reader sees on the page.
INVISIBLE = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "object",
        "embed",
        "canvas",
        "video",
        "audio",
        "map",
        "head",
        "img",
        "picture",
        "source",
        "link",
        "meta",
        "input",
        "select",
        "textarea",
        "option",
        "hr",
        "wbr",
        "math",
        "xml",
    ]
)
BLOCK = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "nav",
        "aside",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "blockquote",
        "figure",
        "figcaption",
        "pre",
        "form",
        "fieldset",
        "details",
        "summary",
        "address",
        "center",
        "body",
        "html",
        "dialog",
        "menu",
        "hgroup",
        "legend",
        "button",
        "label",
    ]
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# The element a page or an export marks as its title ("entry-title", Google Docs' p.title, Word's MsoTitle).
_TITLE_CLASS = re.compile(r"^(title|MsoTitle|entry-title|post-title|p-name|article-title|page-title|headline)$", re.I)
_SITE_SEPARATOR = re.compile(r"\s+[|–—:·-]\s+|:\s+")
# A footnote or comment marker: "1", "[1]", "[a]", "[LM1]", "*".
_MARKER_TEXT = re.compile(r"^\s*\[?(?:\d{1,3}|[a-z]{1,2}|[A-Z]{1,3}\d{1,3}|\*{1,3}|†)\]?\s*$")
_NOTE_CLASSES = ("MsoFootnoteReference", "MsoCommentReference", "MsoEndnoteReference")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_WORDS = re.compile(r"[a-z0-9]+")


def norm_words(text: str) -> list[str]:
    """Lower-case words and numbers: what two renderings of the same text have in common."""
    return _WORDS.findall(text.lower().replace("’", "'"))


def load(source: str, path: Path) -> HtmlElement:
    """The page's root element without comments, or an ArticleError when there is no page to read."""
    source = _XML_DECLARATION.sub("", source, count=1)  # lxml refuses text that declares its own encoding
    try:
        root = lxml.html.document_fromstring(source)
    except (etree.ParserError, ValueError) as err:
        raise ArticleError(path, 1, f"not an HTML page ({err})") from None
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _remove_keeping_tail(node)
    return root


def _remove_keeping_tail(node: HtmlElement) -> None:
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


# Blocks and their places -------------------------------------------------------------------------------------------


@dataclass
class Piece:
    """One block of the page with its node: what the main-content rules look at."""

    element: Element
    node: HtmlElement
    words: int = 0
    link_words: int = 0  # of them, inside links
    extracted: bool = False  # the content extractor kept its words


@dataclass
class Page:
    """The page's blocks, and every node's place in the page (for "before" and "after")."""

    pieces: list[Piece]
    order: dict[HtmlElement, int] = field(default_factory=dict)

    @classmethod
    def of(cls, pieces: list[Piece]) -> Page:
        root = pieces[0].node.getroottree().getroot() if pieces else None
        return cls(pieces, {n: i for i, n in enumerate(root.iter())} if root is not None else {})

    def position(self, node: HtmlElement) -> int:
        return self.order.get(node, 0)


def inside(node: HtmlElement, container: HtmlElement) -> bool:
    """Is `node` the container or in it?"""
    return node is container or any(a is container for a in node.iterancestors())


# Text ---------------------------------------------------------------------------------------------------------------


def classes(node: HtmlElement) -> list[str]:
    """The node's class words and its id."""
    ident = node.get("id")
    return [*(node.get("class") or "").split(), *([ident] if ident else [])]


def text_of(node: HtmlElement | None) -> str:
    """All of the node's text, whitespace made single."""
    if node is None:
        return ""
    return " ".join(" ".join(t for t in node.itertext() if isinstance(t, str)).split())


def paragraph_words(root: HtmlElement) -> int:
    return sum(len(norm_words(text_of(p))) for p in root.iter("p", "li"))


def is_hidden(node: HtmlElement) -> bool:
    style = (node.get("style") or "").replace(" ", "").lower()
    return (
        node.get("hidden") is not None
        or node.get("aria-hidden") == "true"
        or "display:none" in style
        or "visibility:hidden" in style
        or "mso-list:ignore" in style  # Word's bullet characters before a list paragraph's text
    )


def is_marker(node: HtmlElement) -> bool:
    """A footnote or comment marker: a superscript, or a link to a note on the same page, that reads "1", "[a]"."""
    if node.tag == "sup" or (node.tag == "a" and (node.get("href") or "").startswith("#")):
        return bool(_MARKER_TEXT.match(text_of(node))) or not text_of(node)
    return any(c.startswith(_NOTE_CLASSES) for c in classes(node))


def visible_text(node: HtmlElement, *, keep_breaks: bool = False, skip_lists: bool = False) -> str:
    """The text a reader sees in this node: hidden parts, images, footnote and comment markers left out; <br> a
    line break when `keep_breaks`, nested lists left out when `skip_lists`."""
    parts: list[str] = [node.text or ""]

    def walk(n: HtmlElement) -> None:
        for child in n:
            if not isinstance(child.tag, str):
                parts.append(child.tail or "")
                continue
            if child.tag == "br":
                parts.append("\n" if keep_breaks else " ")
            elif not (
                (skip_lists and child.tag in ("ul", "ol"))
                or child.tag in INVISIBLE
                or is_hidden(child)
                or is_marker(child)
            ):
                block = child.tag in BLOCK
                parts.append((" " if block else "") + (child.text or ""))
                walk(child)
                parts.append(" " if block else "")
            parts.append(child.tail or "")

    walk(node)
    text = "".join(parts).replace("\xa0", " ")
    if keep_breaks:
        return "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return " ".join(text.split())


def region_lines(node: HtmlElement) -> list[str]:
    """The lines of a region (each block's own text), for showing what a dropped region held."""
    lines: list[str] = []

    def walk(n: HtmlElement) -> None:
        buffer = [n.text or ""]
        for child in n:
            if not isinstance(child.tag, str) or child.tag in INVISIBLE or is_hidden(child):
                buffer.append(child.tail or "")
                continue
            if child.tag in BLOCK:
                lines.append(" ".join("".join(buffer).split()))
                buffer = []
                walk(child)
            else:
                buffer.append(" " + " ".join(t for t in child.itertext() if isinstance(t, str)) + " ")
            buffer.append(child.tail or "")
        lines.append(" ".join("".join(buffer).split()))

    walk(node)
    return [line for line in lines if line]


# Title --------------------------------------------------------------------------------------------------------------


def meta_title(root: HtmlElement) -> str:
    """og:title, twitter:title or <title>, less the site's name."""
    site = _meta(root, "og:site_name") or _meta(root, "application-name")
    for name in ("og:title", "twitter:title"):
        value = _meta(root, name)
        if value:
            return _less_site_name(value, site)
    title = root.find(".//title")
    return _less_site_name(text_of(title), site) if title is not None else ""


def _meta(root: HtmlElement, name: str) -> str:
    for m in root.iter("meta"):
        if name in (m.get("property"), m.get("name")):
            return " ".join((m.get("content") or "").split())
    return ""


def _less_site_name(title: str, site: str) -> str:
    """ "Kratom Withdrawal | Agape Detox" gives "Kratom Withdrawal", and "Blog Name: Post" gives "Post"."""
    parts = [p for p in _SITE_SEPARATOR.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    if site:
        rest = [p for p in parts if norm_words(p) != norm_words(site)]
        if len(rest) < len(parts):
            return " - ".join(rest) if rest else title
    return title if ":" in title and not re.search(r"\s[|–—·-]\s", title) else max(parts, key=len)


def find_title(root: HtmlElement) -> HtmlElement | None:
    """The node holding the article's title (see the module's docstring)."""
    wanted = norm_words(meta_title(root))
    h1s = [h for h in root.iter("h1") if text_of(h) and not in_site_chrome(h)]
    classed = [
        n
        for n in root.iter()
        if isinstance(n.tag, str)
        and n.tag not in ("body", "html", "title", "head", "a")
        and any(_TITLE_CLASS.match(c) for c in classes(n))
        and 2 <= len(text_of(n)) <= 300
        and not in_site_chrome(n)
    ]
    if wanted:
        for node in [*h1s, *classed]:
            words = norm_words(text_of(node))
            if words and (words == wanted or _contains(wanted, words) or _contains(words, wanted)):
                return node
    # No <title>, or one that names the file as exports have: the first <h1> or title-classed element.
    order = {n: i for i, n in enumerate(root.iter())}
    return min([*h1s, *classed], key=lambda n: order.get(n, 0)) if h1s or classed else None


def _contains(outer: list[str], inner: list[str]) -> bool:
    return len(inner) >= 3 and f" {' '.join(inner)} " in f" {' '.join(outer)} "


def in_site_chrome(node: HtmlElement) -> bool:
    """Inside the site's own header, navigation or footer (not a header inside the article)."""
    for a in node.iterancestors():
        if a.tag in ("nav", "footer", "aside") or a.get("role") in ("navigation", "contentinfo", "complementary"):
            return True
        if a.tag == "header" and not any(x.tag in ("article", "main") for x in a.iterancestors()):
            return True
    return False
