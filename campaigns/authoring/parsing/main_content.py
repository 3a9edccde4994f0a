"""Which blocks of an HTML page are the article: the content extractor's choice, then rules on top of it.

trafilatura (a maintained main-content extractor, measured best of six on the corpus: bench/results/extractors.md)
reads the page on its own; a block is in the article when trafilatura kept its words. The article's region is the
deepest element holding nearly all of what it kept: blocks outside the region, or after its last kept block, are
`outside-article`; blocks inside it that trafilatura lost between kept ones come back (the headings of some page
builders and exports, a paragraph written between <br>s). Then rules that look at a block's place and shape:

* `sibling-column`: a grid column beside the one holding the article's prose, with little prose of its own;
* `call-out` and `button` (call_outs.py): buttons, the small boxes around them, the short text written for them;
* `link-block`: a list or a short paragraph that is mostly links;
* `comment`: a block that begins with a link back to a letter or initials marker in the text (a document's
  comments); one that links back to a number is a footnote, kept as small print (the article's sources);
* `post-info`: short lines between the title and the first paragraph (by-line, dates, a draft's review note);
* `after-body`: what a page puts after the author's box (more posts, related reading).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from lxml import etree
from lxml.html import HtmlElement

from campaigns.authoring.parsing.assemble import CONTENT, Element, is_author_bio
from campaigns.authoring.parsing.call_outs import drop_call_outs
from campaigns.authoring.parsing.html_page import Page, Piece, inside, norm_words

REGION_SHARE = 0.9  # the article's region holds this share of what the extractor kept
PROSE_SENTENCE_WORDS = 10  # a sentence this long is prose, not a label
LEAD_ZONE_WORDS = 20  # shorter lines between the title and the first paragraph may be a by-line
# A grid column with its width (Bootstrap "col-lg-4", Elementor "elementor-col-33", WPBakery "vc_col-sm-4", Divi
# "et_pb_column_1_3", Avada "fusion-one-third"), or a sidebar by name.
_COLUMN_CLASS = re.compile(
    r"(?:^|[-_])col(?:umn)?-(?:(?:xs|sm|md|lg|xl|xxl)-)?\d{1,3}$|(?:^|[-_])column_\d_\d$|"
    r"(?:^|[-_])(one|two|three)-(half|third|thirds|fourth|fourths|quarter|quarters|fifth)$|(?:^|[-_])sidebar(?:$|[-_])",
    re.I,
)


def select_article(source: str, pieces: list[Piece], title_node: HtmlElement | None) -> list[Element]:
    """The page's elements with everything that is not the article dropped, each by its rule."""
    page = Page.of(pieces)
    extracted = extracted_words(source)
    region = None
    if extracted is not None:
        _mark_extracted(pieces, *extracted)
        region = _region(pieces)
    if region is not None:
        _outside_region(pieces, region)
    else:
        _outside_fallback_region(pieces)
    _sibling_columns(pieces)
    drop_call_outs(page, region)
    _link_blocks(pieces)
    _comments_and_footnotes(pieces)
    _lead_zone(pieces)
    _after_the_bio(pieces)
    return [p.element for p in pieces]


def extracted_words(source: str) -> tuple[set[str], str] | None:
    """What trafilatura keeps of the page: each of its blocks as words, and all of them joined; None when it
    finds no article."""
    import trafilatura

    xml = trafilatura.extract(
        source,
        output_format="xml",
        include_comments=False,
        favor_recall=True,  # measured: more of the body kept; the rules here take out what it lets through
        include_tables=True,
        include_images=True,  # figure captions
        include_formatting=True,  # keeps superscript markers apart from the word before them
        include_links=False,
        with_metadata=False,  # the title is the page's own (html_page.find_title)
        deduplicate=False,
    )
    if not xml:
        return None
    try:
        doc = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    blocks: set[str] = set()
    for node in doc.iter("p", "head", "item", "cell", "quote", "list", "row", "graphic"):
        if text := " ".join(norm_words(" ".join(node.itertext()) + " " + (node.get("title") or ""))):
            blocks.add(text)
    return blocks, " | ".join(sorted(blocks, key=len))


