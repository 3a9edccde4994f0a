"""Which blocks of an HTML page are the article: the content extractor's choice, then structural rules on top.

trafilatura (a maintained main-content extractor, measured best on the corpus: bench/results/extractors.md) reads
the page on its own; a block of ours is in the article when trafilatura kept its words. The article's region is the
smallest element holding nearly all of what it kept: blocks outside it, or after its last kept block, are
`outside-article`; blocks inside it that trafilatura lost between kept ones (headings of some page builders, a
paragraph written between <br>s) come back. Then rules that look at a block's shape and place:

* `sibling-column`: a branch beside the body's own column that holds little prose (call box, topic list);
* `call-out`: a small box around a button or phone link (text, a heading, the button);
* `button`: a line that is only a button's label;
* `link-block`: a list or short paragraph that is mostly links;
* `post-info`: short lines between the title and the first paragraph (by-line, dates, review notes);
* `notes`: blocks that begin with a link back to their marker in the text (footnotes, document comments).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from lxml import etree
from lxml.html import HtmlElement

from campaigns.authoring.parsing.assemble import Element, is_author_bio
from campaigns.authoring.parsing.from_html import Piece, norm_words

CONTENT = ("paragraph", "list", "table")
REGION_SHARE = 0.9  # the region holds this share of what the extractor kept
BODY_SHARE = 0.8  # the body's own column holds this share of the article's words
CALL_OUT_WORDS = 80  # a call-out box is at most this long
PROSE_SENTENCE_WORDS = 10
_BUTTON_CLASS = re.compile(r"(?:^|[-_])(btn|button|buttons|cta)(?:$|[-_])", re.I)
# A call-out box never reaches past these: the page's main parts and the article's own structures (an FAQ entry,
# a list item, a table cell, a quote).
_NOT_A_BOX = {"body", "html", "article", "main", "details", "li", "ul", "ol", "td", "th", "tr", "table", "dd",
              "blockquote", "figure"}
_CLOSE = re.compile(r"\b(close|dismiss|hide)\b", re.I)
_ACTION_HREF = re.compile(r"^(tel:|mailto:|sms:)", re.I)


def select_article(source: str, pieces: list[Piece], title_node: HtmlElement | None) -> list[Element]:
    """The page's elements with everything that is not the article dropped, each by its rule."""
    kept = extracted_words(source)
    if kept is not None:
        _mark_extracted(pieces, *kept)
        region = _region(pieces)
    else:
        region = None
    if region is not None:
        _outside_region(pieces, region, title_node)
    else:
        _outside_fallback_region(pieces)
    _POSITIONS.clear()
    if pieces:
        _POSITIONS.update((n, i) for i, n in enumerate(pieces[0].node.getroottree().getroot().iter()))
    _sibling_columns(pieces)
    _call_outs(pieces, region)
    _link_blocks(pieces)
    _notes(pieces)
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
        favor_recall=True,  # measured: more body kept; the rules here take out what it lets through
        include_tables=True,
        include_images=True,
        include_formatting=True,
        include_links=False,
        with_metadata=False,
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
        text = " ".join(norm_words(" ".join(node.itertext()) + " " + (node.get("title") or "")))
        if text:
            blocks.add(text)
    return blocks, " | ".join(sorted(blocks, key=len))


def _mark_extracted(pieces: list[Piece], blocks: set[str], joined: str) -> None:
    padded = f" {joined} "
    for p in pieces:
        e = p.element
        if e.kind not in (*CONTENT, "heading", "title"):
            continue
        texts = e.block.texts if e.block is not None else (e.text,)  # type: ignore[union-attr]
        found = [_found(" ".join(norm_words(t)), blocks, padded) for t in texts]
        found = [f for f in found if f is not None]
        p.extracted = bool(found) and sum(found) * 2 >= len(found)


def _found(words: str, blocks: set[str], padded: str) -> bool | None:
    if not words:
        return None
    return words in blocks or (len(words.split()) >= 4 and f" {words} " in padded)


def _is_extracted(p: Piece) -> bool:
    return p.extracted


def _region(pieces: list[Piece]) -> HtmlElement | None:
    """The deepest element holding REGION_SHARE of the words the extractor kept."""
    held: dict[HtmlElement, int] = defaultdict(int)
    depth: dict[HtmlElement, int] = {}
    total = 0
    for p in pieces:
        if not _is_extracted(p) or not p.element.kept:
            continue
        words = max(1, p.words)
        total += words
        chain = [p.node, *p.node.iterancestors()]
        for d, node in enumerate(reversed(chain)):
            held[node] += words
            depth[node] = d
    if not total:
        return None
    inside = [n for n, w in held.items() if w >= REGION_SHARE * total]
    return max(inside, key=lambda n: depth[n]) if inside else None


