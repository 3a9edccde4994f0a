"""The HTML rules by shape, each on a small page written for it: what trafilatura keeps is the article, and the
structural rules take out what it lets through. Each dropped block names its rule; the body stays whole."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import Article
from campaigns.authoring.parsing import parse_html

PROSE = [
    "Alcohol changes the way the brain handles sleep, and the effect grows with every drink taken late in the evening.",
    "In the second half of the night the body clears the alcohol and sleep becomes light, broken and restless again.",
    "People who drink most nights often notice that they wake up tired even after eight hours in bed.",
    "Cutting back for two weeks is usually enough to notice deeper sleep, steadier mood and more energy.",
    "A doctor can help when sleep does not improve, since other causes such as sleep apnea are common and treatable.",
]


def page(article: str, *, aside: str = "", head: str = "<title>Sleep and Alcohol | Clear Path</title>") -> str:
    return (
        f"<!doctype html><html><head>{head}</head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/blog'>Blog</a> <a href='/contact'>Contact</a></nav></header>"
        f"<main>{article}{aside}</main>"
        "<footer><p>© 2024 Clear Path Wellness. All rights reserved.</p></footer></body></html>"
    )


def body(*extra: str, first: int = 0) -> str:
    """The article: a title, five paragraphs of prose under two headings, with `extra` after the third."""
    p = [f"<p>{t}</p>" for t in PROSE]
    return (
        "<h1>Sleep and Alcohol</h1>"
        + p[0]
        + "<h2>What Happens at Night</h2>"
        + p[1]
        + p[2]
        + "".join(extra)
        + "<h2>What Helps</h2>"
        + p[3]
        + p[4]
    )


def parse(html: str) -> Article:
    return parse_html(html, Path("page.html"))


def kept_text(article: Article) -> str:
    return "\n".join(b.text for b in article.blocks if b.kept)


def rules(article: Article) -> dict[str, str]:
    """Dropped text -> the rule that dropped it."""
    return {b.text: b.rule or "" for b in article.dropped}


def assert_body_whole(article: Article) -> None:
    text = kept_text(article)
    assert all(t in text for t in PROSE), "a paragraph of the body was dropped"
    assert article.title == "Sleep and Alcohol"
    assert [s.heading for s in article.sections] == ["What Happens at Night", "What Helps"]


def test_navigation_and_footer_are_page_chrome() -> None:
    article = parse(page(f"<article>{body()}</article>"))
    assert_body_whole(article)
    assert set(rules(article).values()) == {"page-chrome"}


def test_a_column_beside_the_article_is_a_sibling_column() -> None:
    main = (
        "<div class='row'><div class='col-md-8'>" + body() + "</div>"
        "<div class='col-md-4'><h3>Talk to Someone</h3><p>Open every day.</p><p>Call (555) 010-0100</p>"
        "<h3>Topics</h3><ul><li>Alcohol</li><li>Sleep</li><li>Stress</li></ul></div></div>"
    )
    article = parse(page(main))
    assert_body_whole(article)
    assert "Talk to Someone" not in kept_text(article) and "Topics" not in kept_text(article)
    assert {rules(article)[t] for t in ("Talk to Someone", "Topics")} <= {"sibling-column", "outside-article"}


def test_a_box_around_a_button_is_a_call_out_and_a_lone_buttons_text_goes_with_it() -> None:
    box = (
        "<div class='promo'><p><strong>Join our free sleep workshop on the first Tuesday of each month.</strong></p>"
        "<p><a class='btn' href='/workshop'>Reserve a place</a></p></div>"
    )
    lone = "<div class='note'><p>Questions about your sleep? We answer every message.</p></div>"
    button = "<div class='wp-block-buttons'><a class='wp-block-button__link' href='/contact'>Write to Us</a></div>"
    article = parse(page(f"<article>{body(box, lone, button)}</article>"))
    assert_body_whole(article)
    dropped = rules(article)
    assert dropped["Join our free sleep workshop on the first Tuesday of each month."] == "call-out"
    assert dropped["Reserve a place"] == "call-out"
    assert dropped["Write to Us"] == "button"
    assert dropped["Questions about your sleep? We answer every message."] == "call-out"


def test_a_phone_link_inside_a_sentence_is_body_text() -> None:
    sentence = (
        "<p>If someone will not wake up, call <a href='tel:911'>911</a> and stay with them until help arrives.</p>"
    )
    article = parse(page(f"<article>{body(sentence)}</article>"))
    assert "call 911 and stay with them" in kept_text(article)


def test_a_dismissable_notice_is_a_call_out() -> None:
    notice = (
        "<div class='alert' role='alert'><span>Cutting back on alcohol? Our team can help you plan.</span>"
        "<button type='button' class='close' aria-label='Close'>&times;</button></div>"
    )
    article = parse(page(f"<article>{body(notice)}</article>"))
    assert rules(article)["Cutting back on alcohol? Our team can help you plan."] in ("call-out", "page-chrome")


def test_a_list_of_links_is_a_link_block_and_a_list_of_facts_is_not() -> None:
    links = (
        "<p>More reading:</p><ul>"
        + "".join(f"<li><a href='/p/{n}'>Post number {n} about sleep</a></li>" for n in range(4))
        + "</ul>"
    )
    facts = "<ul><li>Keep the same wake time every day.</li><li>Stop drinking three hours before bed.</li></ul>"
    article = parse(page(f"<article>{body(facts, links)}</article>"))
    assert "Keep the same wake time every day." in kept_text(article)
    assert "Post number 0 about sleep" not in kept_text(article)
    assert rules(article)["More reading:"] == "link-block"  # its label goes with it


def test_a_form_without_a_form_tag_is_a_form() -> None:
    widget = "<div class='optin'><h4>Sleep Notes</h4><p>One short email a week.</p><input type='email'></div>"
    article = parse(page(f"<article>{body(widget)}</article>"))
    assert rules(article)["Sleep Notes · One short email a week."] == "form"


def test_by_line_and_dates_under_the_title_are_post_info() -> None:
    article = parse(
        page(f"<article>{body().replace('</h1>', '</h1><p>Maya Lind, LCSW</p><p>6 min read</p>')}</article>")
    )
    assert rules(article)["Maya Lind, LCSW"] == "post-info" and rules(article)["6 min read"] == "post-info"


def test_footnotes_are_small_print_comments_are_dropped_and_markers_leave_the_text() -> None:
    marked = PROSE[1].replace("restless again.", "restless again.<sup><a href='#fn1' id='r1'>1</a></sup>")
    marked = marked.replace("In the second", "In the second<sup><a href='#c1' id='rc1'>[a]</a></sup>")
    notes = (
        "<div><p><a href='#r1' id='fn1'>[1]</a> Example Study of Sleep and Alcohol. 2021.</p></div>"
        "<div><p><a href='#rc1' id='c1'>[a]</a>Sam, can we find a newer study for this?</p></div>"
        "<ol><li>Example Review of Sleep. 2020. <a href='#r1'>↩︎</a></li></ol>"
    )
    article = parse(page("<article>" + body(notes).replace(PROSE[1], marked) + "</article>"))
    assert PROSE[1] in kept_text(article) and "[1]" not in kept_text(article) and "[a]" not in kept_text(article)
    sources = [b for s in article.sections for b in s.blocks if getattr(b, "role", "") == "caption"]
    assert [b.text for b in sources] == ["Example Study of Sleep and Alcohol. 2021."]  # a source, in small print
    assert rules(article)["Sam, can we find a newer study for this?"] == "comment"  # a note for the authors
    assert "Example Review of Sleep. 2020." in kept_text(article) and "↩" not in kept_text(article)


def test_the_author_box_is_the_bio_and_what_follows_it_is_not_the_article() -> None:
    author = (
        "<div class='author-box'><p>About the author</p><p>Maya Lind, LCSW</p>"
        "<p>Maya Lind is a clinical social worker who has led sleep groups for ten years.</p></div>"
        "<h3>You May Also Like</h3><h4>Alcohol and Anxiety</h4><h4>Dry January Tips</h4>"
    )
    article = parse(page(f"<article>{body()}{author}</article>"))
    assert_body_whole(article)
    assert article.author_bio == "Maya Lind is a clinical social worker who has led sleep groups for ten years."
    assert "Dry January Tips" not in kept_text(article)


def test_title_from_h1_or_metadata_never_from_navigation() -> None:
    # The site's name in an <h1> of its header, the post's title in og:title: the title is the post's.
    head = "<title>Clear Path</title><meta property='og:title' content='Sleep and Alcohol'>"
    html = page(f"<article>{body().replace('<h1>Sleep and Alcohol</h1>', '')}</article>", head=head)
    html = html.replace("<header>", "<header><h1>Clear Path Wellness</h1>")
    assert parse(html).title == "Sleep and Alcohol"
    # A heading that repeats the title is not a section of its own.
    repeated = page(
        f"<article>{body().replace('<h2>What Happens at Night</h2>', '<h2>Sleep and Alcohol</h2>')}</article>"
    )
    article = parse(repeated)
    assert "Sleep and Alcohol" not in [s.heading for s in article.sections]
    assert rules(article)["Sleep and Alcohol"] == "title-repeat"


def test_a_table_a_quote_a_caption_and_a_nested_list_stay_what_they_are() -> None:
    extra = (
        "<figure><table><thead><tr><th>Drink</th><th>Effect on sleep</th></tr></thead>"
        "<tbody><tr><td>Wine at dinner</td><td>Lighter sleep late in the night</td></tr></tbody></table>"
        "<figcaption>How common drinks change a night of sleep.</figcaption></figure>"
        "<blockquote><p>I slept better in the first week than I had in years.</p></blockquote>"
        "<ol><li>Set a bedtime<ul><li>the same every night</li></ul></li><li>Keep the room dark</li></ol>"
    )
    article = parse(page(f"<article>{body(extra)}</article>"))
    blocks = article.sections[0].blocks
    kinds = [type(b).__name__ + ("/" + b.role if hasattr(b, "role") else "") for b in blocks]
    assert kinds[2:] == ["Table", "Paragraph/caption", "Paragraph/quote", "BulletList"]
    table, nested = blocks[2], blocks[5]
    assert table.columns == ("Drink", "Effect on sleep") and table.body == (
        ("Wine at dinner", "Lighter sleep late in the night"),
    )
    assert nested.ordered and nested.items == ("Set a bedtime", "the same every night", "Keep the room dark")
    assert nested.depths == (0, 1, 0)


def test_a_bold_line_on_its_own_and_a_tabs_title_are_headings() -> None:
    faq = (
        "<h2>Questions</h2><div class='faq'><div><strong>Is a nightcap ever fine?</strong> "
        "<p>Once in a while it does little harm, but a nightly drink keeps the cycle going.</p></div></div>"
    )
    tabs = (
        "<div class='tabs'><ul><li><a href='#t1'>Tonight</a></li><li><a href='#t2'>This Month</a></li></ul>"
        "<div id='t1'><h4><a href='#t1'>Tonight</a></h4><h3>Small Steps</h3><p>Skip the drink after dinner and "
        "read for twenty minutes instead of watching a screen.</p></div>"
        "<div id='t2'><h4><a href='#t2'>This Month</a></h4><p>Track how you sleep on the nights you drink and the "
        "nights you do not, and compare the two after four weeks.</p></div></div>"
    )
    article = parse(page(f"<article><h1>Sleep and Alcohol</h1><p>{PROSE[0]}</p>{tabs}{faq}<p>{PROSE[1]}</p></article>"))
    assert [(s.level, s.heading) for s in article.sections] == [
        (2, "Tonight"),  # a tab's title heads its panel, and the tabs of one widget are siblings
        (3, "Small Steps"),
        (2, "This Month"),
        (2, "Questions"),
        (3, "Is a nightcap ever fine?"),  # the FAQ block's bold question
    ]
