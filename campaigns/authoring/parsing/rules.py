"""The rules that drop a block of a source, each with the one line that tells staff why.

Every dropped block names its rule (`SourceBlock.rule`), and `outreach series plan` lists them: nothing the parser
leaves out is hidden. Every rule is about a block's shape or place on the page (where it sits, how much of it is
links, whether it is a sentence), never about one site's words.
"""

from __future__ import annotations

# rule name -> what it drops
RULES: dict[str, str] = {
    "page-chrome": "the site's navigation, header, footer, sidebar or a pop-up (by its HTML tag or role)",
    "named-chrome": "a box the page itself names as furniture (share, related, comments, cookie, newsletter, ...)",
    "outside-article": "outside the article body found by the content extractor (trafilatura)",
    "sibling-column": "a column beside the article body, with little prose of its own",
    "before-title": "above the article's title: the site's header band",
    "after-body": "after the article's last paragraph: the site's footer band",
    "post-info": "a by-line, date, reading time, reviewer or counter line",
    "breadcrumb": "a breadcrumb trail",
    "contents": "a table of contents, its entries and its show/hide toggle",
    "related": "a 'related' or 'keep reading' label and the links under it",
    "share-bar": "a share bar or share buttons",
    "link-block": "a block that is mostly links (menus, tag and category lists, post lists)",
    "call-out": "a short box that points to an action (a phone, button or sign-up link)",
    "button": "a button, or a line that is only a button's label",
    "form": "a form or its fields (newsletter, comments, search, feedback)",
    "placeholder": "a placeholder or leftover markup (shortcode, image marker, [toc], empty figure)",
    "image-text": "an image's alt text copied as a line of its own",
    "heading-without-body": "a heading with no text of its own under it (an image's alt text, a placeholder)",
    "title-repeat": "a heading that repeats the article's title",
    "comment": "a comment left in a document for its authors (marked [a] or with initials, linking to its place)",
    "front-matter": "the file's front matter (its title is used; the rest is metadata, not text)",
    "author-box": "the author box's name and job title (its bio is kept as the author's bio)",
    "staff": "dropped by staff",
}


def describe(rule: str) -> str:
    """What a rule drops, for people; an unknown rule name is shown as it is."""
    return RULES.get(rule, rule)