def _inside(node: HtmlElement, region: HtmlElement) -> bool:
    return node is region or any(a is region for a in node.iterancestors())


def _outside_region(pieces: list[Piece], region: HtmlElement, title_node: HtmlElement | None) -> None:
    """Blocks outside the region, and the region's blocks after its last extracted one, are not the article."""
    positions = [i for i, p in enumerate(pieces) if _is_extracted(p) and _inside(p.node, region)]
    last = positions[-1] if positions else len(pieces)
    for i, p in enumerate(pieces):
        e = p.element
        if not e.kept or e.kind in ("title", "bio"):
            continue
        if not _inside(p.node, region) or (i > last and not _is_extracted(p)):
            if i > last and e.kind == "paragraph" and is_author_bio(e.text) and not any(
                q.element.kind == "bio" for q in pieces
            ):
                p.element = replace(e, kind="bio")  # the author's note under the article, in the third person
            else:
                p.element = e.drop("outside-article")


def _outside_fallback_region(pieces: list[Piece]) -> None:
    """Without the extractor's answer: the page's <article>, else <main>, else the smallest element holding most
    of the paragraph text."""
    held: dict[HtmlElement, int] = defaultdict(int)
    total = 0
    for p in pieces:
        if p.element.kept and p.element.kind in CONTENT:
            total += p.words
            for node in [p.node, *p.node.iterancestors()]:
                held[node] += p.words
    if not total:
        return
    by_tag = [n for n in held if n.tag in ("article", "main") and held[n] * 2 >= total]
    region = by_tag[0] if by_tag else None
    if region is None:
        candidates = [n for n, w in held.items() if w * 5 >= total * 4]
        region = max(candidates, key=lambda n: sum(1 for _ in n.iterancestors()))
    for p in pieces:
        if p.element.kept and p.element.kind not in ("title", "bio") and not _inside(p.node, region):
            p.element = p.element.drop("outside-article")


def _body_node(pieces: list[Piece]) -> HtmlElement | None:
    """The deepest element holding BODY_SHARE of the article's kept words: the body's own column."""
    held: dict[HtmlElement, int] = defaultdict(int)
    depth: dict[HtmlElement, int] = {}
    total = 0
    for p in pieces:
        if p.element.kept and p.element.kind in CONTENT:
            total += p.words
            chain = [p.node, *p.node.iterancestors()]
            for d, node in enumerate(reversed(chain)):
                held[node] += p.words
                depth[node] = d
    inside = [n for n, w in held.items() if total and w >= BODY_SHARE * total]
    return max(inside, key=lambda n: depth[n]) if inside else None


def _sibling_columns(pieces: list[Piece]) -> None:
    """A grid column (named col, column, sidebar) beside a column that holds more of the article's prose, with
    little prose of its own: a call box, a topic list or recent posts placed next to the text."""
    columns: dict[HtmlElement, list[Piece]] = defaultdict(list)
    for p in pieces:
        if p.element.kind in ("title", "bio"):
            continue
        for a in p.node.iterancestors():
            if _is_column(a):
                columns[a].append(p)
    prose = {c: _prose_words(members) for c, members in columns.items()}
    for column, members in columns.items():
        parent = column.getparent()
        if parent is None or _is_prose(members):
            continue
        siblings = [c for c in parent if c is not column and c in columns]
        if any(prose[c] > prose[column] and _is_prose(columns[c]) for c in siblings):
            for p in members:
                if p.element.kept:
                    p.element = p.element.drop("sibling-column")


# A grid column with its width (Bootstrap "col-lg-4", Elementor "elementor-col-33", WPBakery "vc_col-sm-4", Divi
# "et_pb_column_1_3", Avada "fusion-one-third"), or a sidebar by name.
_COLUMN_CLASS = re.compile(
    r"(?:^|[-_])col(?:umn)?-(?:(?:xs|sm|md|lg|xl|xxl)-)?\d{1,3}$|(?:^|[-_])column_\d_\d$|"
    r"(?:^|[-_])(one|two|three)-(half|third|thirds|fourth|fourths|quarter|quarters|fifth)$|(?:^|[-_])sidebar(?:$|[-_])",
    re.I,
)


def _is_column(node: HtmlElement) -> bool:
    return any(_COLUMN_CLASS.search(c) for c in (node.get("class") or "").split())


def _prose_words(members: list[Piece]) -> int:
    return sum(
        len(norm_words(s))
        for p in members
        if p.element.kind in CONTENT
        for t in (p.element.block.texts if p.element.block is not None else (p.element.text,))  # type: ignore[union-attr]
        for s in re.split(r"(?<=[.!?])\s+", t)
        if len(norm_words(s)) >= PROSE_SENTENCE_WORDS and s.rstrip().endswith((".", "!", "?", ":"))
    )