def _mark_extracted(pieces: list[Piece], blocks: set[str], joined: str) -> None:
    """A piece is extracted when most of its texts (a list's items, a table's cells) are among the extractor's."""
    padded = f" {joined} "
    for p in pieces:
        if p.element.kind not in (*CONTENT, "heading", "title"):
            continue
        found = [_found(" ".join(norm_words(t)), blocks, padded) for t in p.element.texts]
        known = [f for f in found if f is not None]
        p.extracted = bool(known) and sum(known) * 2 >= len(known)


def _found(words: str, blocks: set[str], padded: str) -> bool | None:
    if not words:
        return None
    return words in blocks or (len(words.split()) >= 4 and f" {words} " in padded)


def _deepest_holding(pieces: list[Piece], share: float) -> HtmlElement | None:
    """The deepest element holding `share` of the pieces' words."""
    held: dict[HtmlElement, int] = defaultdict(int)
    depth: dict[HtmlElement, int] = {}
    total = 0
    for p in pieces:
        words = max(1, p.words)
        total += words
        chain = [p.node, *p.node.iterancestors()]
        for d, node in enumerate(reversed(chain)):
            held[node] += words
            depth[node] = d
    candidates = [n for n, w in held.items() if total and w >= share * total]
    return max(candidates, key=lambda n: depth[n]) if candidates else None


def _region(pieces: list[Piece]) -> HtmlElement | None:
    return _deepest_holding([p for p in pieces if p.extracted and p.element.kept], REGION_SHARE)


def _outside_region(pieces: list[Piece], region: HtmlElement) -> None:
    """Blocks outside the region, and the region's blocks after its last extracted one, are not the article; an
    author's note written under the article in the third person is its bio."""
    extracted = [i for i, p in enumerate(pieces) if p.extracted and inside(p.node, region)]
    last = extracted[-1] if extracted else len(pieces)
    has_bio = any(p.element.kind == "bio" for p in pieces)
    for i, p in enumerate(pieces):
        e = p.element
        if not e.kept or e.kind in ("title", "bio"):
            continue
        if inside(p.node, region) and (i <= last or p.extracted):
            continue
        if i > last and e.kind == "paragraph" and not has_bio and is_author_bio(e.text):
            p.element = replace(e, kind="bio")
            has_bio = True
        else:
            p.element = e.drop("outside-article")


def _outside_fallback_region(pieces: list[Piece]) -> None:
    """Without the extractor's answer: the page's <article> or <main> when it holds half the text, else the
    deepest element holding most of it."""
    content = [p for p in pieces if p.element.kept and p.element.kind in CONTENT]
    if not content:
        return
    total = sum(p.words for p in content)
    tagged = [
        n
        for n in {a for p in content for a in p.node.iterancestors("article", "main")}
        if sum(p.words for p in content if inside(p.node, n)) * 2 >= total
    ]
    region = tagged[0] if tagged else _deepest_holding(content, 0.8)
    if region is None:
        return
    for p in pieces:
        if p.element.kept and p.element.kind not in ("title", "bio") and not inside(p.node, region):
            p.element = p.element.drop("outside-article")


def _sibling_columns(pieces: list[Piece]) -> None:
    """A grid column beside a column that holds more of the article's prose, with little prose of its own: a call
    box, a topic list or recent posts placed next to the text."""
    columns: dict[HtmlElement, list[Piece]] = defaultdict(list)
    for p in pieces:
        if p.element.kind in ("title", "bio"):
            continue
        for a in p.node.iterancestors():
            if any(_COLUMN_CLASS.search(c) for c in (a.get("class") or "").split()):
                columns[a].append(p)
    prose = {c: prose_words(members) for c, members in columns.items()}
    for column, members in columns.items():
        parent = column.getparent()
        if parent is None or is_prose(members):
            continue
        siblings = [c for c in parent if c is not column and c in columns]
        if any(prose[c] > prose[column] and is_prose(columns[c]) for c in siblings):
            for p in members:
                if p.element.kept:
                    p.element = p.element.drop("sibling-column")


