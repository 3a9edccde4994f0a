"""HTML pages (read with lxml): every block of the page in reading order, the article body picked out of it.

The page is walked once into blocks (headings, paragraphs, lists, tables, captions, quotes) that keep their node, so
rules can look at where a block sits and what it is made of. Whole regions that are never the article (navigation,
site header and footer, sidebars, forms, dialogs, boxes the page names as furniture) become one dropped block each;
an author box becomes the bio. Which of the rest is the article is decided by the content extractor (trafilatura,
see main_content.py) and the structural rules applied after it. The title comes from the page's `<h1>`, else the
element the page marks as its title, else `og:title` or `<title>` less the site's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.assemble import Element, assemble_article, list_element, table_element
from campaigns.errors import ArticleError

# Never visible text.
_INVISIBLE = {"script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas", "video",
              "audio", "map", "head", "img", "picture", "source", "link", "meta", "input", "select", "textarea",
              "option", "hr", "wbr", "math", "xml"}
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "h1", "h2", "h3", "h4", "h5",
          "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
          "blockquote", "figure", "figcaption", "pre", "form", "fieldset", "details", "summary", "address", "center",
          "body", "html", "dialog", "menu", "hgroup", "legend", "button", "label"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu",
                 "menubar", "toolbar"}
# Class or id words that name page furniture (WordPress, Elementor, Drupal, Ghost, Squarespace, hand-made themes).
_CHROME_CLASS = re.compile(
    r"(?:^|[-_])(share|shares|sharing|sharedaddy|social|sidebar|related|category|categories|cat-links|tags|"
    r"tag-links|tagcloud|toc|ez-toc|lwptoc|table-of-contents|breadcrumb|breadcrumbs|comment|comments|respond|"
    r"menu|newsletter|subscribe|signup|meta|byline|post-meta|entry-meta|nav|navigation|pagination|"
    r"pager|cookie|cookies|consent|gdpr|popup|modal|advert|advertisement|ads|banner|skip-link|screen-reader-text|"
    r"sr-only|visually-hidden)(?:$|[-_])",
    re.I,
)
# Which rule a furniture class word stands for (the rest are "named-chrome").
_CLASS_RULE = {"share": "share-bar", "shares": "share-bar", "sharing": "share-bar", "sharedaddy": "share-bar",
               "social": "share-bar", "related": "related", "toc": "contents", "ez-toc": "contents",
               "lwptoc": "contents", "table-of-contents": "contents", "breadcrumb": "breadcrumb",
               "breadcrumbs": "breadcrumb", "newsletter": "form", "subscribe": "form", "signup": "form",
               "sidebar": "sibling-column", "meta": "post-info", "byline": "post-info", "post-meta": "post-info",
               "entry-meta": "post-info", "sr-only": "page-chrome", "screen-reader-text": "page-chrome",
               "visually-hidden": "page-chrome", "skip-link": "page-chrome"}
# WordPress labels the post itself (and <body>) with its taxonomy: "category-opioids", "tag-naloxone".
_TAXONOMY_CLASS = re.compile(r"^(category|tag|post_tag|format)-(?!links$|list$|cloud$)[\w-]+$", re.I)
_AUTHOR_CLASS = re.compile(
    r"(?:^|[-_])(author-?box|author-?bio|author-?biography|author-?note|author-?info|author-?card|about-?(the-)?author|"
    r"author-?description|saboxplugin-wrap|post-author|entry-author)(?:$|[-_])",
    re.I,
)
# The element a page or an export marks as its title ("entry-title", Google Docs' p.title, Word's MsoTitle).
_TITLE_CLASS = re.compile(r"^(title|MsoTitle|entry-title|post-title|p-name|article-title|page-title|headline)$", re.I)
_SITE_SEPARATOR = re.compile(r"\s+[|–—:·-]\s+|:\s+")
# A footnote or comment marker: "1", "[1]", "[a]", "[LM1]", "*".
_MARKER_TEXT = re.compile(r"^\s*\[?(?:\d{1,3}|[a-z]{1,2}|[A-Z]{1,3}\d{1,3}|\*{1,3}|†)\]?\s*$")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass
class Piece:
    """One block of the page with its node: what the main-content rules look at."""

    element: Element
    node: HtmlElement
    link_words: int = 0  # words inside links
    words: int = 0
    extracted: bool = False  # the content extractor kept its words


def norm_words(text: str) -> list[str]:
    return _WORDS.findall(text.lower().replace("’", "'"))


def load(source: str, path: Path) -> HtmlElement:
    """The page's root element, or an ArticleError when there is no page to read."""
    source = _XML_DECLARATION.sub("", source, count=1)  # lxml refuses text that declares its own encoding
    try:
        root = lxml.html.document_fromstring(source)
    except (etree.ParserError, ValueError) as err:
        raise ArticleError(path, 1, f"not an HTML page ({err})") from None
    for node in root.iter(etree.Comment, etree.ProcessingInstruction):
        _remove_keeping_tail(node)
    return root


