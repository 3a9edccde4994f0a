"""Markdown articles: headings by level, inline markup made plain, contents lists and share bars dropped."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from campaigns.authoring.article import BulletList, Paragraph, Table
from campaigns.authoring.parsing import parse_article, parse_markdown

from .support import FIXTURES, all_text, assert_each_once_in_order, lists_of

BENZO = FIXTURES / "benzodiazepine-tapering.md"
CANNABIS = FIXTURES / "cannabis-and-the-teenage-brain.markdown"


def markdown_units(article_units, path: Path, tmp_path: Path, residue: tuple[str, ...] = ()) -> list[str]:
    """The external check reads HTML paragraphs or raw lines; give it the Markdown rendered to HTML."""
    html = tmp_path / (path.stem + ".html")
    html.write_text(MarkdownIt("commonmark").enable("table").render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return article_units(html, residue)


def test_subsections_links_and_star_lists() -> None:
    article = parse_article(BENZO)
    assert article.title == "Coming Off Benzodiazepines Safely"
    assert [(s.level, s.heading) for s in article.sections] == [
        (2, "How benzodiazepines work"),
        # A section heading with no text of its own stays a section, over its subsections.
        (2, "Why stopping suddenly is risky"),
        (3, "The rebound effect"),
        (3, "Withdrawal symptoms"),
        (2, "What a taper looks like"),
        (3, "Going slowly"),
        (3, "Adjusting as you go"),
        (3, "Support beyond the prescription"),
    ]
    assert [p.text[:30] for p in article.intro] == ["Benzodiazepines such as alpraz", "Trouble tends to start when a "]
    symptoms = article.sections[3]
    # A nested list stays inside its parent list.
    assert symptoms.blocks[1] == BulletList(
        (
            "Anxiety, irritability and panic attacks",
            "Trouble sleeping and vivid dreams",
            "Tremor, sweating and a pounding heart",
            "Sensitivity to light, sound and touch",
            "Difficulty concentrating",
            'sometimes described as "brain fog"',
            "often the slowest symptom to clear",
        ),
        depths=(0, 0, 0, 0, 0, 1, 1),
    )
    # Inline markup and links become plain text.
    assert "The FDA added a boxed warning about dependence" in symptoms.blocks[2].text
    assert "](" not in all_text(article) and "*" not in all_text(article)
    assert [len(b.items) for b in lists_of(article)] == [7, 4]
    assert article.closing is not None and article.closing.heading == "Talk to our team"
    assert article.author_name == "Dr. Maya Chen"
    assert article.author_bio.startswith("Dr. Maya Chen is an addiction medicine physician")
    assert all("Maya" not in getattr(b, "text", "") for b in article.closing.blocks)


def test_subsections_residue_is_gone() -> None:
    text = all_text(parse_article(BENZO))
    assert "Last updated" not in text and "Contents" not in text
    # The contents list linked to the headings: each heading now appears once.
    assert text.count("How benzodiazepines work") == 1


def test_subsections_every_unit_once(article_units, tmp_path: Path) -> None:
    units = markdown_units(article_units, BENZO, tmp_path, residue=("Last updated",))
    assert len(units) > 30
    assert_each_once_in_order(units, parse_article(BENZO))


def test_front_matter_setext_blockquote_table_and_html_share_bar() -> None:
    article = parse_article(CANNABIS)
    assert article.title == "Cannabis and the Teenage Brain"  # from the front matter
    assert [(s.level, s.heading) for s in article.sections] == [
        (2, "A Brain Under Construction"),
        (2, "What the research shows"),
        (3, "Memory and attention"),
        (3, "Mental health"),
        (3, "Dependence"),
        (2, "Warning signs for parents"),
        (2, "Starting the conversation"),
    ]
    memory = article.sections[2]
    assert memory.blocks[1] == Paragraph(
        "Young people who use cannabis weekly or more are more likely to struggle at "
        "school and to leave education early than their peers who do not use it.",
        role="quote",  # a blockquote is set apart in the email
    )
    assert [len(b.items) for b in lists_of(article)] == [5]
    assert article.closing is None and article.author_bio is None
    # A table stays a table: its header names the columns.
    assert article.sections[-1].blocks[-1] == Table(
        (
            ("Age group", "Proportion who used cannabis in the past year"),
            ("14 to 15 year olds", "about one in eight"),
            ("16 to 17 year olds", "about one in four"),
        ),
        header=True,
    )
    text = all_text(article)
    assert "Share Tweet" not in text  # the raw HTML share bar ("Share" alone is a fine word in the body)
    for residue in ("Tweet", "Read more", "Vaping and Young People", "Editorial team", "---"):
        assert residue not in text, residue


def test_front_matter_every_unit_once(article_units, tmp_path: Path) -> None:
    units = markdown_units(article_units, CANNABIS, tmp_path)
    assert len(units) > 20
    assert_each_once_in_order(units, parse_article(CANNABIS))


def test_line_numbers_count_the_front_matter(tmp_path: Path) -> None:
    source = "---\ntitle: T\n---\n\nIntro text here that is body.\n\n## Ends with a heading\n"
    article = parse_markdown(source, tmp_path / "x.md")
    assert [(b.line, b.rule) for b in article.dropped] == [(1, "front-matter"), (7, "heading-without-body")]


HUGO = """+++
title = "Naloxone at Home"
draft = false
+++

{{< lead >}}
Keeping naloxone at home is one of the simplest ways to prepare for an opioid overdose in the family.
{{< /lead >}}

{{< toc >}}

## Where to Keep It

Store it at room temperature where everyone in the house can find it quickly[^1].

{{< figure src="/img/kit.jpg" alt="A naloxone kit on a shelf" caption="A kit kept by the front door." >}}

{{% notice info %}}
Our pharmacy gives kits for free. [Ask for one](/pharmacy/)
{{% /notice %}}

> [!NOTE]
> Check the expiry date once a year and replace the kit when it runs out.

> [!TIP]
> Book a free training. [Call us](tel:+15550100)

{{< youtube id="abc123" title="Naloxone in two minutes" >}}

[^1]: Example Guide to Naloxone Storage. 2022.
"""


def test_front_matter_shortcodes_admonitions_and_footnotes(tmp_path: Path) -> None:
    article = parse_markdown(HUGO, tmp_path / "naloxone.md")
    assert article.title == "Naloxone at Home"  # TOML front matter
    assert article.intro[0].text.startswith("Keeping naloxone at home")  # a lead shortcode keeps its text
    blocks = article.sections[0].blocks
    assert blocks[0].text.endswith("find it quickly.")  # the footnote marker left the text
    assert blocks[1] == Paragraph("A kit kept by the front door.", role="caption")
    assert blocks[2].text == "Check the expiry date once a year and replace the kit when it runs out."  # no link
    assert len(blocks) == 4  # and the footnote, a source in small print at the end
    dropped: dict[str, list[str]] = {}
    for b in article.dropped:
        dropped.setdefault(b.rule or "", []).append(b.text)
    assert dropped["front-matter"] == ['title = "Naloxone at Home" draft = false']
    assert dropped["call-out"] == ["Our pharmacy gives kits for free. Ask for one", "Book a free training. Call us"]
    assert [t.split()[1] for t in dropped["placeholder"]] == ["toc", "youtube"]
    assert article.sections[0].blocks[-1] == Paragraph("Example Guide to Naloxone Storage. 2022.", role="caption")