def prose_words(pieces: list[Piece]) -> int:
    """Words of the pieces in sentences of PROSE_SENTENCE_WORDS words or more."""
    return sum(
        len(norm_words(s))
        for p in pieces
        if p.element.kind in CONTENT
        for t in p.element.texts
        for s in re.split(r"(?<=[.!?])\s+", t)
        if len(norm_words(s)) >= PROSE_SENTENCE_WORDS and s.rstrip().endswith((".", "!", "?", ":"))
    )


def is_prose(pieces: list[Piece]) -> bool:
    """Half or more of the words are in sentences."""
    total = sum(p.words for p in pieces if p.element.kind in CONTENT)
    return total > 0 and prose_words(pieces) * 2 >= total


def _link_blocks(pieces: list[Piece]) -> None:
    """Lists of short items that are mostly links, and short paragraphs that are mostly links: menus, post lists."""
    for p in pieces:
        e = p.element
        if not e.kept or not p.words or e.kind not in ("list", "paragraph"):
            continue
        share = p.link_words / p.words
        short_items = all(len(t.split()) <= 12 for t in e.texts)
        if (e.kind == "list" and share >= 0.6 and short_items) or (
            e.kind == "paragraph" and share >= 0.7 and p.words <= 20
        ):
            p.element = e.drop("link-block")


def _comments_and_footnotes(pieces: list[Piece]) -> None:
    """A block that starts with a link back to its marker in the text is a note: a footnote when the marker is a
    number (the article's sources: kept, in small print), a comment for the document's authors when it is a letter
    or initials ("[a]", "[LM1]")."""
    for p in pieces:
        e = p.element
        if not e.kept or e.kind not in CONTENT:
            continue
        first = next(p.node.iter("a"), None)
        if first is None or not (first.get("href") or "").startswith("#") or not _leads(p.node, first):
            continue
        marker = " ".join(" ".join(first.itertext()).split())
        if re.fullmatch(r"\[?(\d{1,3}|[*†‡])\]?", marker) and e.kind == "paragraph":
            p.element = replace(e, role="caption")
        elif re.fullmatch(r"\[?([a-z]{1,2}|[A-Z]{1,3}\d{1,3})\]?", marker):
            p.element = e.drop("comment")


def _leads(node: HtmlElement, link: HtmlElement) -> bool:
    """Does `link` come before any text of `node`?"""
    for item in node.iter():
        if item is link or (item is not node and any(a is link for a in item.iterancestors())):
            return True
        if (item.text or "").strip():
            return False
    return False


def _lead_zone(pieces: list[Piece]) -> None:
    """Short lines that are not sentences, between the title and the body's first paragraph: by-line, dates, a
    subtitle naming the draft or its review."""
    title = next((i for i, p in enumerate(pieces) if p.element.kind == "title" and p.element.kept), None)
    if title is None:
        return
    for p in pieces[title + 1 :]:
        e = p.element
        if not e.kept:
            continue
        if e.kind != "paragraph" or p.words >= LEAD_ZONE_WORDS:
            break
        if not e.text.rstrip().endswith((".", "!", "?", ":")) or e.text.count(".") >= 2:
            p.element = e.drop("post-info")


def _after_the_bio(pieces: list[Piece]) -> None:
    """The author's box closes the article: what a page puts after it (related posts, more from the blog) is not
    the article, when the box comes after nearly all of the article's words."""
    bio = [i for i, p in enumerate(pieces) if p.element.kind == "bio"]
    if not bio:
        return
    words = [p.words if p.element.kept and p.element.kind in CONTENT else 0 for p in pieces]
    if not sum(words) or sum(words[: bio[0]]) < 0.8 * sum(words):
        return
    for p in pieces[bio[-1] + 1 :]:
        if p.element.kept and p.element.kind != "bio":
            p.element = p.element.drop("after-body")