def _remove_keeping_tail(node) -> None:
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


def page_pieces(root: HtmlElement) -> tuple[list[Piece], HtmlElement | None]:
    """Every block of the page in reading order (regions that are never the article as one dropped block each),
    and the node that holds the title."""
    title_node = find_title(root)
    walker = _Walker(title_node, _paragraph_words(root))
    body = root.find("body")
    walker.visit(body if body is not None else root)
    pieces = walker.pieces
    if title_node is None:
        title = meta_title(root)
        if title:
            pieces.insert(0, Piece(Element("title", title, 1, level=1), root))
    return pieces, title_node


def parse_html(source: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """The Article in an HTML page; a page with no readable body is an ArticleError."""
    from campaigns.authoring.parsing.main_content import select_article

    root = load(source, path)
    pieces, title_node = page_pieces(root)
    if not any(p.element.kind in ("paragraph", "list", "table") and p.element.kept for p in pieces):
        body = root.find("body")
        line = body.sourceline if body is not None and body.sourceline else 1
        raise ArticleError(path, line, "no article content in this HTML page (no paragraphs or lists found)")
    elements = select_article(source, pieces, title_node)
    return assemble_article(elements, path, overrides=overrides)


def fragment_elements(fragment: str, line: int) -> list[Element]:
    """The blocks of an HTML fragment inside another format (a raw block in Markdown), furniture dropped."""
    try:
        nodes = lxml.html.fragments_fromstring(fragment)
    except (etree.ParserError, ValueError):
        return []
    walker = _Walker(None, 0)
    for node in nodes:
        if isinstance(node, str):
            text = " ".join(node.split())
            if text:
                walker.pieces.append(Piece(Element("paragraph", text, line), lxml.html.Element("p")))
        elif isinstance(node.tag, str):
            walker.visit(node)
    return [
        Element(p.element.kind, p.element.text, line + (p.element.line or 1) - 1, p.element.level, p.element.role,
                p.element.block, p.element.rule)
        for p in walker.pieces
    ]


# Title ------------------------------------------------------------------------------------------------------------


def meta_title(root: HtmlElement) -> str:
    """og:title, twitter:title or <title>, less the site's name."""
    site = _meta(root, "og:site_name") or _meta(root, "application-name")
    for name in ("og:title", "twitter:title"):
        value = _meta(root, name)
        if value:
            return _less_site_name(value, site)
    title = root.find(".//title")
    return _less_site_name(_text(title), site) if title is not None else ""


def _meta(root: HtmlElement, name: str) -> str:
    for m in root.iter("meta"):
        if m.get("property") == name or m.get("name") == name:
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
            return " - ".join(rest) if len(rest) > 1 else rest[0] if rest else title
    return title if ":" in title and not re.search(r"\s[|–—·-]\s", title) else max(parts, key=len)


def find_title(root: HtmlElement) -> HtmlElement | None:
    """The node holding the article's title: an <h1> (or an element classed as the title) that agrees with the
    page's og:title/<title>, else the first <h1> outside the site's header and navigation, else a title-classed
    element."""
    wanted = norm_words(meta_title(root))
    h1s = [h for h in root.iter("h1") if _text(h) and not _in_chrome(h)]
    classed = [
        n
        for n in root.iter()
        if isinstance(n.tag, str) and any(_TITLE_CLASS.match(c) for c in _classes(n)) and 2 <= len(_text(n)) <= 300
        and not _in_chrome(n) and n.tag not in ("body", "html", "title", "head", "a")
    ]
    if wanted:
        for node in [*h1s, *classed]:
            words = norm_words(_text(node))
            if words and (words == wanted or _contains(wanted, words) or _contains(words, wanted)):
                return node
    # No <title> (or one that names the file, as exports have): the first <h1> or title-classed element.
    order = {n: i for i, n in enumerate(root.iter())}
    return min([*h1s, *classed], key=lambda n: order.get(n, 0)) if h1s or classed else None


def _contains(outer: list[str], inner: list[str]) -> bool:
    return len(inner) >= 3 and f" {' '.join(inner)} " in f" {' '.join(outer)} "


def _in_chrome(node: HtmlElement) -> bool:
    """Inside the site's own header, navigation or footer (not a header inside the article)."""
    for a in node.iterancestors():
        if a.tag in ("nav", "footer", "aside") or a.get("role") in ("navigation", "contentinfo", "complementary"):
            return True
        if a.tag == "header" and not any(x.tag in ("article", "main") for x in a.iterancestors()):
            return True
    return False


# The walk -----------------------------------------------------------------------------------------------------------


def _classes(node: HtmlElement) -> list[str]:
    words = (node.get("class") or "").split()
    ident = node.get("id")
    return [*words, *([ident] if ident else [])]


def _text(node: HtmlElement | None) -> str:
    if node is None:
        return ""
    return " ".join(" ".join(t for t in node.itertext() if isinstance(t, str)).split())


def _paragraph_words(root: HtmlElement) -> int:
    return sum(len(norm_words(_text(p))) for p in root.iter("p", "li"))


def _is_hidden(node: HtmlElement) -> bool:
    style = (node.get("style") or "").replace(" ", "").lower()
    return (
        node.get("hidden") is not None
        or node.get("aria-hidden") == "true"
        or "display:none" in style
        or "visibility:hidden" in style
        or "mso-list:ignore" in style  # Word's bullet characters before a list paragraph's text
    )


def _is_marker_link(node: HtmlElement) -> bool:
    """A footnote or comment marker: a superscript, or a link to a note on the same page, that reads "1", "[a]"."""
    if node.tag == "sup" or (node.tag == "a" and (node.get("href") or "").startswith("#")):
        return bool(_MARKER_TEXT.match(_text(node))) or not _text(node).strip()
    return any(c.startswith(("MsoFootnoteReference", "MsoCommentReference", "MsoEndnoteReference"))
               for c in _classes(node))


class _Walker:
    def __init__(self, title_node: HtmlElement | None, page_words: int) -> None:
        self.title_node = title_node
        self.page_words = page_words
        self.pieces: list[Piece] = []
        self.last_level = 1

    # Regions --------------------------------------------------------------------------------------------------

    def _region_rule(self, node: HtmlElement) -> str | None:
        """The rule under which this whole region is never the article, or None."""
        tag = node.tag
        if tag in ("html", "body") or node is self.title_node:
            return None
        holds_title = self.title_node is not None and any(a is node for a in self.title_node.iterancestors())
        rule = None
        if tag in ("nav", "aside", "dialog") or (node.get("role") or "") in _CHROME_ROLES:
            rule = "page-chrome"
        elif tag in ("header", "footer") and not holds_title:
            rule = "page-chrome"
        elif tag == "form" or (tag in ("div", "section", "fieldset") and _holds_fields(node)):
            rule = "form"
        elif any(c.startswith("mso-element:comment") or c.startswith("mso-element:footnote")
                 for c in [(node.get("style") or "").replace(" ", "").lower()]):
            rule = "notes"
        else:
            # A heading's or paragraph's id is often its own words ("plan-for-social-situations"): classes only.
            words = (node.get("class") or "").split() if tag in _HEADINGS or tag == "p" else _classes(node)
            for word in words:
                m = _CHROME_CLASS.search(word)
                if m and not _TAXONOMY_CLASS.match(word):
                    rule = _CLASS_RULE.get(m.group(1).lower(), "named-chrome")
                    break
        if rule and (holds_title or self._holds_most_of_the_page(node)):
            return None  # a wrapper named "content-with-sidebar", or a page-wide <form> (ASP.NET)
        return rule

    def _holds_most_of_the_page(self, node: HtmlElement) -> bool:
        """A wrapper around the article (headings and paragraphs), not a box that happens to be all there is."""
        if self.page_words <= 0 or _paragraph_words(node) * 2 <= self.page_words:
            return False
        return next(node.iter("h1", "h2", "h3"), None) is not None or sum(1 for _ in node.iter("p")) >= 3

    def _region(self, node: HtmlElement, rule: str) -> None:
        text = " · ".join(t for t in (" ".join(s.split()) for s in _block_texts(node)) if t)
        if text:
            self.pieces.append(Piece(Element("paragraph", text[:2000], node.sourceline or 1, rule=rule), node))
        for box in node.iterdescendants():  # an author box inside a footer or a share area is still the bio
            if isinstance(box.tag, str) and any(_AUTHOR_CLASS.search(c) for c in _classes(box)):
                self._author_box(box)
                break

    def _author_box(self, node: HtmlElement) -> None:
        """The box's sentences (eight words or more) are the bio; its label, name, job title and links are not."""
        for text, line in _box_lines(node):
            if len(text.split()) >= 8 and text.rstrip().endswith((".", "!", "?", ".”", '."')):
                self.pieces.append(Piece(Element("bio", text, line), node))
            else:
                self.pieces.append(Piece(Element("paragraph", text, line, rule="author-box"), node))

    # Blocks ---------------------------------------------------------------------------------------------------

    def visit(self, node: HtmlElement, role: str = "text") -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in _INVISIBLE or _is_hidden(node):
            return
        if tag not in ("html", "body", "article", "main") and any(_AUTHOR_CLASS.search(c) for c in _classes(node)):
            self._author_box(node)
            return
        rule = self._region_rule(node)
        if rule:
            self._region(node, rule)
            return
        if node is self.title_node:
            self._add(Element("title", _inline(node), node.sourceline or 1, level=1), node)
        elif tag in _HEADINGS:
            self.last_level = _HEADINGS[tag]
            self._add(Element("heading", _inline(node), node.sourceline or 1, level=_HEADINGS[tag]), node)
        elif tag == "summary":
            level = min(6, self.last_level + 1)
            self._add(Element("heading", _inline(node), node.sourceline or 1, level=level), node)
        elif tag in ("ul", "ol", "menu"):
            self._list(node)
        elif tag == "table" and not _is_layout_table(node):
            self._table(node)
        elif tag == "p" and _is_word_list_paragraph(node):
            self._word_list_item(node)
        elif tag in ("figcaption", "caption"):
            self._paragraphs(node, "caption")
        elif tag == "blockquote":
            self._container(node, "quote")
        elif tag in ("p", "pre", "dt", "dd", "address", "li", "td", "th", "label", "legend", "button"):
            self._paragraphs(node, role)
        else:
            self._container(node, role)

    def _add(self, element: Element, node: HtmlElement) -> None:
        if not element.text.strip():
            return
        words = len(norm_words(element.text))
        self.pieces.append(Piece(element, node, link_words=_link_words(node) if words else 0, words=words))

    def _container(self, node: HtmlElement, role: str) -> None:
        """Children in order; runs of inline content between block children are paragraphs."""
        run: list[str] = [node.text or ""]
        run_line = node.sourceline or 1
        run_nodes: list[HtmlElement] = []
        for child in node:
            if not isinstance(child.tag, str):
                run.append(child.tail or "")
                continue
            if child.tag not in _BLOCK and not (child.tag in ("a", "span", "font") and _has_block(child)):
                if child.tag == "br":
                    run.append("\n")
                elif not _is_hidden(child) and child.tag not in _INVISIBLE and not _is_marker_link(child):
                    run.append(_inline(child, keep_breaks=True))
                    run_nodes.append(child)
                run.append(child.tail or "")
                continue
            self._flush(run, run_line, node, run_nodes, role)
            self.visit(child, role)
            run, run_nodes, run_line = [child.tail or ""], [], child.sourceline or run_line
        self._flush(run, run_line, node, run_nodes, role)

    def _flush(self, run: list[str], line: int, node: HtmlElement, nodes: list[HtmlElement], role: str) -> None:
        text = "".join(run)
        for part in re.split(r"\n\s*\n", text):  # <br><br> separates paragraphs
            part = " ".join(part.split())
            if part:
                words = len(norm_words(part))
                link = sum(len(norm_words(_text(n))) for n in nodes if n.tag == "a") if len(nodes) else 0
                self.pieces.append(
                    Piece(Element("paragraph", part, line, role=role), node, link_words=min(link, words), words=words)
                )

    def _paragraphs(self, node: HtmlElement, role: str) -> None:
        if _has_block(node):
            self._container(node, role)
            return
        text = _inline(node, keep_breaks=True)
        for part in re.split(r"\n\s*\n", text):
            part = " ".join(part.split())
            if part:
                self._add(Element("paragraph", part, node.sourceline or 1, role=role), node)

    def _list(self, node: HtmlElement) -> None:
        items: list[str] = []
        depths: list[int] = []
        anchors: list[bool] = []
        for li, depth in _list_items(node, 0):
            text = " ".join(_inline(li, skip_lists=True).split())
            if text:
                items.append(text)
                depths.append(depth)
                anchors.append(_is_anchor_item(li))
        if not items:
            return
        rule = "contents" if all(anchors) else None  # a list of links to the page's own headings
        element = list_element(items, node.sourceline or 1, ordered=node.tag == "ol", depths=depths, rule=rule)
        self._add(element, node)

    def _word_list_item(self, node: HtmlElement) -> None:
        """Word's list paragraphs ("MsoListParagraph") make one list while they follow each other."""
        text = " ".join(_inline(node).split())
        if not text:
            return
        depth = int(m.group(1)) - 1 if (m := re.search(r"level(\d)", node.get("style") or "")) else 0
        last = self.pieces[-1] if self.pieces else None
        if last is not None and last.element.kind == "list" and _is_word_list_paragraph(last.node) \
                and last.node.getparent() is node.getparent():
            block = last.element.block
            items = [*block.items, text]  # type: ignore[union-attr]
            old_depths = list(block.depths or (0,) * len(block.items))  # type: ignore[union-attr]
            last.element = list_element(items, last.element.line, depths=[*old_depths, depth])
            last.node = node
            last.words += len(norm_words(text))
            return
        self._add(list_element([text], node.sourceline or 1, depths=[depth]), node)

    def _table(self, node: HtmlElement) -> None:
        rows: list[list[str]] = []
        header = False
        for tr in node.iter("tr"):
            if tr.getparent() is not None and _nearest_table(tr) is not node:
                continue
            cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
            texts = [" ".join(_inline(c).split()) for c in cells]
            if not any(texts):
                continue
            if not rows:
                header = all(c.tag == "th" for c in cells) or tr.getparent().tag == "thead"
            rows.append(texts)
        caption = node.find("caption")
        if not rows:
            return
        element = table_element(rows, node.sourceline or 1, header=header and len(rows) > 1,
                                caption=_text(caption) if caption is not None else "")
        self._add(element, node)


def _has_block(node: HtmlElement) -> bool:
    return any(isinstance(d.tag, str) and d.tag in _BLOCK for d in node.iterdescendants())


def _holds_fields(node: HtmlElement) -> bool:
    """A box with input fields and little text: a form without a <form> tag (newsletter widgets)."""
    if node.find(".//form") is not None:
        return False  # the <form> inside is the form; what is around it may be anything
    fields = [f for f in node.iter("input", "textarea", "select") if (f.get("type") or "text") != "hidden"]
    return bool(fields) and len(norm_words(_text(node))) <= 80


def _inline(node: HtmlElement, *, keep_breaks: bool = False, skip_lists: bool = False) -> str:
    """The text a reader sees in this node: hidden parts, images, footnote and comment markers left out."""
    parts: list[str] = []

    def walk(n: HtmlElement) -> None:
        for child in n:
            if not isinstance(child.tag, str):
                parts.append(child.tail or "")
                continue
            if child.tag == "br":
                parts.append("\n" if keep_breaks else " ")
            elif skip_lists and child.tag in ("ul", "ol"):
                pass
            elif not (child.tag in _INVISIBLE or _is_hidden(child) or _is_marker_link(child)):
                if child.tag in _BLOCK and child.tag not in ("span",):
                    parts.append(" ")
                parts.append(child.text or "")
                walk(child)
                if child.tag in _BLOCK:
                    parts.append(" ")
            parts.append(child.tail or "")

    parts.append(node.text or "")
    walk(node)
    text = "".join(parts).replace("\xa0", " ")
    if keep_breaks:
        return "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return " ".join(text.split())


def _link_words(node: HtmlElement) -> int:
    if node.tag == "a":
        return len(norm_words(_text(node)))
    return sum(len(norm_words(_text(a))) for a in node.iter("a"))


def _list_items(node: HtmlElement, depth: int):
    """(li, depth) for every item of a list and of the lists nested in its items, in reading order."""
    for li in node:
        if not isinstance(li.tag, str) or _is_hidden(li):
            continue
        if li.tag != "li":
            if li.tag in ("ul", "ol"):
                yield from _list_items(li, depth + 1)
            continue
        yield li, depth
        for nested in li.iterdescendants("ul", "ol"):
            if next((a for a in nested.iterancestors("li")), None) is li:
                yield from _list_items(nested, depth + 1)


def _is_anchor_item(li: HtmlElement) -> bool:
    links = list(li.iter("a"))
    return len(links) == 1 and (links[0].get("href") or "").startswith("#") and _text(links[0]) == _text(li)


def _is_layout_table(node: HtmlElement) -> bool:
    """A table used to lay out a page (blocks, forms or a single column inside), not to hold data."""
    for cell in node.iter("td", "th"):
        if any(isinstance(d.tag, str) and d.tag in ("p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "form",
                                                   "input")
               for d in cell.iterdescendants()):
            if sum(1 for d in cell.iterdescendants("p", "div", "ul", "ol", "table", "input")) > 1:
                return True
    widths = {sum(1 for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")) for tr in node.iter("tr")}
    return widths <= {0, 1}


def _nearest_table(node: HtmlElement) -> HtmlElement | None:
    return next(node.iterancestors("table"), None)


def _is_word_list_paragraph(node: HtmlElement) -> bool:
    return node.tag == "p" and (
        any(c.startswith("MsoListParagraph") for c in _classes(node)) or "mso-list:" in (node.get("style") or "")
    )


def _block_texts(node: HtmlElement) -> list[str]:
    """The lines of a region (each block's own text), for showing what a dropped region held."""
    lines: list[str] = []

    def walk(n: HtmlElement) -> None:
        buffer = [n.text or ""]
        for child in n:
            if not isinstance(child.tag, str) or child.tag in _INVISIBLE or _is_hidden(child):
                buffer.append(child.tail or "")
                continue
            if child.tag in _BLOCK:
                lines.append(" ".join("".join(buffer).split()))
                buffer = []
                walk(child)
                buffer.append(child.tail or "")
            else:
                buffer.append(" " + " ".join(t for t in child.itertext() if isinstance(t, str)) + " ")
                buffer.append(child.tail or "")
        lines.append(" ".join("".join(buffer).split()))

    walk(node)
    return [line for line in lines if line]


def _box_lines(node: HtmlElement) -> list[tuple[str, int]]:
    lines = []
    for text in _block_texts(node):
        lines.append((text, node.sourceline or 1))
    return lines
