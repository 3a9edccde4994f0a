"""HTML pages (read with BeautifulSoup's html.parser): the article body without the site's chrome.

The body is the page's <article>, else its <main>, else the smallest element holding most of the paragraph text.
Navigation, sidebars, share bars, category and tag lists, comment areas and the like are removed by tag and by what
their class or id says; an author box becomes the author's bio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from campaigns.authoring.article import Article
from campaigns.authoring.parsing.assemble import Element, assemble_article
from campaigns.errors import ArticleError

_CHROME_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
    "button",
    "select",
    "input",
    "nav",
    "aside",
    "footer",
    "header",
]
# Class or id words that mark page chrome (WordPress, Elementor, Yoast, Jetpack and hand-made themes alike).
_CHROME_CLASS = re.compile(
    r"(?:^|[-_])(share|shares|sharing|sharedaddy|social|sidebar|related|category|categories|cat-links|tags|"
    r"tag-links|tagcloud|toc|ez-toc|table-of-contents|breadcrumb|breadcrumbs|comment|comments|respond|widget|"
    r"widgets|menu|newsletter|subscribe|signup|author-box-meta|meta|byline|post-meta|entry-meta|nav|navigation|"
    r"pagination|cookie|cookies|popup|modal|advert|advertisement|ads|banner|skip-link|screen-reader-text)"
    r"(?:$|[-_])",
    re.I,
)
# WordPress labels the post itself (and <body>) with its taxonomy: "category-opioids", "tag-naloxone".
_TAXONOMY_CLASS = re.compile(r"^(category|tag|post_tag|format)-(?!links$|list$|cloud$)[\w-]+$", re.I)
_AUTHOR_CLASS = re.compile(
    r"(?:^|[-_])(author-?box|author-?bio|author-?info|author-?card|about-?(the-)?author|"
    r"author-?description|saboxplugin-wrap|post-author|entry-author)(?:$|[-_])",
    re.I,
)
_INLINE = {
    "a",
    "abbr",
    "b",
    "strong",
    "em",
    "i",
    "u",
    "span",
    "small",
    "sup",
    "sub",
    "mark",
    "code",
    "cite",
    "q",
    "time",
    "s",
    "del",
    "ins",
    "font",
    "label",
    "bdi",
    "bdo",
    "kbd",
    "var",
    "dfn",
    "data",
    "wbr",
    "br",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SKIP = {"img", "picture", "video", "audio", "source", "canvas", "map", "object", "embed", "hr", "link", "meta"}
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]+$")  # "Kratom Withdrawal | Agape Detox" -> "Kratom Withdrawal"


def html_elements(source: str) -> list[Element]:
    """The article body's title, headings, paragraphs and list items, then the author box's bio."""
    soup = BeautifulSoup(source, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    bio = _take_author_boxes(soup)
    header_titles = [h for header in soup.find_all("header") for h in header.find_all("h1")]
    header_title = (_text(header_titles[0]), header_titles[0].sourceline) if header_titles else None
    page_title = _TITLE_SUFFIX.sub("", _text(soup.title)) if soup.title else ""
    _remove_chrome(soup)
    root = _article_root(soup)
    elements = _Walker().walk(root)
    if not any(e.kind == "title" for e in elements):
        outside = soup.find("h1")
        if outside is not None:
            elements.insert(0, Element("title", _text(outside), outside.sourceline or 1, level=1))
        elif header_title:
            elements.insert(0, Element("title", header_title[0], header_title[1] or 1, level=1))
        elif page_title:
            line = (soup.title.sourceline if soup.title else None) or 1
            elements.insert(0, Element("title", page_title, line, level=1))
    return elements + bio


def parse_html(source: str, path: Path) -> Article:
    """The Article in an HTML page; a page with no readable body is an ArticleError."""
    elements = html_elements(source)
    if not any(e.kind in ("paragraph", "item") for e in elements):
        soup = BeautifulSoup(source, "html.parser")
        line = soup.body.sourceline if soup.body and soup.body.sourceline else 1
        raise ArticleError(path, line, "no article content in this HTML page (no paragraphs or lists found)")
    return assemble_article(elements, path)


def html_fragment_text(fragment: str) -> str:
    """The readable text of an HTML fragment (a raw block inside Markdown), chrome and comments removed."""
    soup = BeautifulSoup(fragment, "html.parser")
    _remove_chrome(soup)
    return _text(soup)


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text().split()) if node is not None else ""


def _class_words(node: Tag) -> list[str]:
    classes: Iterable[str] = node.get("class") or []  # bs4 gives "class" as a list
    ident = node.get("id")
    return [*classes, *([str(ident)] if ident else [])]


def _is_chrome(node: Tag) -> bool:
    if node.name in ("html", "body"):
        return False
    return any(_CHROME_CLASS.search(word) and not _TAXONOMY_CLASS.match(word) for word in _class_words(node))


def _paragraph_chars(node: Tag) -> int:
    return sum(len(_text(p)) for p in node.find_all("p"))


def _take_author_boxes(soup: BeautifulSoup) -> list[Element]:
    """Author boxes become bio elements (their paragraphs, meta and social links left out) and leave the page."""
    bio: list[Element] = []
    boxes = [
        t
        for t in soup.find_all(True)
        if any(_AUTHOR_CLASS.search(w) for w in _class_words(t)) and t.name not in ("html", "body", "article", "main")
    ]
    box_ids = {id(b) for b in boxes}
    for box in boxes:
        if box.decomposed or any(id(parent) in box_ids for parent in box.parents):
            continue
        for chrome in [t for t in box.find_all(True) if _is_chrome(t)]:
            if not chrome.decomposed:
                chrome.decompose()
        paragraphs = box.find_all("p") or [box]
        for p in paragraphs:
            text = _text(p)
            # A name, a job title or "View all posts" under the box's photo is not the bio.
            if len(text.split()) >= 8:
                bio.append(Element("bio", text, p.sourceline or box.sourceline or 1))
        box.decompose()
    return bio


def _remove_chrome(soup: BeautifulSoup) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    total = _paragraph_chars(soup)
    for tag in soup.find_all(_CHROME_TAGS):
        # ASP.NET WebForms pages wrap the whole page, article included, in one <form>.
        if tag.name == "form" and _paragraph_chars(tag) * 2 > total:
            continue
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(True):
        if not tag.decomposed and _is_chrome(tag):
            tag.decompose()


def _article_root(soup: BeautifulSoup) -> Tag:
    articles = [a for a in soup.find_all("article") if _paragraph_chars(a)]
    if articles:
        return max(articles, key=_paragraph_chars)
    main = soup.find("main")
    if main is not None and _paragraph_chars(main):
        return main
    # The smallest element that still holds most (80 %) of the paragraph text.
    node: Tag = soup.body or soup
    total = _paragraph_chars(node)
    while total:
        child = next((c for c in node.find_all(True, recursive=False) if _paragraph_chars(c) * 5 >= total * 4), None)
        if child is None or child.name == "p":
            return node
        node = child
    return node  # no paragraphs at all: read the whole body


class _Walker:
    """Turns the body's block structure into elements, in document order."""

    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.group = 0

    def walk(self, root: Tag) -> list[Element]:
        self._container(root)
        return self.elements

    def _container(self, node: Tag) -> None:
        run: list[str] = []  # inline content between blocks (text directly inside a div)
        run_line = node.sourceline or 1
        for child in node.children:
            if isinstance(child, NavigableString) or (isinstance(child, Tag) and child.name in _INLINE):
                if isinstance(child, Tag) and not run:
                    run_line = child.sourceline or run_line
                run.append(child.get_text() if isinstance(child, Tag) else str(child))
                continue
            self._flush(run, run_line)
            run = []
            if isinstance(child, Tag):
                self._block(child)
        self._flush(run, run_line)

    def _flush(self, run: list[str], line: int) -> None:
        text = " ".join("".join(run).split())
        if text:
            self.elements.append(Element("paragraph", text, line))

    def _block(self, node: Tag) -> None:
        line = node.sourceline or 1
        if node.name in _SKIP:
            return
        if node.name in _HEADINGS:
            level = _HEADINGS[node.name]
            self.elements.append(Element("title" if level == 1 else "heading", _text(node), line, level=level))
        elif node.name == "p":
            self._flush([node.get_text()], line)
        elif node.name in ("ul", "ol"):
            self._list(node)
        elif node.name == "tr":
            cells = [_text(c) for c in node.find_all(["td", "th"], recursive=False)]
            if any(cells):
                self.elements.append(Element("paragraph", " | ".join(cells), line))
        else:
            self._container(node)

    def _list(self, node: Tag) -> None:
        items = node.find_all("li")  # nested items join their parent's list: a list is never split
        # A list of links to the page's own headings is a contents box.
        if items and all(_is_anchor_link(li) for li in items):
            return
        self.group += 1
        for li in items:
            own = li.__copy__()
            for nested in own.find_all(["ul", "ol"]):
                nested.decompose()
            text = _text(own)
            if text:
                self.elements.append(Element("item", text, li.sourceline or node.sourceline or 1, group=self.group))


def _is_anchor_link(li: Tag) -> bool:
    links = li.find_all("a")
    return len(links) == 1 and str(links[0].get("href", "")).startswith("#") and _text(links[0]) == _text(li)
