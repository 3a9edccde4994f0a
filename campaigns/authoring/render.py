"""Render a series step once into `StepContent`: Jinja2 writes the MJML and its plain-text twin, mjml-python compiles
the MJML to HTML. Per-recipient values stay `%%slot%%` markers that `StepContent.fill` replaces at send time, so the
send path never renders a template or compiles MJML; the one piece that varies by reader (the crisis lines of their
country) is rendered once per country by `crisis_block` and shared.
"""

from __future__ import annotations

import re
import traceback
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

import jinja2
import mjml

from campaigns.authoring.article import BulletList, Paragraph, Table
from campaigns.authoring.content import REQUIRED_SLOTS, SLOT, SLOTS, Block, StepContent, slot
from campaigns.authoring.crisis import Line, country_name, crisis_lines
from campaigns.authoring.inbox import cadence_words, number_word, reading_time
from campaigns.authoring.series import Series, Step
from campaigns.brand import Brand
from campaigns.errors import RenderError
from campaigns.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
# Gmail clips a message whose HTML is over ~102 KB and hides the rest, unsubscribe link included, behind a link.
HTML_MAX_BYTES = 102_400
# Room left under the limit for what fill adds per recipient (a signed unsubscribe URL, an escaped name).
FILL_ROOM = 2_048
UNRENDERED = re.compile(r"\{\{|\{%|\{#")
TEMPLATE_FOR_KIND = {"welcome": "welcome", "lesson": "lesson", "cta": "cta"}
PreviewFormat = Literal["html", "text", "mjml"]
# Inbox previews show the preheader and then run on into whatever text comes next (the header, "Hi Alex,"); a run of
# invisible joiners and non-breaking spaces after the preheader fills the preview line instead.
PREVIEW_PADDING = "\u200c\u00a0" * 90
# No web fonts: mjml-python, like MJML, adds a Google Fonts <link> and @import for a font it knows (Roboto, Open Sans,
# ...) named in the font stack, which tells Google who opened a health email. The system stack needs none.
FONT_IMPORTS: dict[str, str] = {}
SYSTEM_FONTS = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


# SendGrid's per-link opt-out of click tracking: our reader links (pace, "was this useful?", the call to action
# through our redirect) must reach us unrewritten, whatever the campaign's tracking setting. mj-button drops
# attributes it does not know, so it is added to the compiled HTML.
_READER_HREF = f'href="{slot("reader_url")}'
_UNTRACKED_READER_HREF = f'clicktracking="off" {_READER_HREF}'


def compile_step(series: Series, step: Step, brand: Brand) -> StepContent:
    """The step's HTML (MJML compiled once) and plain text, with slot markers for the per-recipient values."""
    name = _template_name(step)
    source = render_mjml(series, step, brand)
    html = _compile_mjml(source, f"{name}.mjml.j2").replace(_READER_HREF, _UNTRACKED_READER_HREF)
    text = _tidy_text(_render(f"{name}.txt.j2", _context(series, step, brand)))
    for label, body in ((f"{name}.mjml.j2", html), (f"{name}.txt.j2", text)):
        _check_output(label, step, body)
    size = len(html.encode("utf-8"))
    if size > HTML_MAX_BYTES - FILL_ROOM:
        raise RenderError(
            f"step {step.number}: the HTML is {size / 1024:.0f} KB; Gmail clips emails over "
            f"{HTML_MAX_BYTES // 1024} KB (hiding the unsubscribe link): make the step shorter"
        )
    return StepContent(subject=step.subject, preheader=step.preheader, html=html, text=text)


def render_mjml(series: Series, step: Step, brand: Brand) -> str:
    """The Jinja-rendered MJML source of a step (what `outreach preview --format mjml` shows)."""
    return _render(f"{_template_name(step)}.mjml.j2", _context(series, step, brand))


def preview(series: Series, step: Step, brand: Brand, fmt: PreviewFormat, values: dict[str, str] | None = None) -> str:
    """One email as a reader sees it, filled with sample subscriber values (or `values`)."""
    if fmt == "mjml":
        return render_mjml(series, step, brand)
    if fmt not in ("html", "text"):
        raise RenderError(f"unknown preview format {fmt!r}: use html, text or mjml")
    html, text = compile_step(series, step, brand).fill({**sample_values(brand), **(values or {})})
    return html if fmt == "html" else text


def sample_values(brand: Brand) -> dict[str, str | Block]:
    """Slot values for previews: a sample reader in the brand's own country, and opaque example links."""
    site = brand.website.rstrip("/")
    return {
        "first_name": "Alex",
        "unsubscribe_url": f"{site}/unsubscribe?token=sample",
        "preferences_url": f"{site}/preferences?token=sample",
        "reader_url": f"{site}/r/sample",
        "next_day": "Wednesday",
        "crisis": crisis_block(brand.country),
    }


