"""The whole series as one Markdown file, for staff who prefer their own editor: front matter for the series, then
per email a front matter block (subject, preheader, delay) followed by its sections as `##` headings (`###` for a
subsection) with their Markdown bodies; the welcome's opening comes before any heading.

    ---
    series: "Baclofen: what to know"
    kept: []
    dropped: ["p3f2a9c01"]
    ---

    ---
    email: 2
    kind: lesson
    subject: "What baclofen is for"
    preheader: "..."
    delay_days: 2
    ---

    ## What baclofen is for

    Baclofen is a muscle relaxant ...

Front matter values are written as JSON (which YAML reads the same way); read back, a value that is not JSON is
taken as the text it is, so `subject: Hello {{ first_name }}` works unquoted. `write` then `read` gives the draft
back exactly. A line of three dashes starts a front matter block, so a body cannot hold one (it never needs to).
"""

from __future__ import annotations

import json
import re
from typing import cast

from campaigns.authoring.draft import EmailDraft, SectionDraft, SeriesDraft
from campaigns.authoring.series import StepKind
from campaigns.errors import ArticleError

FENCE = "---"
KINDS = ("welcome", "lesson", "cta")
_HEADING = re.compile(r"^(#{2,4})(?:[ \t]+(.*?))?[ \t]*$")
_KEY = re.compile(r"^([a-z_]+)\s*:\s?(.*)$")
SERIES_KEYS = ("series", "kept", "dropped")
EMAIL_KEYS = ("email", "kind", "subject", "preheader", "delay_days")


def write(draft: SeriesDraft, slug: str = "") -> str:
    """The draft as the series file."""
    kept = sorted(k for k, v in draft.overrides.items() if v)
    dropped = sorted(k for k, v in draft.overrides.items() if not v)
    out = [
        FENCE,
        f"series: {_value(draft.name)}",
        f"kept: {json.dumps(kept)}",
        f"dropped: {json.dumps(dropped)}",
        FENCE,
    ]
    if slug:
        out.insert(1, f"# outreach campaign reimport {slug} FILE reads this file back as a new version")
    for n, e in enumerate(draft.emails, 1):
        out += [
            "",
            FENCE,
            f"email: {n}",
            f"kind: {e.kind}",
            f"subject: {_value(e.subject)}",
            f"preheader: {_value(e.preheader)}",
            f"delay_days: {e.delay_days}",
            FENCE,
        ]
        if e.intro:
            out += ["", e.intro]
        for s in e.sections:
            out += ["", ("#" * s.level + " " + s.heading).rstrip()]
            if s.body:
                out += ["", s.body]
    return "\n".join(out) + "\n"


def _value(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def read(text: str, name: str = "series.md") -> SeriesDraft:
    """The draft a series file says; ArticleError naming the file and line of the first thing wrong."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = _skip_blank(lines, 0)
    if i >= len(lines) or lines[i].strip() != FENCE:
        raise ArticleError(name, i + 1, "a series file starts with its front matter: a line of three dashes")
    head, i = _front_matter(lines, i, name, SERIES_KEYS)
    series_name = _text(head, "series", name)
    overrides = {k: True for k in _ids(head, "kept", name)}
    overrides.update({k: False for k in _ids(head, "dropped", name)})
    emails: list[EmailDraft] = []
    while True:
        i = _skip_blank(lines, i)
        if i >= len(lines):
            break
        if lines[i].strip() != FENCE:
            raise ArticleError(name, i + 1, "expected the front matter of the next email (a line of three dashes)")
        start = i + 1
        meta, i = _front_matter(lines, i, name, EMAIL_KEYS)
        number = meta.get("email", (len(emails) + 1, start))[0]
        if number != len(emails) + 1:
            raise ArticleError(name, meta["email"][1], f"expected email {len(emails) + 1}, found email {number}")
        kind = _text(meta, "kind", name, start)
        if kind not in KINDS:
            raise ArticleError(name, meta["kind"][1], f"kind {kind!r}: use welcome, lesson or cta")
        delay = meta.get("delay_days", (0, start))
        if not isinstance(delay[0], int) or isinstance(delay[0], bool):
            raise ArticleError(name, delay[1], f"delay_days must be a whole number of days, not {delay[0]!r}")
        end = _next_fence(lines, i)
        intro, sections = _body(lines[i:end], i, name, kind, len(emails) + 1)
        emails.append(
            EmailDraft(
                kind=cast(StepKind, kind),
                subject=_text(meta, "subject", name, start),
                preheader=_text(meta, "preheader", name, start, default=""),
                delay_days=delay[0],
                sections=tuple(sections),
                intro=intro,
            )
        )
        i = end
    if not emails:
        raise ArticleError(name, len(lines), "the file has no emails")
    return SeriesDraft(name=series_name, emails=tuple(emails), overrides=overrides)


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _next_fence(lines: list[str], i: int) -> int:
    while i < len(lines) and lines[i].strip() != FENCE:
        i += 1
    return i


def _front_matter(
    lines: list[str], i: int, name: str, keys: tuple[str, ...]
) -> tuple[dict[str, tuple[object, int]], int]:
    """The keys of the front matter block opening at line `i`: {key: (value, line)}, and the line after it."""
    found: dict[str, tuple[object, int]] = {}
    j = i + 1
    while j < len(lines) and lines[j].strip() != FENCE:
        line = lines[j]
        if line.strip() and not line.lstrip().startswith("#"):
            m = _KEY.match(line.strip())
            if not m:
                raise ArticleError(name, j + 1, f"expected `key: value` in the front matter, found {line.strip()!r}")
            key, raw = m.group(1), m.group(2).strip()
            if key not in keys:
                raise ArticleError(name, j + 1, f"unknown key {key!r}: use " + ", ".join(keys))
            found[key] = (_parse_value(raw), j + 1)
        j += 1
    if j >= len(lines):
        raise ArticleError(name, i + 1, "this front matter is never closed (a line of three dashes)")
    return found, j + 1


def _parse_value(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _text(meta: dict, key: str, name: str, line: int = 1, default: str | None = None) -> str:
    if key not in meta:
        if default is not None:
            return default
        raise ArticleError(name, line, f"the front matter has no `{key}`")
    value = meta[key][0]
    if not isinstance(value, str):  # `subject: 42` or `subject: [1]` read as JSON: the text as it was written
        return str(value) if isinstance(value, (int, float)) else json.dumps(value)
    return value


def _ids(meta: dict, key: str, name: str) -> list[str]:
    value, at = meta.get(key, ([], 1))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArticleError(name, at, f'`{key}` is a list of block ids, like ["p3f2a9c01"]')
    return value


def _body(lines: list[str], offset: int, name: str, kind: str, number: int) -> tuple[str, list[SectionDraft]]:
    """The opening (before any heading) and the sections of one email."""
    intro: list[str] = []
    sections: list[tuple[str, int, list[str]]] = []
    for j, line in enumerate(lines):
        m = _HEADING.match(line)
        if m:
            sections.append(((m.group(2) or "").strip(), len(m.group(1)), []))
        elif sections:
            sections[-1][2].append(line)
        else:
            if line.strip() and kind != "welcome":
                raise ArticleError(
                    name,
                    offset + j + 1,
                    f"email {number}: text before its first `##` heading (only the welcome has an opening of its own)",
                )
            intro.append(line)
    return _block("\n".join(intro)), [SectionDraft(h, _block("\n".join(b)), level) for h, level, b in sections]


def _block(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip("\n")