def _is_prose(members: list[Piece]) -> bool:
    """Half or more of the words are in sentences of PROSE_SENTENCE_WORDS words or more."""
    total = sum(p.words for p in members if p.element.kind in CONTENT)
    return total > 0 and _prose_words(members) * 2 >= total


def _buttons(pieces: list[Piece], region: HtmlElement | None) -> list[HtmlElement]:
    """Buttons among the kept blocks: elements classed or acting as buttons, phone, mail or text links that stand
    alone in their block or wrap a whole card, rows of links with nothing else, image links to a page (a banner),
    and the close button of a dismissable notice."""
    found = []
    seen: set[HtmlElement] = set()
    if region is not None:
        for a in region.iter("a"):
            if _is_banner(a):
                seen.add(a)
                found.append(a)
    for p in pieces:
        if not p.element.kept or p.element.kind not in (*CONTENT, "heading"):
            continue
        card = next(p.node.iterancestors("a"), None)
        if card is not None and card not in seen:
            seen.add(card)
            if _ACTION_HREF.match(card.get("href") or "") or _is_classed_button(card):
                found.append(card)
        for a in p.node.iter("a", "button"):
            if a in seen:
                continue
            seen.add(a)
            label = " ".join(norm_words(" ".join(a.itertext())))
            if a.tag == "button" and (not label or _CLOSE.search(a.get("aria-label") or "")):
                found.append(a)  # a notice the reader can dismiss
                continue
            if not label:
                continue
            classed = _is_classed_button(a)
            text = " ".join(norm_words(p.element.text))
            alone = _ACTION_HREF.match(a.get("href") or "") and text == label
            in_page = (a.get("href") or "").startswith("#")  # a tab, an accordion or a contents link
            short_label = text == label and len(label.split()) <= 5 and not in_page
            link_row = p.element.kind == "paragraph" and p.words <= 12 and p.link_words >= 0.9 * p.words
            if classed or alone or short_label or link_row or _trails_a_sentence(p.element.text, " ".join(a.itertext())):
                found.append(a)
    return found


def _is_classed_button(a: HtmlElement) -> bool:
    """Marked as a button by its tag, role or class (its own or its wrapper's)."""
    if a.tag == "button" or a.get("role") == "button":
        return True
    return any(_BUTTON_CLASS.search(c) for n in [a, *list(a.iterancestors())[:2]] for c in (n.get("class") or "").split())


def _trails_a_sentence(text: str, label: str) -> bool:
    """Is the link the block's last words, after its last sentence ("... every month. Reserve your spot")?"""
    label = " ".join(label.split())
    text = " ".join(text.split())
    if not label or not text.endswith(label) or text == label:
        return False
    return text[: -len(label)].rstrip().endswith((".", "!", "?", ":"))


def _call_outs(pieces: list[Piece], region: HtmlElement | None) -> None:
    """The box around each button: the largest element holding it with at most CALL_OUT_WORDS words, one heading at
    most and not the body's own column; its blocks are a call-out. A button standing alone in its box takes the
    short block written for it just before or after it (a block alone in its own box, wholly emphasised, or a
    heading that is a sentence)."""
    body = _body_node(pieces)
    order = {id(p): i for i, p in enumerate(pieces)}
    for button in _buttons(pieces, region):
        box = button
        for a in button.iterancestors():
            if a is body or a.tag in _NOT_A_BOX or _too_big(a):
                break
            box = a
        around = [p for p in pieces if p.element.kind in (*CONTENT, "heading") and _inside(p.node, box)]
        label = " ".join(norm_words(" ".join(button.itertext())))
        alone = all(" ".join(norm_words(p.element.text)) == label for p in around)
        for p in around:
            if p.element.kept:
                p.element = p.element.drop("button" if alone else "call-out")
        for p in pieces:  # a button inside a paragraph's own link (no box around it)
            if p.element.kept and p.element.kind == "paragraph" and _inside(button, p.node) and \
                    " ".join(norm_words(p.element.text)) == label:
                p.element = p.element.drop("button")
        if alone:
            _take_the_words_of(button, box, pieces, order, around)


def _take_the_words_of(button: HtmlElement, box: HtmlElement, pieces: list[Piece], order: dict[int, int],
                       around: list[Piece]) -> None:
    """A standalone button's own short text, just before or after its box."""
    after = [p for p in pieces if _follows(p.node, box)]
    before = [p for p in pieces if _follows(box, p.node) and not _inside(box, p.node)]
    for p in (before[-1:] + after[:1]):
        e = p.element
        if not e.kept or e.kind not in ("paragraph", "heading"):
            continue
        if e.kind == "heading" and not e.text.rstrip().endswith((".", "!")):
            continue  # the next section's heading
        if _is_short(e.text) and (_alone_in_box(p, pieces) or _emphasised(p.node) or e.kind == "heading"):
            p.element = e.drop("call-out")


