"""Rendering: every email's required parts, escaping of per-recipient values, size, lists, the CTA, compile-once,
and template errors. Series are built by hand; the brand is the real content/brand.toml."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import mjml
import pytest
from bs4 import BeautifulSoup

from campaigns.authoring import render
from campaigns.authoring.article import Article, BulletList, Paragraph, Section
from campaigns.authoring.content import StepContent
from campaigns.authoring.series import Series, Step
from campaigns.brand import load_brand
from campaigns.errors import RenderError

ROOT = Path(__file__).resolve().parents[2]
BRAND = load_brand(ROOT / "content" / "brand.toml")
BIO = "Jordan Avery is a clinical director who has worked in recovery care for twenty years."
UNSUB = "https://outreach.test/u/tok123"
PREFS = "https://outreach.test/p/tok123"
READER = "https://outreach.test/r/tok123"
VALUES = {
    "reader_url": READER,
    "first_name": "Sam",
    "unsubscribe_url": UNSUB,
    "preferences_url": PREFS,
    "next_day": "Wednesday",
    "crisis": render.crisis_block("US"),
}
UNRENDERED = re.compile(r"\{\{|\{%|\{#|%%[a-z_]*%%")

INTRO = (Paragraph("Quitting a medication on your own can feel like the “right” thing to do."),)
SLEEP = Section(
    "Why Sleep Changes First",
    (
        Paragraph("Sleep is often the first thing to change. It’s also the easiest to miss."),
        BulletList(("Waking at 3 a.m.", "Vivid dreams", "Feeling tired after eight hours")),
        Paragraph("None of these signs means something is wrong on its own."),
    ),
)
MOOD = Section("Mood & Energy", (Paragraph("Mood swings are common in the first weeks <and> they pass."),))
CLOSING = Section(
    "Talking to Someone Helps",
    (
        Paragraph("You do not have to work this out alone."),
        BulletList(("A free, private call", "A plan that fits your life")),
    ),
)


def make_series(
    *,
    bio: str | None = BIO,
    lesson_sections: tuple[Section, ...] = (SLEEP, MOOD),
    delays: tuple[int, int, int] = (2, 2, 2),
    closing: Section | None = CLOSING,
) -> Series:
    article = Article(
        title="Coming Off Sleep Aids", intro=INTRO, sections=lesson_sections, closing=closing, author_bio=bio
    )
    steps = (
        Step(
            1,
            "welcome",
            "Welcome to Coming Off Sleep Aids",
            "Three short emails on what to expect.",
            (),
            0,
            intro=INTRO,
        ),
        Step(
            2,
            "lesson",
            "Why Sleep Changes First",
            "2-minute read: sleep is often the first thing to change.",
            lesson_sections,
            delays[0],
        ),
        Step(3, "lesson", "Mood & Energy", "What to expect from your mood.", (MOOD,), delays[1]),
        Step(
            4,
            "cta",
            "Talking to Someone Helps",
            "You do not have to work this out alone.",
            (closing,) if closing else (),
            delays[2],
            author_bio=bio,
        ),
    )
    return Series(title=article.title, article=article, steps=steps)


SERIES = make_series()


def filled(step_number: int, series: Series = SERIES, values: dict = VALUES) -> tuple[str, str]:
    return render.compile_step(series, series.step(step_number), BRAND).fill(values)


def visible_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "title"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


@pytest.mark.parametrize("number", [1, 2, 4])
def test_every_email_has_the_required_parts_in_html_and_text(number):
    html, text = filled(number)
    soup = BeautifulSoup(html, "html.parser")
    step = SERIES.step(number)
    assert soup.html["lang"] == BRAND.language
    assert soup.find("a", href=UNSUB).get_text(strip=True) == "Unsubscribe"
    assert soup.find("a", href=PREFS).get_text(strip=True) == "Manage preferences"
    shown = visible_text(html)
    for part in (
        BRAND.name,
        BRAND.address,
        BRAND.notice,
        "Need help now?",
        "988 Suicide & Crisis Lifeline",
        "Written by Jordan Avery",
        step.preheader,
        "Hi Sam,",
    ):
        assert " ".join(part.split()) in shown, part
        assert part in text, part
    assert f"Unsubscribe: {UNSUB}" in text and f"Manage preferences: {PREFS}" in text
    assert text.splitlines()[0] == step.preheader


def test_preheader_is_hidden_at_the_top_of_the_body_and_padded():
    html, _ = filled(2)
    first = BeautifulSoup(html, "html.parser").body.find("div")
    preheader = SERIES.step(2).preheader
    assert first.get_text().startswith(preheader)
    # Then only invisible padding, so the inbox preview does not run on into "Agape Detox … Hi Sam,".
    padding = first.get_text()[len(preheader) :]
    assert len(padding) >= 100 and set(padding) <= {"\u200c", "\u00a0"}
    assert "display:none" in first["style"]


def test_author_line_falls_back_to_the_team_without_a_bio():
    html, text = filled(2, make_series(bio=None))
    assert f"From the {BRAND.name} team" in visible_text(html) and f"From the {BRAND.name} team" in text
    assert "About the author" not in visible_text(filled(4, make_series(bio=None))[0])


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_no_template_syntax_or_unfilled_slot_reaches_the_reader(number):
    content = render.compile_step(SERIES, SERIES.step(number), BRAND)
    assert "{{" not in content.html + content.text and "{%" not in content.html + content.text
    # Every email has reader links (pace where a next one follows, the last email's button); the last has no "next".
    expected = {"first_name", "unsubscribe_url", "preferences_url", "crisis", "reader_url"}
    assert content.slots == (expected | {"next_day"} if number < 4 else expected)
    for body in content.fill(VALUES):
        assert not UNRENDERED.search(body)


def test_template_syntax_in_article_text_is_refused():
    bad = Section("Odd", (Paragraph("Hello {{ first_name }} from the page."),))
    series = make_series(lesson_sections=(bad,))
    with pytest.raises(RenderError, match="unrendered template syntax"):
        render.compile_step(series, series.step(2), BRAND)


def test_hostile_name_is_escaped_in_html_and_left_as_is_in_text():
    hostile = "<script>alert(1)</script>"
    html, text = filled(2, values={**VALUES, "first_name": hostile})
    assert hostile not in html and "<script" not in html
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert f"Hi {hostile}," in text


def test_article_text_is_html_escaped_but_verbatim_in_text():
    html, text = filled(3)
    assert "Mood &amp; Energy" in html and "&lt;and&gt;" in html
    assert "Mood & Energy\n" in text and "common in the first weeks <and> they pass." in text


def test_text_twin_holds_every_sentence_verbatim_headings_on_own_lines_and_dash_items():
    _, text = filled(2)
    lines = text.splitlines()
    for section in (SLEEP, MOOD):
        assert section.heading in lines
        for block in section.blocks:
            if isinstance(block, Paragraph):
                assert block.text in text  # curly quotes and apostrophes kept
            else:
                positions = [lines.index(f"- {item}") for item in block.items]
                assert positions == sorted(positions)
    _, welcome = filled(1)
    assert INTRO[0].text in welcome and "“right”" in welcome


@pytest.mark.parametrize("number", [1, 2, 4])
def test_text_and_html_carry_the_same_words(number):
    html, text = filled(number)
    word = re.compile(r"[\w’']+")
    assert set(word.findall(visible_text(html))) == set(word.findall(re.sub(r"https?://\S+", "", text)))


def test_bullet_lists_are_real_lists_in_order_never_split():
    html, _ = filled(2)
    lists = BeautifulSoup(html, "html.parser").find_all("ul")
    assert [[li.get_text(strip=True) for li in ul.find_all("li")] for ul in lists] == [list(SLEEP.blocks[1].items)]
    headings = [h.get_text(strip=True) for h in BeautifulSoup(html, "html.parser").find_all("h2")]
    assert headings == ["Why Sleep Changes First", "Mood & Energy"]


def test_lesson_shows_reading_time():
    step = SERIES.step(2)
    html, text = filled(2)
    assert f"{step.reading_minutes}-minute read" in visible_text(html)
    assert f"{step.reading_minutes}-minute read" in text


def test_welcome_says_what_the_series_covers_how_often_and_how_many():
    html, text = filled(1)
    soup = BeautifulSoup(html, "html.parser")
    # One line per lesson, by its subject.
    assert [li.get_text(strip=True) for li in soup.find_all("li")] == ["Why Sleep Changes First", "Mood & Energy"]
    for body in (visible_text(html), text):
        assert "After this email come two short lessons, one every other day" in body
        assert INTRO[0].text in body
    assert "one every 2 to 3 days" in filled(1, make_series(delays=(2, 3, 2)))[1]
    assert "one every day," in filled(1, make_series(delays=(1, 1, 1)))[1]
    assert "lessons, twice a week," in filled(1, make_series(delays=(3, 4, 3)))[1]
    assert "one every 5 days" in filled(1, make_series(delays=(5, 5, 5)))[1]


def test_welcome_lists_the_lessons_as_edited():
    renamed = replace(
        SERIES, steps=tuple(replace(s, subject="Sleep, Week by Week") if s.number == 2 else s for s in SERIES.steps)
    )
    html, text = filled(1, renamed)
    assert BeautifulSoup(html, "html.parser").find("li").get_text(strip=True) == "Sleep, Week by Week"
    assert "- Sleep, Week by Week\n" in text


@pytest.mark.parametrize(
    ("number", "line"),
    [
        (1, "First lesson: “Why Sleep Changes First”, on Wednesday."),
        (2, "Next: “Mood & Energy”, on Wednesday."),
        (3, "Next, and last: “Talking to Someone Helps”, on Wednesday."),
    ],
)
def test_welcome_and_lessons_end_with_what_comes_next_and_a_way_to_reach_a_person(number, line):
    html, text = filled(number)
    assert line in text and line in visible_text(html)
    contact = f"Call us at {BRAND.phone_display}, or just reply to this email."
    soup = BeautifulSoup(html, "html.parser")
    tel = soup.find("a", href=BRAND.tel_url)
    assert tel.get_text(strip=True) == BRAND.phone_display
    assert contact in text and contact in " ".join(tel.find_parent("p").get_text().split())
    # Both lines come after the article and before the crisis help and the footer.
    shown = visible_text(html)
    assert shown.index(line) > shown.index("Hi Sam,") and shown.index(line) < shown.index("Need help now?")


def test_or_just_reply_only_where_the_brand_has_a_monitored_reply_to():
    html, text = render.compile_step(SERIES, SERIES.step(2), replace(BRAND, reply_to="")).fill(VALUES)
    assert f"Call us at {BRAND.phone_display}." in text and "just reply" not in text.lower()
    assert "just reply" not in visible_text(html)
    cta_html, cta_text = render.compile_step(SERIES, SERIES.step(4), replace(BRAND, reply_to="")).fill(VALUES)
    assert "just reply" not in cta_text.lower() and "just reply" not in visible_text(cta_html).lower()


def test_cta_has_an_https_button_a_phone_link_the_brand_and_the_bio():
    html, text = filled(4)
    soup = BeautifulSoup(html, "html.parser")
    # The button goes through our redirect (it counts the click, then goes to the brand's page), untracked by SendGrid.
    button = soup.find("a", href=READER)
    assert BRAND.cta_url not in html and button["clicktracking"] == "off"
    assert button.get_text(strip=True) == f"Contact {BRAND.name}"
    tel = soup.find("a", href=BRAND.tel_url)
    assert BRAND.tel_url.startswith("tel:+") and tel.get_text(strip=True) == BRAND.phone_display
    assert [h.get_text(strip=True) for h in soup.find_all("h2")] == [CLOSING.heading, "About the author"]
    assert BIO in visible_text(html)
    assert f"Contact {BRAND.name}: {READER}" in text and BRAND.phone_display in text and BIO in text


def test_cta_leads_with_the_phone_and_the_button_then_the_article_then_the_bio():
    html, text = filled(4)
    shown = visible_text(html)
    order = [f"Call {BRAND.phone_display}", f"Contact {BRAND.name}", CLOSING.heading, "About the author", BIO]
    assert [shown.index(part) for part in order] == sorted(shown.index(part) for part in order)
    assert [text.index(part) for part in order] == sorted(text.index(part) for part in order)
    assert "Next" not in text  # nothing comes after the last email
    assert "Or just reply to this email" in text


def test_cta_without_a_closing_section_still_invites_the_reader():
    series = make_series(closing=None)
    html, text = filled(4, series)
    assert BeautifulSoup(html, "html.parser").find("a", href=READER)
    assert "we are here to talk" in text


def test_html_reads_on_small_screens_and_in_dark_mode():
    html, _ = filled(2)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("meta", attrs={"name": "viewport"})
    assert soup.find("meta", attrs={"name": "color-scheme", "content": "light dark"})
    assert soup.find("meta", attrs={"name": "supported-color-schemes", "content": "light dark"})
    assert "prefers-color-scheme: dark" in html
    body_text = [d for d in soup.find_all("div") if SLEEP.blocks[0].text[:20] in d.get_text()][-1]
    assert int(re.search(r"font-size:(\d+)px", body_text["style"]).group(1)) >= 16
    assert all(img.get("alt") for img in soup.find_all("img"))
    cta = BeautifulSoup(filled(4)[0], "html.parser").find("a", href=READER)
    assert "width:100%" in cta.find_parent("table")["style"]  # full-width button on a 375 px screen


def test_html_stays_under_gmail_clip_size_for_a_long_section():
    para = Paragraph(" ".join(["Recovery takes time, and each week brings small changes worth noticing."] * 10))
    long = Section("A Long Section", (para,) * 25 + (BulletList(tuple(f"Item {i}" for i in range(40))),))
    series = make_series(lesson_sections=(long,))
    assert series.step(2).words > 2500
    html, _ = filled(2, series)
    assert len(html.encode("utf-8")) < 102_400


def test_html_over_the_clip_size_is_refused():
    para = Paragraph(" ".join(["Recovery takes time, and each week brings small changes worth noticing."] * 10))
    huge = make_series(lesson_sections=(Section("Too Long", (para,) * 160),))
    with pytest.raises(RenderError, match="Gmail clips"):
        render.compile_step(huge, huge.step(2), BRAND)


def test_mjml_is_compiled_once_per_step_and_fill_never_compiles(monkeypatch):
    calls = []
    real = mjml.mjml2html
    monkeypatch.setattr(mjml, "mjml2html", lambda source, **kw: calls.append(1) or real(source, **kw))
    content = render.compile_step(SERIES, SERIES.step(2), BRAND)
    assert len(calls) == 1
    for i in range(200):
        content.fill({**VALUES, "first_name": f"Reader {i}"})
    assert len(calls) == 1
    # StepContent is rebuilt from stored html/text at send time: filling it needs no templates either.
    stored = StepContent(content.subject, content.preheader, content.html, content.text)
    assert stored.fill(VALUES) == content.fill(VALUES)
    assert len(calls) == 1


def test_preview_fills_sample_values_and_shows_mjml_source():
    html = render.preview(SERIES, SERIES.step(2), BRAND, "html")
    text = render.preview(SERIES, SERIES.step(2), BRAND, "text")
    site = BRAND.website.rstrip("/")
    assert "Hi Alex," in text and f"Unsubscribe: {site}/unsubscribe?token=sample" in text
    assert BeautifulSoup(html, "html.parser").find("a", href=f"{site}/unsubscribe?token=sample")
    assert "Hi Sam," in render.preview(SERIES, SERIES.step(2), BRAND, "text", {"first_name": "Sam"})
    source = render.preview(SERIES, SERIES.step(2), BRAND, "mjml")
    assert source.lstrip().startswith(f'<mjml lang="{BRAND.language}"') and "%%unsubscribe_url%%" in source
    with pytest.raises(RenderError, match="unknown preview format"):
        render.preview(SERIES, SERIES.step(2), BRAND, "pdf")


@pytest.fixture
def templates(tmp_path, monkeypatch):
    """A copy of the real templates folder that a test may break."""
    folder = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, folder)
    monkeypatch.setattr(render, "TEMPLATES", folder)
    return folder


def test_template_syntax_error_names_template_and_line(templates):
    (templates / "lesson.mjml.j2").write_text('{% extends "layout.mjml.j2" %}\n\n{% block content %}{% if %}\n')
    with pytest.raises(RenderError, match=r"templates/lesson\.mjml\.j2:3: "):
        render.compile_step(SERIES, SERIES.step(2), BRAND)


def test_undefined_value_names_template_and_line(templates):
    (templates / "cta.txt.j2").write_text(
        '{% extends "layout.txt.j2" %}\n{% block content %}\n{{ brand.no_such_field }}\n{% endblock %}\n'
    )
    with pytest.raises(RenderError, match=r"templates/cta\.txt\.j2:3: .*no_such_field"):
        render.compile_step(SERIES, SERIES.step(4), BRAND)


def test_mjml_error_names_template_and_line(templates):
    (templates / "lesson.mjml.j2").write_text(
        '{% extends "layout.mjml.j2" %}\n{% block content %}\n        <mj-text>never closed\n{% endblock %}\n'
    )
    with pytest.raises(RenderError, match=r"templates/lesson\.mjml\.j2: MJML does not compile") as err:
        render.compile_step(SERIES, SERIES.step(2), BRAND)
    line = int(re.search(r"line (\d+) of the MJML", str(err.value)).group(1))
    assert render.render_mjml(SERIES, SERIES.step(2), BRAND).splitlines()[line - 1].strip() == "<mj-text>never closed"


def test_template_that_drops_the_unsubscribe_link_is_refused(templates):
    layout = templates / "layout.txt.j2"
    layout.write_text(layout.read_text().replace('Unsubscribe: {{ slot("unsubscribe_url") }}', ""))
    with pytest.raises(RenderError, match="unsubscribe_url"):
        render.compile_step(SERIES, SERIES.step(2), BRAND)


def test_no_remote_fonts_or_other_remote_resources():
    for number in (1, 2, 4):
        html, _ = filled(number)
        soup = BeautifulSoup(html, "html.parser")
        assert "fonts.googleapis" not in html and "@import" not in html
        assert not soup.find_all("link")
        assert not [t for t in soup.find_all(src=True)], "no images, scripts or frames"
        # Every URL in the email is a link the reader may follow, none is loaded on open.
        loaded = re.findall(r"url\(|background=|<img|<script|<iframe", html, re.I)
        assert loaded == []
        assert "-apple-system" in html  # the system font stack


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_text_parts_hold_no_html_entities(number):
    _, text = filled(number, values={**VALUES, "crisis": render.crisis_block("GB")})
    assert not re.search(r"&[a-zA-Z]+;|&#\d+;", text), re.search(r".{20}&[a-zA-Z#0-9]+;.{20}", text)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_emails_with_a_next_one_carry_the_pace_links_and_lessons_ask_was_this_useful(number):
    html, text = filled(number)
    soup = BeautifulSoup(html, "html.parser")
    reader_links = {a["href"]: a for a in soup.find_all("a", href=re.compile("^" + re.escape(READER)))}
    pace = {f"{READER}/pace/next", f"{READER}/pace/weekly", f"{READER}/pace/pause"}
    useful = {f"{READER}/useful/yes", f"{READER}/useful/no"}
    assert set(reader_links) == (pace | useful if SERIES.step(number).kind == "lesson" else pace)
    # SendGrid leaves them alone even with click tracking on: they carry only our token.
    assert all(a["clicktracking"] == "off" for a in reader_links.values())
    assert reader_links[f"{READER}/pace/next"].get_text(strip=True) == "Send me the next one now"
    for url in reader_links:
        assert url in text
