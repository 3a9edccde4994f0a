"""Render a series step once into `StepContent`: Jinja2 writes the MJML and its plain-text twin, mjml-python compiles
the MJML to HTML. Per-recipient values stay `%%slot%%` markers that `StepContent.fill` replaces at send time, so the
send path never renders a template or compiles MJML.
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
from campaigns.authoring.content import SLOT, SLOTS, StepContent, slot
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


def compile_step(series: Series, step: Step, brand: Brand) -> StepContent:
    """The step's HTML (MJML compiled once) and plain text, with slot markers for the per-recipient values."""
    name = _template_name(step)
    source = render_mjml(series, step, brand)
    html = _compile_mjml(source, f"{name}.mjml.j2")
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


def sample_values(brand: Brand) -> dict[str, str]:
    """Slot values for previews: a sample name and opaque example links on the brand's website."""
    site = brand.website.rstrip("/")
    return {
        "first_name": "Alex",
        "unsubscribe_url": f"{site}/unsubscribe?token=sample",
        "preferences_url": f"{site}/preferences?token=sample",
    }


def cadence(series: Series) -> str | None:
    """How often the emails after the first come ("a short email every 2 days"), from the steps' delays."""
    delays = sorted({s.delay_days for s in series.steps[1:]})
    if not delays:
        return None
    if len(delays) == 1:
        return "a short email every day" if delays[0] == 1 else f"a short email every {delays[0]} days"
    return f"a short email every {delays[0]} to {delays[-1]} days"


def byline(series: Series, brand: Brand) -> str:
    author = series.article.author_name
    return f"Written by {author}" if author else f"From the {brand.name} team"


def _context(series: Series, step: Step, brand: Brand) -> dict[str, object]:
    total = len(series.steps)
    more = total - 1
    how_often = cadence(series)
    if more and how_often:
        plan = (
            f"This is the first of {total} emails. After this one, you will get {how_often}, "
            f"each on one part of the topic:"
        )
    else:
        plan = "This email is the whole series. It covers:"
    has_cta = any(s.kind == "cta" for s in series.steps)
    organisation = brand.name if brand.legal_name in ("", brand.name) else f"{brand.name} ({brand.legal_name})"
    return {
        "series": series,
        "step": step,
        "brand": brand,
        "total": total,
        "byline": byline(series, brand),
        "organisation": organisation,
        "reason": f"You are getting this email because you signed up for the {series.title} series from {brand.name}.",
        "plan_sentence": plan,
        "closing_sentence": f"The last email says how to reach {brand.name} if you would like to talk to someone."
        if has_cta and step.kind == "welcome"
        else None,
        "fallback_invitation": "If anything in this series raised questions for you or someone you care about, "
        "we are here to talk.",
    }


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
        return mjml.mjml2html(source)
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
    missing = {"unsubscribe_url", "preferences_url", "first_name"} - markers
    if missing:
        raise RenderError(
            f"templates/{template}: step {step.number}: the output lacks "
            + ", ".join(f"%%{m}%%" for m in sorted(missing))
        )


def _tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row: layout only, never a sentence's characters."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