def _follows(node: HtmlElement, other: HtmlElement) -> bool:
    """Does `node` start after `other` in the page (and not inside it)?"""
    return node.sourceline is not None and other.sourceline is not None and _position(node) > _position(other)


def _position(node: HtmlElement) -> int:
    return _POSITIONS.get(node, 0)


_POSITIONS: dict[HtmlElement, int] = {}


def _is_short(text: str) -> bool:
    return len(norm_words(text)) <= 35 and len(re.findall(r"[.!?](?:\s|$)", text)) <= 2


def _alone_in_box(p: Piece, pieces: list[Piece]) -> bool:
    parent = p.node.getparent()
    while parent is not None and parent.tag in ("span", "strong", "em", "b", "i"):
        parent = parent.getparent()
    if parent is None:
        return False
    return sum(1 for q in pieces if q.element.kind in (*CONTENT, "heading") and q.words and _inside(q.node, parent)) == 1


def _emphasised(node: HtmlElement) -> bool:
    """All of the block's words inside <em>, <strong>, <b>, <i> or <small>."""
    total = len(norm_words(" ".join(node.itertext())))
    marked = sum(len(norm_words(" ".join(e.itertext()))) for e in node if isinstance(e.tag, str)
                 and e.tag in ("em", "strong", "b", "i", "small"))
    return total > 0 and marked == total


def _is_banner(a: HtmlElement) -> bool:
    """A link whose only content is an image, to a page rather than to the image itself."""
    if " ".join(a.itertext()).strip() or a.find(".//img") is None:
        return False
    href = (a.get("href") or "").lower().split("?")[0]
    return bool(href) and not href.endswith((".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif"))


def _too_big(node: HtmlElement) -> bool:
    words = len(norm_words(" ".join(node.itertext())))
    headings = sum(1 for _ in node.iter("h1", "h2", "h3", "h4", "h5", "h6"))
    return words > CALL_OUT_WORDS or headings > 1


def _link_blocks(pieces: list[Piece]) -> None:
    """Lists whose items are mostly links, and short paragraphs that are mostly links: menus, post lists."""
    for p in pieces:
        e = p.element
        if not e.kept or e.kind not in ("list", "paragraph") or not p.words:
            continue
        share = p.link_words / p.words
        if e.kind == "list" and share >= 0.6 and all(len(t.split()) <= 12 for t in e.block.texts):  # type: ignore[union-attr]
            p.element = e.drop("link-block")
        elif e.kind == "paragraph" and share >= 0.7 and p.words <= 20:
            p.element = e.drop("link-block")


def _notes(pieces: list[Piece]) -> None:
    """A block that starts with a link back to its marker in the text is a footnote or a comment of the document."""
    for p in pieces:
        e = p.element
        if not e.kept or e.kind not in CONTENT:
            continue
        first = next(p.node.iter("a"), None)
        if first is None or not (first.get("href") or "").startswith("#") or not _leads(p.node, first):
            continue
        if re.match(r"^\s*\[?\w{1,4}\]?\s*$", " ".join(first.itertext())):
            p.element = e.drop("notes")


def _leads(node: HtmlElement, link: HtmlElement) -> bool:
    """Does `link` come before any text of `node`?"""
    for item in node.iter():
        if item is link:
            return True
        if (item.text or "").strip():
            return False
        if item is not node and any(a is link for a in item.iterancestors()):
            return True
    return False


def _lead_zone(pieces: list[Piece]) -> None:
    """Short lines that are not sentences, between the title and the body's first paragraph: by-line, dates,
    a subtitle naming the draft or its review."""
    title = next((i for i, p in enumerate(pieces) if p.element.kind == "title" and p.element.kept), None)
    if title is None:
        return
    for p in pieces[title + 1 :]:
        e = p.element
        if not e.kept:
            continue
        if e.kind != "paragraph" or p.words >= 20:
            break
        if not e.text.rstrip().endswith((".", "!", "?", ":")) or e.text.count(".") >= 2:
            p.element = replace(e, rule="post-info")


def _after_the_bio(pieces: list[Piece]) -> None:
    """The author's box closes the article: what a page puts after it (related posts, more from the blog) is not
    the article, when the box comes after nearly all of the article's words."""
    bio = [i for i, p in enumerate(pieces) if p.element.kind == "bio"]
    if not bio:
        return
    words = [p.words if p.element.kept and p.element.kind in CONTENT else 0 for p in pieces]
    total = sum(words)
    if not total or sum(words[: bio[0]]) < 0.8 * total:
        return
    for p in pieces[bio[-1] + 1 :]:
        if p.element.kept and p.element.kind != "bio":
            p.element = p.element.drop("after-body")
