"""HTML pages: every block of the page in reading order, then the article picked out of them.

The page is walked once into blocks (headings, paragraphs, lists, tables, captions, quotes) that keep their node, so
the rules after the walk can look at where a block sits and what it is made of. Whole regions that are never the
article (navigation, the site's header and footer, sidebars, forms, dialogs, boxes the page names as furniture)
become one dropped block each; an author box becomes the bio. Which of the rest is the article is decided by the
content extractor and the rules on top of it (main_content.py, call_outs.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from campaigns.authoring.article import Article, BulletList, ParagraphRole
from campaigns.authoring.parsing.assemble import Element, assemble_article, list_element, table_element
from campaigns.authoring.parsing.html_page import (
    BLOCK,
    HEADINGS,
    INVISIBLE,
    Piece,
    classes,
    find_title,
    is_hidden,
    is_marker,
    load,
    meta_title,
    norm_words,
    paragraph_words,
    region_lines,
    text_of,
    visible_text,
)
from campaigns.authoring.parsing.main_content import select_article
from campaigns.errors import ArticleError

_CHROME_ROLES = frozenset(
    [
        "navigation",
        "banner",
        "contentinfo",
        "complementary",
        "search",
        "dialog",
        "alertdialog",
        "menu",
        "menubar",
        "toolbar",
    ]
)
# Class or id words that name page furniture (WordPress, Elementor, Drupal, Ghost, Squarespace, hand-made themes).
_CHROME_CLASS = re.compile(
    r"(?:^|[-_])(share|shares|sharing|sharedaddy|social|sidebar|related|category|categories|cat-links|tags|"
    r"tag-links|tagcloud|toc|ez-toc|lwptoc|table-of-contents|breadcrumb|breadcrumbs|comment|comments|respond|"
    r"menu|newsletter|subscribe|signup|meta|byline|post-meta|entry-meta|nav|navigation|pagination|"
    r"pager|cookie|cookies|consent|gdpr|popup|modal|advert|advertisement|ads|banner|skip-link|screen-reader-text|"
    r"sr-only|visually-hidden)(?:$|[-_])",
    re.I,
)
# The rule a furniture class word stands for; the rest are "named-chrome".
_CLASS_RULE = {
    **dict.fromkeys(("share", "shares", "sharing", "sharedaddy", "social"), "share-bar"),
    **dict.fromkeys(("toc", "ez-toc", "lwptoc", "table-of-contents"), "contents"),
    **dict.fromkeys(("breadcrumb", "breadcrumbs"), "breadcrumb"),
    **dict.fromkeys(("newsletter", "subscribe", "signup"), "form"),
    **dict.fromkeys(("meta", "byline", "post-meta", "entry-meta"), "post-info"),
    **dict.fromkeys(("sr-only", "screen-reader-text", "visually-hidden", "skip-link"), "page-chrome"),
    "related": "related",
    "sidebar": "sibling-column",
}
# WordPress labels the post itself (and <body>) with its taxonomy: "category-opioids", "tag-naloxone".
_TAXONOMY_CLASS = re.compile(r"^(category|tag|post_tag|format)-(?!links$|list$|cloud$)[\w-]+$", re.I)
_AUTHOR_CLASS = re.compile(
    r"(?:^|[-_])(author-?box|author-?bio|author-?biography|author-?note|author-?info|author-?card|"
    r"about-?(the-)?author|author-?description|saboxplugin-wrap|post-author|entry-author)(?:$|[-_])",
    re.I,
)
_PARAGRAPH_TAGS = frozenset(["p", "pre", "dt", "dd", "address", "li", "td", "th", "label", "legend", "button"])
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")  # <br><br> between two paragraphs


def page_pieces(root: HtmlElement) -> tuple[list[Piece], HtmlElement | None]:
    """Every block of the page in reading order, and the node that holds the title (None when the title comes
    from the page's metadata, given as a first piece of its own)."""
    title_node = find_title(root)
    walker = _Walker(title_node, paragraph_words(root))
    body = root.find("body")
    walker.visit(body if body is not None else root)
    if title_node is None and (title := meta_title(root)):
        walker.pieces.insert(0, Piece(Element("title", title, 1, level=1), root))
    return walker.pieces, title_node


def parse_html(source: str, path: Path, overrides: dict[str, bool] | None = None) -> Article:
    """The Article in an HTML page; a page with no readable body is an ArticleError."""
    root = load(source, path)
    pieces, title_node = page_pieces(root)
    if not any(p.element.kind in ("paragraph", "list", "table") and p.element.kept for p in pieces):
        body = root.find("body")
        line = body.sourceline if body is not None and body.sourceline else 1
        raise ArticleError(path, line, "no article content in this HTML page (no paragraphs or lists found)")
    elements = select_article(source, pieces, title_node)
    return assemble_article(elements, path, overrides=overrides)


def fragment_elements(fragment: str, line: int) -> list[Element]:
    """The blocks of an HTML fragment inside another format (a raw block in Markdown), furniture dropped; their
    lines counted from `line`."""
    try:
        nodes = lxml.html.fragments_fromstring(fragment)
    except (etree.ParserError, ValueError):
        return []
    walker = _Walker(None, 0)
    for node in nodes:
        if isinstance(node, str):
            if text := " ".join(node.split()):
                walker.pieces.append(Piece(Element("paragraph", text, 1), lxml.html.Element("p")))
        elif isinstance(node.tag, str):
            walker.visit(node)
    out = []
    for p in walker.pieces:
        e = p.element
        out.append(Element(e.kind, e.text, line + e.line - 1, e.level, e.role, e.block, e.rule))
    return out


class _Walker:
    """Walks a page in reading order into pieces."""

    def __init__(self, title_node: HtmlElement | None, page_words: int) -> None:
        self.title_node = title_node
        self.page_words = page_words
        self.pieces: list[Piece] = []
        self.last_level = 1
        self.section_level: int | None = None  # the level of the last heading that is not a tab's title
        self.toggle_levels: dict[HtmlElement, int] = {}

    def visit(self, node: HtmlElement, role: ParagraphRole = "text") -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in INVISIBLE or is_hidden(node):
            return
        if tag not in ("html", "body", "article", "main") and any(_AUTHOR_CLASS.search(c) for c in classes(node)):
            self._author_box(node)
            return
        if rule := self._region_rule(node):
            self._region(node, rule)
            return
        line = node.sourceline or 1
        if node is self.title_node:
            self._add(Element("title", visible_text(node), line, level=1), node)
        elif tag in HEADINGS and _is_toggle(node):
            # A tab's or an accordion's title (a heading that is all one link to its own panel) heads the panel
            # under it, whatever its tag: a section of the article where no section has started yet.
            widget = _toggle_widget(node)
            if widget not in self.toggle_levels:  # the tabs of one widget are siblings
                self.toggle_levels[widget] = 2 if self.section_level is None else self.section_level + 1
            self._add(Element("heading", visible_text(node), line, level=self.toggle_levels[widget]), node)
        elif tag in HEADINGS:
            self.last_level = self.section_level = HEADINGS[tag]
            self._add(Element("heading", visible_text(node), line, level=HEADINGS[tag]), node)
        elif tag == "summary":  # the question of a <details> FAQ entry
            self._add(Element("heading", visible_text(node), line, level=min(6, self.last_level + 1)), node)
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
        elif tag in _PARAGRAPH_TAGS:
            self._paragraphs(node, role)
        else:
            self._container(node, role)

    # Regions that are never the article ---------------------------------------------------------------------------

    def _region_rule(self, node: HtmlElement) -> str | None:
        """The rule under which this whole region is never the article, or None."""
        tag = node.tag
        if tag in ("html", "body") or node is self.title_node:
            return None
        holds_title = self.title_node is not None and any(a is node for a in self.title_node.iterancestors())
        rule = None
        if (
            tag in ("nav", "aside", "dialog")
            or (node.get("role") or "") in _CHROME_ROLES
            or (tag in ("header", "footer") and not holds_title)
        ):
            rule = "page-chrome"
        elif tag == "form" or (tag in ("div", "section", "fieldset") and _holds_fields(node)):
            rule = "form"
        elif (node.get("style") or "").replace(" ", "").lower().startswith("mso-element:comment"):
            rule = "comment"  # Word's list of the document's comments
        else:
            # A heading's or paragraph's id is often its own words ("plan-for-social-situations"): classes only.
            words = (node.get("class") or "").split() if tag in HEADINGS or tag == "p" else classes(node)
            for word in words:
                m = _CHROME_CLASS.search(word)
                if m and not _TAXONOMY_CLASS.match(word):
                    rule = _CLASS_RULE.get(m.group(1).lower(), "named-chrome")
                    break
        if rule and (holds_title or self._wraps_the_article(node)):
            return None  # a wrapper named "content-with-sidebar", or a page-wide <form> (ASP.NET)
        return rule

    def _wraps_the_article(self, node: HtmlElement) -> bool:
        """Holds most of the page's text as headings and paragraphs: a wrapper, not a box that is all there is."""
        if self.page_words <= 0 or paragraph_words(node) * 2 <= self.page_words:
            return False
        return next(node.iter("h1", "h2", "h3"), None) is not None or sum(1 for _ in node.iter("p")) >= 3

    def _region(self, node: HtmlElement, rule: str) -> None:
        text = " · ".join(region_lines(node))
        if text:
            self.pieces.append(Piece(Element("paragraph", text[:2000], node.sourceline or 1, rule=rule), node))
        for box in node.iterdescendants():  # an author box inside a footer or a share area is still the bio
            if isinstance(box.tag, str) and any(_AUTHOR_CLASS.search(c) for c in classes(box)):
                self._author_box(box)
                break

    def _author_box(self, node: HtmlElement) -> None:
        """The box's sentences (eight words or more) are the bio; its label, name, job title and links are not."""
        line = node.sourceline or 1
        for text in region_lines(node):
            if len(text.split()) >= 8 and text.rstrip(" ”\"'").endswith((".", "!", "?")):
                self.pieces.append(Piece(Element("bio", text, line), node))
            else:
                self.pieces.append(Piece(Element("paragraph", text, line, rule="author-box"), node))

    # Blocks -----------------------------------------------------------------------------------------------------

    def _add(self, element: Element, node: HtmlElement, link_words: int | None = None) -> None:
        if not element.text.strip():
            return
        words = len(norm_words(element.text))
        links = _link_words([node]) if link_words is None else link_words
        self.pieces.append(Piece(element, node, words=words, link_words=min(words, links)))

    def _container(self, node: HtmlElement, role: ParagraphRole) -> None:
        """Children in order; runs of inline content between block children are paragraphs."""
        run: list[str] = [node.text or ""]
        run_nodes: list[HtmlElement] = []
        line = node.sourceline or 1
        for child in node:
            if not isinstance(child.tag, str):
                run.append(child.tail or "")
            elif child.tag in BLOCK or (child.tag in ("a", "span", "font") and _has_block(child)):
                self._flush(run, run_nodes, node, line, role)
                self.visit(child, role)
                run, run_nodes, line = [child.tail or ""], [], child.sourceline or line
            else:
                if child.tag == "br":
                    run.append("\n")
                elif not (is_hidden(child) or child.tag in INVISIBLE or is_marker(child)):
                    run.append(visible_text(child, keep_breaks=True))
                    run_nodes.append(child)
                run.append(child.tail or "")
        self._flush(run, run_nodes, node, line, role)

    def _flush(
        self, run: list[str], nodes: list[HtmlElement], node: HtmlElement, line: int, role: ParagraphRole
    ) -> None:
        links = _link_words(nodes)
        text = "".join(run)
        if len(nodes) == 1 and _is_bold_label(nodes[0], text):
            self._run_in_heading(" ".join(text.split()), node, line)
            return
        for part in _PARAGRAPH_BREAK.split(text):
            if part := " ".join(part.split()):
                self._add(Element("paragraph", part, line, role=role), node, link_words=links)

    def _paragraphs(self, node: HtmlElement, role: ParagraphRole) -> None:
        if _has_block(node):
            self._container(node, role)
            return
        text = visible_text(node, keep_breaks=True)
        bold = [c for c in node if isinstance(c.tag, str) and not is_hidden(c)]
        if node.tag == "p" and len(bold) == 1 and _is_bold_label(bold[0], text):
            self._run_in_heading(" ".join(text.split()), node, node.sourceline or 1)
            return
        for part in _PARAGRAPH_BREAK.split(text):
            if part := " ".join(part.split()):
                self._add(Element("paragraph", part, node.sourceline or 1, role=role), node)

    def _run_in_heading(self, text: str, node: HtmlElement, line: int) -> None:
        """A short bold line on its own ("<p><strong>Is relapse a sign …?</strong></p>", an FAQ block's question)
        is a heading one level under the last one; whether it has a body under it is decided later."""
        self._add(Element("heading", text, line, level=min(6, self.last_level + 1)), node)

    def _list(self, node: HtmlElement) -> None:
        items: list[str] = []
        depths: list[int] = []
        anchors: list[bool] = []
        for li, depth in _list_items(node, 0):
            if text := " ".join(visible_text(li, skip_lists=True).split()):
                items.append(text)
                depths.append(depth)
                anchors.append(_is_anchor_item(li))
        if items:
            rule = "contents" if all(anchors) else None  # a list of links to the page's own headings
            self._add(
                list_element(items, node.sourceline or 1, ordered=node.tag == "ol", depths=depths, rule=rule), node
            )

    def _word_list_item(self, node: HtmlElement) -> None:
        """Word's list paragraphs ("MsoListParagraph") make one list while they follow each other."""
        text = " ".join(visible_text(node).split())
        if not text:
            return
        depth = int(m.group(1)) - 1 if (m := re.search(r"level(\d)", node.get("style") or "")) else 0
        last = self.pieces[-1] if self.pieces else None
        if (
            last is not None
            and isinstance(last.element.block, BulletList)
            and _is_word_list_paragraph(last.node)
            and last.node.getparent() is node.getparent()
        ):
            block = last.element.block
            depths = [*(block.depths or (0,) * len(block.items)), depth]
            last.element = list_element([*block.items, text], last.element.line, depths=depths)
            last.node = node
            last.words += len(norm_words(text))
            return
        self._add(list_element([text], node.sourceline or 1, depths=[depth]), node)

    def _table(self, node: HtmlElement) -> None:
        rows: list[list[str]] = []
        header = False
        for tr in node.iter("tr"):
            if next(tr.iterancestors("table"), None) is not node:
                continue  # a row of a table inside this one
            cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
            texts = [" ".join(visible_text(c).split()) for c in cells]
            if not any(texts):
                continue
            if not rows:
                parent = tr.getparent()
                header = all(c.tag == "th" for c in cells) or (parent is not None and parent.tag == "thead")
            rows.append(texts)
        if rows:
            caption = text_of(node.find("caption"))
            self._add(table_element(rows, node.sourceline or 1, header=header and len(rows) > 1, caption=caption), node)


def _is_bold_label(bold: HtmlElement, text: str) -> bool:
    """Is `text` all inside the one <strong>/<b>, short and not a sentence (no final period)?"""
    if bold.tag not in ("strong", "b") or next(bold.iter("a"), None) is not None:
        return False
    words = " ".join(text.split())
    return (
        words == " ".join(visible_text(bold).split())
        and 0 < len(words.split()) <= 12
        and not words.endswith((".", ",", ";", ":"))
    )


def _is_toggle(heading: HtmlElement) -> bool:
    links = list(heading.iter("a"))
    return len(links) == 1 and (links[0].get("href") or "").startswith("#") and text_of(links[0]) == text_of(heading)


def _toggle_widget(heading: HtmlElement) -> HtmlElement:
    """The nearest element holding this and another tab's title: the tabs or accordion widget."""
    for a in heading.iterancestors():
        if sum(1 for h in a.iter("h1", "h2", "h3", "h4", "h5", "h6") if _is_toggle(h)) > 1:
            return a
    return heading


def _has_block(node: HtmlElement) -> bool:
    return any(isinstance(d.tag, str) and d.tag in BLOCK for d in node.iterdescendants())


def _holds_fields(node: HtmlElement) -> bool:
    """A box with input fields and little text: a form without a <form> tag (newsletter widgets)."""
    if node.find(".//form") is not None:
        return False  # the <form> inside is the form; what is around it may be anything
    fields = [f for f in node.iter("input", "textarea", "select") if (f.get("type") or "text") != "hidden"]
    return bool(fields) and len(norm_words(text_of(node))) <= 80


def _link_words(nodes: list[HtmlElement]) -> int:
    links = [a for n in nodes for a in ([n] if n.tag == "a" else n.iter("a"))]
    return sum(len(norm_words(text_of(a))) for a in links)


def _list_items(node: HtmlElement, depth: int) -> Iterator[tuple[HtmlElement, int]]:
    """(li, depth) for every item of a list and of the lists nested in its items, in reading order."""
    for li in node:
        if not isinstance(li.tag, str) or is_hidden(li):
            continue
        if li.tag in ("ul", "ol"):
            yield from _list_items(li, depth + 1)
        elif li.tag == "li":
            yield li, depth
            for nested in li.iterdescendants("ul", "ol"):
                if next(nested.iterancestors("li"), None) is li:
                    yield from _list_items(nested, depth + 1)


def _is_anchor_item(li: HtmlElement) -> bool:
    links = list(li.iter("a"))
    return len(links) == 1 and (links[0].get("href") or "").startswith("#") and text_of(links[0]) == text_of(li)


def _is_layout_table(node: HtmlElement) -> bool:
    """A table used to lay out a page (blocks or forms in its cells, or a single column), not to hold data."""
    for cell in node.iter("td", "th"):
        if sum(1 for _ in cell.iterdescendants("p", "div", "ul", "ol", "table", "input", "form", "h2", "h3")) > 1:
            return True
    widths = {sum(1 for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")) for tr in node.iter("tr")}
    return widths <= {0, 1}


def _is_word_list_paragraph(node: HtmlElement) -> bool:
    return node.tag == "p" and (
        any(c.startswith("MsoListParagraph") for c in classes(node)) or "mso-list:" in (node.get("style") or "")
    )