@cache
def crisis_block(country: str | None) -> Block:
    """The crisis lines for a country (or the fallback for None or a country with none held), rendered once per
    country per process: every reader in that country shares the same Block."""
    help_ = crisis_lines().help_for(country)
    if help_.country != country:  # "de", or a country with no lines held: share the block of what it comes to
        return crisis_block(help_.country)
    context: dict[str, object] = {
        "help": help_,
        "country_name": country_name(help_.country) if help_.country else None,
        "hint": _purpose_hint,
        "when": _when,
    }
    return Block(_render("crisis.html.j2", context).strip(), _tidy_text(_render("crisis.txt.j2", context)).strip())


# What a line is for, where its name does not say it.
_HINTS = {
    "suicide_crisis": ("crisis support", ("crisis", "suicide")),
    "mental_health": ("someone to talk to", ("mental health", "talk")),
    "substance_use": ("drugs and alcohol", ("drug", "alcohol")),
}


def _purpose_hint(line: Line) -> str | None:
    hint, named = _HINTS.get(line.purpose, ("", ()))
    return None if not hint or any(word in line.name.lower() for word in named) else hint


def _when(line: Line) -> str:
    """ "24/7, free", from what the source said (hours it did not confirm are left out); nothing for an emergency
    number, where it goes without saying."""
    if line.purpose == "emergency":
        return ""
    parts = [line.hours] if line.hours == "24/7" else []
    return ", ".join([*parts, "free"] if line.free else parts)


def cadence(series: Series) -> str | None:
    """How often the emails after the first come, in words ("every other day", "twice a week"), from the delays."""
    return cadence_words(s.delay_days for s in series.steps[1:])


def byline(series: Series, brand: Brand) -> str:
    author = series.article.author_name
    return f"Written by {author}" if author else f"From the {brand.name} team"


def _context(series: Series, step: Step, brand: Brand) -> dict[str, object]:
    total = len(series.steps)
    lessons = series.lessons
    has_cta = any(s.kind == "cta" for s in series.steps)
    organisation = brand.name if brand.legal_name in ("", brand.name) else f"{brand.name} ({brand.legal_name})"
    following = series.steps[step.number] if step.number < total else None
    return {
        "series": series,
        "step": step,
        "brand": brand,
        "total": total,
        "byline": byline(series, brand),
        "organisation": organisation,
        "reason": f"You are getting this email because you signed up for the {series.title} series from {brand.name}.",
        "plan_sentence": _plan_sentence(series),
        # The welcome lists the lessons by their subjects, so a renamed lesson is renamed there too.
        "topics": [s.subject for s in lessons],
        "closing_sentence": f"The last email is about how to reach {brand.name} when you would like to talk to "
        "someone. You do not have to wait for it: every email ends with our number."
        if has_cta and step.kind == "welcome"
        else None,
        "lead_sentence": "This is the last email of the series. If any of it raised questions, for you or for "
        f"someone you care about, you can talk them through with a person at {brand.name}.",
        "fallback_invitation": "If anything in this series raised questions for you or someone you care about, "
        "we are here to talk.",
        "following": following,
        "next_label": _next_label(step, following),
        "preview_padding": PREVIEW_PADDING,
        "font_family": SYSTEM_FONTS,
    }


def _plan_sentence(series: Series) -> str:
    lessons = len(series.lessons)
    how_often = cadence(series)
    if not lessons or not how_often:
        return "This email is the whole series. It covers:"
    rhythm = f"one {how_often}" if how_often.startswith("every") else how_often
    what = "a short lesson" if lessons == 1 else f"{number_word(lessons)} short lessons"
    minutes = max(s.reading_minutes for s in series.lessons)
    return f"After this email come {what}, {rhythm}, each {reading_time(minutes)} to read:"


def _next_label(step: Step, following: Step | None) -> str | None:
    """What the line that names the next email starts with."""
    if following is None:
        return None
    if step.kind == "welcome":
        return "First lesson"
    return "Next, and last" if following.kind == "cta" else "Next"


def _template_name(step: Step) -> str:
    try:
        return TEMPLATE_FOR_KIND[step.kind]
    except KeyError:
        raise RenderError(f"step {step.number}: no template for step kind {step.kind!r}") from None


