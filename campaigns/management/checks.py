"""Checks before scheduling: what would make a campaign's emails wrong, clipped, broken or unsafe to send.

Each check looks at the campaign's current version as subscribers will get it (the compiled content filled with a
sample subscriber's values). A problem is `blocking` when it must be fixed first. Placeholder links and example brand
values block only for a real backend (SendGrid, SMTP): the outbox writes local files, so for it they are warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from campaigns.authoring.content import SLOT, SLOTS, SlotValue, StepContent
from campaigns.authoring.inbox import SUBJECT_LIMIT
from campaigns.authoring.planning import PREHEADER_LIMIT, PREHEADER_MAX, PREHEADER_MIN, SUBJECT_MAX
from campaigns.brand import PLACEHOLDER_HOST, Brand
from campaigns.db.models import Campaign, StepRow
from campaigns.errors import OutreachError
from campaigns.settings import Settings

# Gmail clips a message whose HTML is over 102 KB and hides the rest (with the unsubscribe link) behind a link.
HTML_MAX_BYTES = 102 * 1024
# Template syntax that must never reach a reader: Jinja2 ({{ }}, {% %}, {# #}) and our own unfilled %%slots%%.
UNRENDERED = re.compile(r"\{\{|\{%|\{#|%%[a-z_]*%%")
TEXT_URL = re.compile(r"https?://[^\s<>()\"']+")
SAMPLE_NAME = "Sam"
# An itsdangerous token as our links carry it: payload.timestamp.signature, in URL-safe base64.
SIGNED_TOKEN = re.compile(r"(?<=/)[\w-]+\.[\w-]{4,}\.[\w-]{20,}")


@dataclass(frozen=True)
class Problem:
    step: int | None  # None: the campaign or brand as a whole
    message: str
    blocking: bool = True
    cli_hint: str | None = None  # what the command line adds (the admin page offers its own button)

    def __str__(self) -> str:
        return f"{f'step {self.step}: ' if self.step else ''}{self.message}"


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocking]


def sample_values(settings: Settings | None, country: str | None = "US") -> dict[str, SlotValue]:
    """A sample subscriber's slot values (a reader in `country`, the brand's own); links point at the real web app
    but carry no real subscriber's token."""
    from campaigns.authoring.render import crisis_block
    from campaigns.tokens import SAMPLE_SUBSCRIBER, Links, Tokens

    reader: dict[str, SlotValue] = {"first_name": SAMPLE_NAME, "next_day": "Wednesday", "crisis": crisis_block(country)}
    if settings is None:
        base = "https://outreach.invalid"  # no settings: slot links are not judged (see check_campaign)
        return {
            **reader,
            "unsubscribe_url": f"{base}/u/sample",
            "preferences_url": f"{base}/p/sample",
            "reader_url": f"{base}/r/sample",
        }
    # The sample subscriber exists in no database: a click on a preview's or test's link unsubscribes nobody, and
    # the page it opens says it was a test.
    links = Links(settings.base_url, Tokens(settings.secret_key))
    return {
        **reader,
        "unsubscribe_url": links.unsubscribe_url(SAMPLE_SUBSCRIBER),
        "preferences_url": links.preferences_url(SAMPLE_SUBSCRIBER),
        "reader_url": links.reader_url(SAMPLE_SUBSCRIBER, 0, 0),
    }


