"""Buttons and the call-out boxes around them, found by shape on an HTML page.

A button is an element marked as one (its tag, role or class), a phone, mail or text link standing alone in its
block or wrapping a whole card, a short link that is all of its block, a row of links with nothing else, a link
trailing a block's last sentence ("... every month. Reserve your spot"), an image linking to a page (a banner), or
the close button of a dismissable notice. Its box is the largest element around it with at most CALL_OUT_WORDS
words and one heading, that is neither the article's own structure (an FAQ entry, a list item, a table cell) nor
one of the page's main parts: every block in it is a `call-out`. A button alone in its box is a `button`, and takes
with it the short text written for it just before or after it (a block alone in its own box, wholly emphasised,
or a heading that is a sentence).
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from campaigns.authoring.parsing.assemble import CONTENT
from campaigns.authoring.parsing.html_page import Page, Piece, inside, norm_words

CALL_OUT_WORDS = 80  # a call-out box is at most this long
OWN_TEXT_WORDS = 35  # a button's own text, beside it, is at most this long (and two sentences)
_BUTTON_CLASS = re.compile(r"(?:^|[-_])(btn|button|buttons|cta)(?:$|[-_])", re.I)
_CLOSE = re.compile(r"\b(close|dismiss|hide)\b", re.I)
_ACTION_HREF = re.compile(r"^(tel:|mailto:|sms:)", re.I)
_IMAGE_FILE = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif")
# A box never reaches past these: the page's main parts, and the article's own structures.
_NOT_A_BOX = frozenset(
    [
        "body",
        "html",
        "article",
        "main",
        "details",
        "li",
        "ul",
        "ol",
        "td",
        "th",
        "tr",
        "table",
        "dd",
        "blockquote",
        "figure",
    ]
)
_EMPHASIS = frozenset(["em", "strong", "b", "i", "small"])


def drop_call_outs(page: Page, region: HtmlElement | None) -> None:
    """Every button's box dropped as a call-out (a lone button as a button, with its own text)."""
    for button in _buttons(page.pieces, region):
        box = button
        for a in button.iterancestors():
            if a.tag in _NOT_A_BOX or _too_big(a) or _holds_the_body(a, page.pieces):
                break
            box = a
        label = _words(" ".join(button.itertext()))
        around = [p for p in page.pieces if p.element.kind in (*CONTENT, "heading") and inside(p.node, box)]
        alone = all(_words(p.element.text) == label for p in around)
        for p in around:
            if p.element.kept:
                p.element = p.element.drop("button" if alone else "call-out")
        for p in page.pieces:  # a button that is a paragraph's only link (no box around it)
            e = p.element
            if e.kept and e.kind == "paragraph" and inside(button, p.node) and _words(e.text) == label:
                p.element = e.drop("button")
        if alone:
            _drop_its_own_text(page, box)


def _words(text: str) -> str:
    return " ".join(norm_words(text))


def _buttons(pieces: list[Piece], region: HtmlElement | None) -> list[HtmlElement]:
    found: list[HtmlElement] = []
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
            if a not in seen:
                seen.add(a)
                if _is_button(a, p):
                    found.append(a)
    return found


def _is_button(a: HtmlElement, p: Piece) -> bool:
    label = _words(" ".join(a.itertext()))
    if a.tag == "button" and (not label or _CLOSE.search(a.get("aria-label") or "")):
        return True  # the close button of a notice the reader can dismiss
    if not label:
        return False
    href = a.get("href") or ""
    text = _words(p.element.text)
    if _is_classed_button(a) or (_ACTION_HREF.match(href) and text == label):
        return True
    if text == label and len(label.split()) <= 5 and not href.startswith("#"):  # "#": a tab or a contents link
        return True
    if p.element.kind == "paragraph" and p.words <= 12 and p.link_words >= 0.9 * p.words:
        return True  # a row of links with nothing else: "Call (561) 555-0142 | Verify Your Insurance"
    return _trails_a_sentence(p.element.text, " ".join(a.itertext()))


def _is_classed_button(a: HtmlElement) -> bool:
    """Marked as a button by its tag, role or class (its own or its wrapper's)."""
    if a.tag == "button" or a.get("role") == "button":
        return True
    return any(
        _BUTTON_CLASS.search(c) for n in [a, *list(a.iterancestors())[:2]] for c in (n.get("class") or "").split()
    )


def _trails_a_sentence(text: str, label: str) -> bool:
    """Is the link the block's last words, after its last sentence ("... every month. Reserve your spot")?"""
    label, text = " ".join(label.split()), " ".join(text.split())
    if not label or not text.endswith(label) or text == label:
        return False
    return text[: -len(label)].rstrip().endswith((".", "!", "?", ":"))


def _is_banner(a: HtmlElement) -> bool:
    """A link whose only content is an image, to a page rather than to the image itself."""
    if " ".join(a.itertext()).strip() or a.find(".//img") is None:
        return False
    href = (a.get("href") or "").lower().split("?")[0]
    return bool(href) and not href.endswith(_IMAGE_FILE)


def _too_big(node: HtmlElement) -> bool:
    words = len(norm_words(" ".join(node.itertext())))
    headings = sum(1 for _ in node.iter("h1", "h2", "h3", "h4", "h5", "h6"))
    return words > CALL_OUT_WORDS or headings > 1


def _holds_the_body(node: HtmlElement, pieces: list[Piece]) -> bool:
    """Holds two or more of the article's paragraphs of prose: the body's own column, not a box."""
    return (
        sum(
            1
            for p in pieces
            if p.element.kind == "paragraph" and p.extracted and p.words >= 15 and inside(p.node, node)
        )
        >= 2
    )


def _drop_its_own_text(page: Page, box: HtmlElement) -> None:
    """A lone button's own short text, just before or just after its box."""
    before = [p for p in page.pieces if page.position(p.node) < page.position(box) and not inside(box, p.node)]
    after = [p for p in page.pieces if page.position(p.node) > page.position(box) and not inside(p.node, box)]
    for p in before[-1:] + after[:1]:
        e = p.element
        if not e.kept or e.kind not in ("paragraph", "heading"):
            continue
        if e.kind == "heading" and not e.text.rstrip().endswith((".", "!")):
            continue  # the next section's heading
        if _is_short(e.text) and (e.kind == "heading" or _alone_in_box(p, page.pieces) or _emphasised(p.node)):
            p.element = e.drop("call-out")


def _is_short(text: str) -> bool:
    return len(norm_words(text)) <= OWN_TEXT_WORDS and len(re.findall(r"[.!?](?:\s|$)", text)) <= 2


def _alone_in_box(p: Piece, pieces: list[Piece]) -> bool:
    parent = p.node.getparent()
    while parent is not None and parent.tag in ("span", *_EMPHASIS):
        parent = parent.getparent()
    if parent is None:
        return False
    return sum(1 for q in pieces if q.element.kind in (*CONTENT, "heading") and q.words and inside(q.node, parent)) == 1


def _emphasised(node: HtmlElement) -> bool:
    """All of the block's words inside <em>, <strong>, <b>, <i> or <small>."""
    total = len(norm_words(" ".join(node.itertext())))
    marked = sum(len(norm_words(" ".join(e.itertext()))) for e in node if isinstance(e.tag, str) and e.tag in _EMPHASIS)
    return total > 0 and marked == total