@cache
def _environment(folder: Path) -> jinja2.Environment:
    """One Jinja environment per templates folder: it caches parsed templates, so each is read once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        # HTML-escape everything but the plain-text twins; article text and brand values are data, never markup.
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["slot"] = slot
    env.tests["bullet_list"] = lambda block: isinstance(block, BulletList)
    env.tests["paragraph"] = lambda block: isinstance(block, Paragraph)
    env.tests["table"] = lambda block: isinstance(block, Table)
    return env


def _render(name: str, context: dict[str, object]) -> str:
    try:
        return _environment(TEMPLATES).get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise RenderError(f"templates/{err.name or name}:{err.lineno}: {err.message}") from None
    except jinja2.TemplateNotFound as err:
        raise RenderError(f"template {err.name} not found in {TEMPLATES}") from None
    except jinja2.TemplateError as err:
        raise RenderError(f"{_template_frame(err, name)}: {err.message or err}") from None


def _template_frame(err: BaseException, name: str) -> str:
    """'templates/<file>:<line>' of the innermost template frame of a runtime error (Jinja rewrites tracebacks
    so template frames carry the template's file name and line)."""
    folder = str(TEMPLATES)
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if frame.filename.startswith(folder):
            return f"templates/{Path(frame.filename).name}:{frame.lineno}"
    return f"templates/{name}"


def _compile_mjml(source: str, template: str) -> str:
    try:
        return mjml.mjml2html(source, fonts=FONT_IMPORTS)
    except (ValueError, RuntimeError) as err:  # mjml-python reports every MJML problem as a ValueError
        line = _mjml_error_line(source, str(err))
        where = f"line {line} of the MJML it rendered" if line else "the MJML it rendered"
        raise RenderError(
            f"templates/{template}: MJML does not compile ({err}) at {where}",
            cli_hint="`outreach preview --format mjml` shows the MJML",
        ) from None


def _mjml_error_line(source: str, message: str) -> int | None:
    """The line of an MJML error: from the compiler's byte position when it gives one, else the first
    unbalanced <mj-*> tag."""
    found = re.search(r"position (\d+):\d+", message)
    if found:
        return source.encode("utf-8")[: int(found.group(1))].count(b"\n") + 1
    checker = _MjmlTagChecker()
    checker.feed(source)
    checker.close()
    return checker.problem_line()


class _MjmlTagChecker(HTMLParser):
    """Finds the first <mj-*> tag left open or closed out of order; the compiler's own messages give no line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, int]] = []
        self.bad_line: int | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "mjml" or tag.startswith("mj-"):
            self.open.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if not (tag == "mjml" or tag.startswith("mj-")) or self.bad_line:
            return
        if self.open and self.open[-1][0] == tag:
            self.open.pop()
        elif any(name == tag for name, _ in self.open):
            self.bad_line = self.open[-1][1]  # an inner tag was never closed: point at where it opened
        else:
            self.bad_line = self.getpos()[0]  # a closing tag with nothing to close

    def problem_line(self) -> int | None:
        if self.bad_line:
            return self.bad_line
        return self.open[-1][1] if self.open else None


def _check_output(template: str, step: Step, body: str) -> None:
    """Refuse output that would reach a reader broken: template syntax, unknown or missing slots."""
    found = UNRENDERED.search(body)
    if found:
        around = body[max(0, found.start() - 30) : found.end() + 30].replace("\n", " ")
        raise RenderError(
            f"templates/{template}: step {step.number}: unrendered template syntax in the output: …{around}…"
        )
    markers = set(SLOT.findall(body))
    unknown = markers - set(SLOTS)
    if unknown:
        raise RenderError(
            f"templates/{template}: step {step.number}: unknown placeholder(s) "
            + ", ".join(f"%%{u}%%" for u in sorted(unknown))
        )
    missing = set(REQUIRED_SLOTS) - markers
    if missing:
        raise RenderError(
            f"templates/{template}: step {step.number}: the output lacks "
            + ", ".join(f"%%{m}%%" for m in sorted(missing))
        )


def _tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row: layout only, never a sentence's characters."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


CONFIRM_SUBJECT = "Please confirm your subscription"
CONFIRM_PREHEADER = "One click and you are in: nothing else comes until you do."


def confirmation_content(brand: Brand, *, campaign_title: str, confirm_url: str) -> StepContent:
    """The double opt-in email (one per sign-up), with the same slots as a step for the unsubscribe link and crisis
    lines; its text part, like every text twin, is rendered without HTML escaping. It greets no one by name: whoever
    typed the address typed the name too."""
    context = {
        "brand": brand,
        "campaign_title": campaign_title,
        "confirm_url": confirm_url,
        "subject": CONFIRM_SUBJECT,
        "preheader": CONFIRM_PREHEADER,
        "preview_padding": PREVIEW_PADDING,
        "font_family": SYSTEM_FONTS,
    }
    html, text = _render("confirm.html.j2", context), _tidy_text(_render("confirm.txt.j2", context))
    return StepContent(CONFIRM_SUBJECT, CONFIRM_PREHEADER, html, text)


def crisis_sentence(country: str | None) -> str:
    """The crisis lines of a country in one sentence, for a web page's footer: its first crisis line and its
    emergency number, then the fallback for everyone else."""
    help_ = crisis_lines().help_for(country)
    if not help_.country:
        return help_.fallback
    crisis = next((line for line in help_.lines if line.purpose != "emergency"), None)
    emergency = next((line for line in help_.lines if line.purpose == "emergency"), None)
    parts = []
    if crisis is not None:
        how = "call or text" if crisis.call_or_text else "call"
        parts.append(f"{how} {crisis.call.display} ({crisis.name})")
    if emergency is not None:
        parts.append(f"call {emergency.call.display} in an emergency")
    where = country_name(help_.country)
    return f"If you are in crisis in {where}, {', or '.join(parts)}. Elsewhere, call your local emergency number."