def check_campaign(
    s: Session, campaign: Campaign, *, brand: Brand | None = None, settings: Settings | None = None
) -> list[Problem]:
    """Every problem with the campaign's current version, blocking ones and warnings, in step order."""
    from campaigns.management.records import current_steps

    real = settings is not None and settings.email_backend != "outbox"
    problems: list[Problem] = []
    if brand is not None and brand.placeholders():
        # By value, whatever the file's `examples` says: a 555 number or an example.org link is no real one either.
        problems.append(
            Problem(
                None,
                f"the brand file still holds placeholder values: {brand.placeholder_summary()}; replace them with "
                "the organisation's own, and take them off its `examples` list",
                blocking=real,
            )
        )
    if settings is not None:
        problems += _check_base_url(settings.base_url, real=real)
    rows = current_steps(s, campaign)
    if not rows:
        return [*problems, Problem(None, "the current version has no steps")]
    values = sample_values(settings, brand.country if brand is not None else "US")
    # The links the app fills in (unsubscribe, preferences, the reader links under reader_url) are judged once, by
    # OUTREACH_BASE_URL above: each email's copy of them would only say it again (with a signed token in the line).
    links = {v for k, v in values.items() if k.endswith("_url") and isinstance(v, str)}
    per_step: list[Problem] = []
    for row in rows:
        per_step += check_step(row, values, real=real, skip_links=links)
    problems += merged(per_step)
    if brand is not None:
        problems += _check_renders(s, campaign, rows, brand)
    return problems


def _check_base_url(base_url: str, *, real: bool) -> list[Problem]:
    """OUTREACH_BASE_URL, which every unsubscribe and preference link starts with."""
    if not base_url.startswith("https://"):
        return [Problem(None, f"OUTREACH_BASE_URL is {base_url}: unsubscribe links must be https (RFC 8058)", real)]
    host = urlsplit(base_url).hostname or ""
    if PLACEHOLDER_HOST.search(host):
        return [
            Problem(
                None,
                f"OUTREACH_BASE_URL is {base_url}, a placeholder host: the unsubscribe and preference links of "
                "every email point there",
                real,
            )
        ]
    return []


def merged(problems: list[Problem]) -> list[Problem]:
    """One line for the same problem in several steps (a footer link is in every step), in first-seen order."""
    steps: dict[tuple[str, bool], list[int | None]] = {}
    for p in problems:
        steps.setdefault((p.message, p.blocking), []).append(p.step)
    out = []
    for (message, block), numbers in steps.items():
        if len(numbers) == 1:
            out.append(Problem(numbers[0], message, block))
        else:
            out.append(Problem(None, f"steps {', '.join(map(str, numbers))}: {message}", block))
    return out


def check_step(
    row: StepRow, values: dict[str, SlotValue], *, real: bool, skip_links: set[str] | frozenset[str] = frozenset()
) -> list[Problem]:
    """The problems of one stored step, filled with `values`."""
    n, out = row.number, []
    # A merge tag in the subject or preheader is a slot like the body's: judged as the sample reader gets it.
    unknown_in_lines = (set(SLOT.findall(row.subject)) | set(SLOT.findall(row.preheader))) - set(SLOTS)
    subject = StepContent(row.subject, "", "", "").fill_subject(values).strip()
    preheader = StepContent(row.preheader, "", "", "").fill_subject(values).strip()
    if not subject:
        out.append(Problem(n, "the subject is empty"))
    elif len(subject) > SUBJECT_LIMIT:
        out.append(Problem(n, f"the subject is {len(subject)} characters; keep it to {SUBJECT_LIMIT}"))
    elif len(subject) > SUBJECT_MAX:
        out.append(
            Problem(
                n,
                f"the subject is {len(subject)} characters; inboxes cut it after about {SUBJECT_MAX}: shorten it",
                blocking=False,
            )
        )
    if len(preheader) > PREHEADER_LIMIT:
        out.append(Problem(n, f"the preheader is {len(preheader)} characters (at most {PREHEADER_LIMIT})"))
    elif not PREHEADER_MIN <= len(preheader) <= PREHEADER_MAX:
        # Shorter, and the inbox fills the preview with the email's header; longer, and phones cut it mid-phrase.
        out.append(
            Problem(
                n,
                f"the preheader is {len(preheader)} characters; {PREHEADER_MIN} to {PREHEADER_MAX} read best in an "
                "inbox preview",
                blocking=False,
            )
        )
    for label, value in (("subject", subject), ("preheader", preheader)):
        if UNRENDERED.search(value):
            out.append(Problem(n, f"the {label} holds template syntax: {value!r}"))
    content = StepContent(row.subject, row.preheader, row.html, row.text)
    unknown = (content.slots | unknown_in_lines) - set(SLOTS)
    if unknown:
        out.append(Problem(n, f"unknown placeholder(s) {', '.join(f'%%{u}%%' for u in sorted(unknown))}"))
    html, text = content.fill(values)
    if not html.strip() or not text.strip():
        out.append(Problem(n, f"the {'HTML' if not html.strip() else 'text'} version is empty"))
    size = len(html.encode("utf-8"))
    if size > HTML_MAX_BYTES:
        out.append(
            Problem(
                n,
                f"the HTML is {size / 1024:.1f} KB; Gmail clips emails over "
                f"{HTML_MAX_BYTES // 1024} KB (hiding the unsubscribe link): make the step shorter",
            )
        )
    for label, body in (("HTML", html), ("text", text)):
        found = UNRENDERED.search(body)
        if found:
            around = body[max(0, found.start() - 30) : found.end() + 30].replace("\n", " ")
            out.append(Problem(n, f"unrendered template syntax in the {label} version: …{around}…"))
    for url in sorted(u for u in links_in(html, text) if not _is_under(u, skip_links)):
        reason = bad_link(url)
        if reason:
            # A malformed link is always wrong; a placeholder or plain http one only matters for real mail.
            out.append(Problem(n, f"link {shown_link(url)}: {reason}", blocking=real or reason.startswith("malformed")))
    return out


