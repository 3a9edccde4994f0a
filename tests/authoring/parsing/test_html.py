"""HTML pages: the article body found without its chrome (nav, sidebar, share bar, categories, comments)."""

from __future__ import annotations

from pathlib import Path

from campaigns.authoring.article import BulletList, Paragraph
from campaigns.authoring.parsing import parse_article, parse_html

from .support import FIXTURES, all_text, assert_each_once_in_order, lists_of

STIMULANTS = FIXTURES / "prescription-stimulant-misuse.html"
NALOXONE = FIXTURES / "naloxone-guide-for-families.htm"


def test_main_div_page_with_sidebar_share_bar_and_author_box() -> None:
    article = parse_article(STIMULANTS)
    # The h1 sits outside the content div (in the page title block); it is still the title.
    assert article.title == "Prescription Stimulant Misuse: Risks, Signs and Support"
    assert [s.heading for s in article.sections] == [
        "What Counts as Misuse?",
        "Why People Misuse Stimulants",
        "Effects on Body and Mind",
        "Dependence and Withdrawal",
    ]
    assert [p.text[:20] for p in article.intro] == ["Stimulant medication", "The same medicines a"]
    effects = article.sections[2]
    assert effects.blocks[1] == BulletList(
        (
            "Loss of appetite and weight loss",
            "Trouble sleeping",
            "Anxiety, irritability and restlessness",
            "A racing or irregular heartbeat",
        )
    )
    # Inline markup (strong, em, a) becomes plain text, curly apostrophes kept.
    assert "taking higher or more frequent doses, taking someone else’s pills" in article.sections[0].blocks[0].text
    assert "a crash often follows" in article.sections[3].blocks[0].text
    assert article.closing is not None and article.closing.heading == "Getting Help at Harbor Light Recovery"
    assert article.author_name == "Jordan Ellis"
    assert article.author_bio.startswith("Jordan Ellis is a clinical pharmacist")


def test_main_div_page_residue_is_gone() -> None:
    text = all_text(parse_article(STIMULANTS))
    assert not {"Stimulants", "ADHD", "Home", "Blog"} & set(text.splitlines())  # category list, breadcrumb
    for residue in (
        "Programs",
        "Home »",
        "Share this",
        "Facebook",
        "LinkedIn",
        "Table of Contents",
        "Categories",
        "Tags",
        "View all posts",
        "PharmD",
        "Recent Posts",
        "Kratom",
        "newsletter",
        "Related Articles",
        "Cocaine and the heart",
        "Leave a Reply",
        "email address",
        "Example Street",
        "dataLayer",
        "float",
        "Editorial Team",
        "6 min read",
    ):
        assert residue not in text, residue
    assert len(lists_of(parse_article(STIMULANTS))) == 1  # the contents and category lists are gone


def test_main_div_page_every_unit_once(article_units) -> None:
    units = article_units(STIMULANTS, main_class="entry-content")
    assert len(units) > 25
    assert_each_once_in_order(units, parse_article(STIMULANTS))


def test_article_page_with_header_contents_and_nested_list() -> None:
    article = parse_article(NALOXONE)
    assert article.title == "Naloxone: A Guide for Families"  # the h1 inside the article's <header>
    # h2-h4 keep their hierarchy: a part title with no text of its own is a section over its subsections.
    assert [(s.level, s.heading) for s in article.sections] == [
        (2, "How Naloxone Works"),
        (2, "Forms of Naloxone"),
        (2, "Giving Naloxone Step by Step"),
        (3, "Before You Give It"),
        (3, "Giving the Dose"),
        (3, "After the Dose"),
    ]
    assert article.sections[2].blocks == ()
    forms = article.sections[1]
    assert forms.blocks[1].items == (
        "A nasal spray, the most common form for families, which needs no assembly",
        "An injection into a muscle, usually in the outer thigh",
        "available as a prefilled syringe",
        "or as a vial with a separate needle",
        "An auto-injector that talks the user through each step",
    )
    assert forms.blocks[1].depths == (0, 0, 1, 1, 0)  # a nested list stays inside its parent item
    assert len(article.sections[4].blocks[0].items) == 4
    # The last section names the organisation in its heading and speaks as "we": it is the closing.
    assert article.closing is not None
    assert article.closing.heading == "Free Naloxone Training at Riverside Recovery"
    assert article.closing.blocks[-1] == Paragraph(
        "Our classes are held in the evening, and no one has to share their reasons for attending."
    )
    assert article.author_bio is None