def _is_under(url: str, roots: set[str] | frozenset[str]) -> bool:
    """The link is one of `roots` or a path under one (`<reader_url>/pace/next`)."""
    return url in roots or any(url.startswith(f"{root}/") for root in roots)


def links_in(html: str, text: str) -> set[str]:
    """Every link a reader can follow: hrefs of the HTML and URLs written out in the text version."""
    soup = BeautifulSoup(html, "html.parser")
    hrefs = {str(a["href"]).strip() for a in soup.find_all(href=True)}
    return {h for h in hrefs if h and not h.startswith("#")} | set(TEXT_URL.findall(text))


def shown_link(url: str) -> str:
    """A link fit to show: a signed token in it cut to its start, so no usable link leaks into a page or a log,
    and the line stays readable."""
    return SIGNED_TOKEN.sub(lambda m: m.group(0)[:8] + "…", url)


def bad_link(url: str) -> str | None:
    """Why a link is not fit to send, or None."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in ("mailto", "tel", "sms"):
        return None if len(url) > len(scheme) + 1 else "malformed: nothing after the scheme"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "malformed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "malformed: not an absolute web link"
    if UNRENDERED.search(url) or "{" in url:
        return "malformed: holds a template placeholder"
    if PLACEHOLDER_HOST.search(parts.hostname):
        return f"points at the placeholder host {parts.hostname}"
    if parts.scheme != "https":
        return "not https"
    return None


def _check_renders(s: Session, campaign: Campaign, rows: list[StepRow], brand: Brand) -> list[Problem]:
    """Render every step again from the stored article with today's brand and templates: it must still work, and
    content compiled with an older brand (say, before the example values were replaced) is worth refreshing."""
    from campaigns.management.records import rendered_again

    try:
        fresh = rendered_again(s, campaign, rows, brand)
    except OutreachError as err:
        return [Problem(None, f"the steps do not render any more: {err}")]
    stale = [
        row.number
        for row, content in zip(rows, fresh, strict=True)
        if (content.html, content.text) != (row.html, row.text)
    ]
    if not stale:
        return []
    return [
        Problem(
            None,
            f"step(s) {', '.join(map(str, stale))} were compiled with an older brand file or templates: "
            "compile them again",
            blocking=False,
            cli_hint=f"`outreach campaign reimport {campaign.slug}`",
        )
    ]