def test_article_page_residue_is_gone() -> None:
    text = all_text(parse_article(NALOXONE))
    assert not {"Riverside Recovery", "Opioids", "X"} & set(text.splitlines())  # logo, category link, share icon
    for residue in (
        "About",
        "Posted on",
        "Riverside Staff",
        "Facebook",
        "Email",
        "In This Article",
        "Related Posts",
        "Fentanyl Questions Answered",
        "Short answers",
        "Comments",
        "Thank you for writing",
        "newsletter",
        "555-0100",
    ):
        assert residue not in text, residue


def test_article_page_every_unit_once(article_units) -> None:
    # The related-posts teaser sits inside the post body; it is residue the check must be told about.
    units = article_units(NALOXONE, ("Short answers to the questions",), main_class="post-body")
    assert len(units) > 15
    assert_each_once_in_order(units, parse_article(NALOXONE))


def test_body_is_the_element_holding_most_paragraph_text(tmp_path: Path) -> None:
    page = """<html><body>
    <div class="promo"><p>Call now for a free consultation about our luxury programs.</p></div>
    <div class="wrapper"><div class="content">
      <h1>Kratom Basics</h1>
      <p>Kratom is a plant from Southeast Asia whose leaves act on opioid receptors.</p>
      <h2>Is Kratom Addictive?</h2>
      <p>Regular use can lead to dependence, and stopping can cause withdrawal symptoms.</p>
      <p>People who use it daily should talk to a doctor before cutting back.</p>
      <h2>Mixing Kratom With Other Drugs</h2>
      <p>Combining kratom with alcohol, benzodiazepines or opioids raises the risk of overdose.</p>
    </div></div></body></html>"""
    article = parse_html(page, tmp_path / "kratom.html")
    assert article.title == "Kratom Basics"
    assert [s.heading for s in article.sections] == ["Is Kratom Addictive?", "Mixing Kratom With Other Drugs"]
    assert "consultation" not in all_text(article)


def test_wordpress_category_classes_on_the_post_do_not_hide_it(tmp_path: Path) -> None:
    page = """<body class="category-detox"><div class="post category-detox tag-opioids entry">
      <h1>Detox Explained</h1><p>Detox is the first stage of treatment for many people who use substances.</p>
      <h2>What Happens During Detox</h2><p>Staff watch vital signs and treat withdrawal symptoms as they come.</p>
    </div></body>"""
    article = parse_html(page, tmp_path / "detox.html")
    assert [s.heading for s in article.sections] == ["What Happens During Detox"]


def test_page_wrapped_in_one_form_and_text_in_bare_divs(tmp_path: Path) -> None:
    # Old ASP.NET pages wrap everything in a <form>; some builders put text straight into <div>s.
    page = """<html><body><form id="aspnetForm">
      <div class="menu"><a href="/">Home</a></div>
      <div class="content">
        <h1>Gabapentin and Opioids</h1>
        <div>Gabapentin is often prescribed for nerve pain and seizures.</div>
        <h2>Why the Combination Is Risky</h2>
        <p>Taken together, gabapentin and opioids slow breathing more than either does alone.</p>
        <div>Doctors lower doses and watch closely when both are needed.</div>
      </div>
      <div class="newsletter"><p>Sign up for our newsletter to get monthly health tips by email.</p></div>
    </form></body></html>"""
    article = parse_html(page, tmp_path / "gabapentin.html")
    assert article.title == "Gabapentin and Opioids"
    assert article.intro == (Paragraph("Gabapentin is often prescribed for nerve pain and seizures."),)
    assert article.sections[0].blocks == (
        Paragraph("Taken together, gabapentin and opioids slow breathing more than either does alone."),
        Paragraph("Doctors lower doses and watch closely when both are needed."),
    )
    assert "newsletter" not in all_text(article) and "Home" not in all_text(article)
