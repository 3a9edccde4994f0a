"""Edits staff make to a campaign, each one a new immutable version, and the diff between two versions.

A new version holds every step: unchanged steps are copied as compiled, only changed ones are compiled again. The
send path always sends the campaign's *current* version of a step, and an enrollment's `next_step` says which step
comes next, so a subscriber already past a step is never mailed it again and one still before it gets the new one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, auto
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from campaigns.audit import audit
from campaigns.authoring.content import StepContent
from campaigns.authoring.draft import from_series, to_series
from campaigns.authoring.inbox import SUBJECT_LIMIT
from campaigns.authoring.merge_tags import to_slots
from campaigns.authoring.parsing import ArticleSource, parse_source, read_file
from campaigns.authoring.planning import (
    DEFAULT_DELAY_DAYS,
    PREHEADER_LIMIT,
    plan_series,
)
from campaigns.authoring.series import Series
from campaigns.brand import Brand
from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    StepRow,
    Subscriber,
)
from campaigns.delivery import state as ds
from campaigns.delivery.schedule import (
    SendingWindow,
    first_due,
    next_due,
    window_of,
    zone,
)
from campaigns.delivery.tick import release_prepared
from campaigns.errors import NotFound, StateError
from campaigns.management.lifecycle import require_move
from campaigns.management.records import (
    article_for,
    current_steps,
    draft_of,
    get_campaign,
    source_of,
    store_version,
    stored_draft,
    stored_series,
    titled,
    version_steps,
    with_stored_values,
)
from campaigns.text_input import clean_line

MAX_DELAY_DAYS = 365
MAX_DAILY_CAP = 100_000_000  # far above any list; beyond it a number is a typo (and 10**20 overflows the column)


class Keep(Enum):
    """`daily_cap=KEEP_CAP`: leave the daily cap as it is (None means "no cap")."""

    CAP = auto()


KEEP_CAP = Keep.CAP


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a campaign."""

    step: int
    field: str  # subject | preheader | delay | kind | content | added | removed
    before: str = ""
    after: str = ""
    diff: tuple[str, ...] = ()  # unified diff of the text version, for `content`
    words: tuple[tuple[str, str], ...] = ()  # the changed words in context, for `content`: (same|del|ins, text)

    def __str__(self) -> str:
        if self.field == "added":
            return f"step {self.step} added: {self.after}"
        if self.field == "removed":
            return f"step {self.step} removed: {self.before}"
        if self.field == "content":
            return f"step {self.step} content changed" + (f" ({self.after})" if self.after else "")
        return f"step {self.step} {self.field}: {self.before!r} -> {self.after!r}"


# ---------------------------------------------------------------------------------------------------- step edits


def edit_step(
    s: Session,
    slug: str,
    number: int,
    brand: Brand,
    now: datetime,
    *,
    actor: str,
    subject: str | None = None,
    preheader: str | None = None,
    delay_days: int | None = None,
) -> CampaignVersion:
    """Change one step's subject, preheader and/or delay; a new version, only the changed steps compiled again."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "edit")
    rows = current_steps(s, campaign)
    if not 1 <= number <= len(rows):
        raise NotFound(f"campaign {slug!r} has no step {number}: its steps are 1 to {len(rows)}")
    old = rows[number - 1]
    draft = draft_of(s, campaign)
    typed = draft.emails[number - 1]
    new_subject = _valid_subject(subject) if subject is not None else typed.subject
    new_preheader = _valid_preheader(preheader) if preheader is not None else typed.preheader
    new_delay = _valid_delay(number, delay_days) if delay_days is not None else old.delay_days
    changes = [
        f"{label} {a!r} -> {b!r}"
        for label, a, b in (
            ("subject", typed.subject, new_subject),
            ("preheader", typed.preheader, new_preheader),
            ("delay", old.delay_days, new_delay),
        )
        if a != b
    ]
    if not changes:
        raise StateError(f"step {number} of {slug!r} already has these values: nothing to change")
    emails = list(draft.emails)
    emails[number - 1] = replace(typed, subject=new_subject, preheader=new_preheader, delay_days=new_delay)
    new_draft = replace(draft, emails=tuple(emails))
    edited = {
        number: (
            to_slots(new_subject, f"the subject of email {number}", "subject"),
            to_slots(new_preheader, f"the preheader of email {number}", "preheader"),
            new_delay,
        )
    }
    # The edited step; the one before it, whose "Next:" line names this one by its subject; and the welcome email,
    # which lists the lessons by subject and says how often they come. A step whose content comes out the same
    # stays byte for byte what it was. (No preheader is recompiled: none depends on a delay or another subject.)
    recompile = {number, max(1, number - 1), 1}
    new_rows = _next_rows(s, campaign, rows, brand, edited, recompile)
    version = store_version(
        s,
        campaign,
        new_rows,
        *source_of(s, campaign),
        note=f"step {number}: " + "; ".join(changes),
        now=now,
        draft=new_draft,
    )
    if new_delay != old.delay_days:
        reschedule_waiting(s, campaign, new_rows, steps={number})
    audit(s, campaign, actor, "edited", f"version {version.number}: step {number}: " + "; ".join(changes), now)
    return version


def edit_window(
    s: Session,
    slug: str,
    now: datetime,
    *,
    actor: str,
    window: SendingWindow | None = None,
    daily_cap: int | Keep | None = KEEP_CAP,
) -> CampaignVersion:
    """Change the sending window and/or the daily cap (None: no cap); a new version, steps copied unchanged."""
    campaign = get_campaign(s, slug)
    require_move(campaign, "edit")
    before_window = window_of(campaign)
    changes = []
    if window is not None and window != before_window:
        changes.append(f"window {before_window.describe()} -> {window.describe()}")
    if not isinstance(daily_cap, Keep) and daily_cap != campaign.daily_cap:
        if daily_cap is not None and (not isinstance(daily_cap, int) or not 1 <= daily_cap <= MAX_DAILY_CAP):
            raise StateError(
                f"the daily cap must be a whole number from 1 to {MAX_DAILY_CAP:,} (or empty for none), "
                f"not {daily_cap!r}",
                field="daily_cap",
            )
        changes.append(f"daily cap {campaign.daily_cap or 'none'} -> {daily_cap or 'none'}")
    if not changes:
        raise StateError(f"campaign {slug!r} already has this sending window and cap: nothing to change")
    if window is not None:
        campaign.window_days = sorted(window.days)
        campaign.window_start_hour, campaign.window_end_hour = window.start_hour, window.end_hour
    if not isinstance(daily_cap, Keep):
        campaign.daily_cap = daily_cap
    rows = current_steps(s, campaign)
    new_rows = [_copy(r) for r in rows]
    version = store_version(s, campaign, new_rows, *source_of(s, campaign), note="; ".join(changes), now=now)
    # Emails prepared for the start were made under the old window and cap: they wait again, planned anew.
    release_prepared(s, campaign.id)
    if window is not None and window != before_window:
        reschedule_waiting(s, campaign, new_rows)
    audit(s, campaign, actor, "edited", f"version {version.number}: " + "; ".join(changes), now)
    return version


# ------------------------------------------------------------------------------------------------------ re-import


def reimport_article(
    s: Session, slug: str, path: Path | ArticleSource | None, brand: Brand, now: datetime, *, actor: str
) -> CampaignVersion:
    """Plan and compile the steps again from a revised article (a file, or a loaded source: pasted text, a fetched
    page) or, without one, from the stored article with today's brand and templates. Staff edits to subjects,
    preheaders and delays are kept while the article still plans the same steps (same count, kinds and sections);
    otherwise the new plan is taken as it is."""

    campaign = get_campaign(s, slug)
    require_move(campaign, "edit")
    rows = current_steps(s, campaign)
    source, fmt = source_of(s, campaign)
    name = Path(f"{slug}.stored")
    revised = path if isinstance(path, ArticleSource) or path is None else read_file(Path(path))
    kept = stored_draft(s, campaign)
    overrides = dict(kept.overrides) if kept is not None else {}
    same_shape = True
    if revised is None and kept is not None:
        # The series as staff shaped it, compiled again: their words and cuts stay, only brand and templates move.
        series = with_stored_values(to_series(kept, article_for(s, campaign, overrides, kept.name)), rows)
        draft = kept
    else:
        if revised is not None:
            source, fmt, name = revised.text, revised.fmt, revised.name
        delay = rows[1].delay_days if len(rows) > 1 else DEFAULT_DELAY_DAYS
        # Block ids depend only on what a block says, so the blocks staff kept or dropped keep their choice.
        series = plan_series(parse_source(source, fmt, name, overrides or None), delay_days=max(1, delay))
        # Subscribers signed up for the series under its title ("email 3 of 9 of <title>"): it stays as it was.
        series = titled(series, campaign.title)
        same_shape = [(st.kind, st.section_headings) for st in series.steps] == [(r.kind, r.sections) for r in rows]
        if same_shape:
            series = with_stored_values(series, rows)
        draft = from_series(series, overrides)
        if same_shape and kept is not None:
            draft = replace(
                draft,
                emails=tuple(
                    replace(e, subject=k.subject, preheader=k.preheader)
                    for e, k in zip(draft.emails, kept.emails, strict=True)
                ),
            )
    new_rows = compiled_rows(series, brand)
    if [_essence(r) for r in new_rows] == [_essence(r) for r in rows] and source == source_of(s, campaign)[0]:
        raise StateError(
            f"re-import of {slug!r} changes nothing: the article, brand and templates give the same "
            f"emails as version {campaign.current_version}"
        )
    removed = len(rows) - len(new_rows)
    if removed > 0:
        _refuse_removing_in_flight(s, campaign, len(new_rows))
    what = (
        f"from {revised.label}"
        if revised is not None
        else "from the stored article with the current brand and templates"
    )
    note = f"re-imported {what}: {len(new_rows)} steps" + (
        "" if same_shape else " (re-planned; earlier edits replaced)"
    )
    version = store_version(s, campaign, new_rows, source, fmt, note=note, now=now, draft=draft)
    if removed > 0:
        complete_past(s, campaign, len(new_rows))
    reschedule_waiting(s, campaign, new_rows)
    audit(s, campaign, actor, "reimported", f"version {version.number}: {note}", now)
    return version


def complete_past(s: Session, campaign: Campaign, last: int) -> None:
    """Those already past the new last step have had the whole series: their enrollment is completed."""
    s.execute(
        update(Enrollment)
        .where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.status == "active",
            Enrollment.next_step > last,
        )
        .values(status="completed", next_due_at=None)
    )


def _refuse_removing_in_flight(s: Session, campaign: Campaign, keep: int) -> None:
    busy = s.scalar(
        select(Delivery.step_number)
        .where(
            Delivery.campaign_id == campaign.id,
            Delivery.step_number > keep,
            Delivery.status.in_((ds.QUEUED, ds.SENDING, ds.SUBMITTING)),
        )
        .limit(1)
    )
    if busy is not None:
        raise StateError(
            f"step {busy} of {campaign.slug!r}, which the revised article drops, is being sent right "
            f"now; pause the campaign, wait a minute for the queue to drain, then re-import"
        )


# ------------------------------------------------------------------------------------------------------------ diff


def diff_versions(s: Session, slug: str, a: int, b: int) -> list[Change]:
    """What changed from version `a` to version `b`, step by step (text diffs by difflib)."""
    campaign = get_campaign(s, slug)
    old = {r.number: r for r in version_steps(s, campaign, a)}
    new = {r.number: r for r in version_steps(s, campaign, b)}
    out: list[Change] = []
    for n in sorted(old.keys() | new.keys()):
        x, y = old.get(n), new.get(n)
        if x is None:
            out.append(Change(n, "added", after=new[n].subject))
            continue
        if y is None:
            out.append(Change(n, "removed", before=x.subject))
            continue
        for field, before, after in (
            ("kind", x.kind, y.kind),
            ("subject", x.subject, y.subject),
            ("preheader", x.preheader, y.preheader),
            ("delay", f"{x.delay_days} days", f"{y.delay_days} days"),
        ):
            if before != after:
                out.append(Change(n, field, before, after))
        if x.text != y.text:
            lines = tuple(
                difflib.unified_diff(
                    x.text.splitlines(), y.text.splitlines(), f"version {a}", f"version {b}", n=1, lineterm=""
                )
            )
            out.append(
                Change(
                    n,
                    "content",
                    after="text and HTML" if x.html != y.html else "text",
                    diff=lines,
                    words=word_changes(x.text, y.text),
                )
            )
        elif x.html != y.html:
            out.append(Change(n, "content", after="HTML only, the text is the same"))
    return out


def word_changes(before: str, after: str, context: int = 6) -> tuple[tuple[str, str], ...]:
    """The words that changed between two texts, each run with a few words of context either side (runs of
    unchanged words between changes are shortened to "…")."""
    a, b = before.split(), after.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context:
                head = " ".join(same[:context]) if out else ""
                tail = " ".join(same[-context:]) if i2 < len(a) or j2 < len(b) else ""
                same_text = " … ".join(t for t in (head, tail) if t)
                out.append(("same", ("… " if not head else "") + same_text + (" …" if not tail else "")))
            else:
                out.append(("same", " ".join(same)))
            continue
        if i2 > i1:
            out.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("ins", " ".join(b[j1:j2])))
    return tuple(out)


def version_notes(s: Session, slug: str, a: int, b: int) -> list[tuple[int, str]]:
    """The notes of the versions after `a` up to `b` (what each edit was, including window and cap edits)."""
    campaign = get_campaign(s, slug)
    lo, hi = sorted((a, b))
    return list(
        s.execute(
            select(CampaignVersion.number, CampaignVersion.note)
            .where(
                CampaignVersion.campaign_id == campaign.id, CampaignVersion.number > lo, CampaignVersion.number <= hi
            )
            .order_by(CampaignVersion.number)
        ).all()
    )


# -------------------------------------------------------------------------------------------- rescheduling waits


def reschedule_waiting(
    s: Session, campaign: Campaign, rows: list[StepRow], steps: set[int] | None = None, page: int = 5000
) -> int:
    """Work out again when each waiting subscriber's next email is due, from the new delays and window.

    Only enrollments that wait (active, with a due time) move; the ones being sent right now keep their email.
    `steps` limits it to those waiting for these step numbers. Walks by id cursor, `page` rows at a time.
    """
    delays = {r.number: r.delay_days for r in rows}
    window = window_of(campaign)
    moved, after = 0, 0
    while True:
        query = (
            select(
                Enrollment.id,
                Enrollment.next_step,
                Enrollment.last_sent_at,
                Enrollment.enrolled_at,
                Subscriber.timezone,
            )
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            .where(
                Enrollment.campaign_id == campaign.id,
                Enrollment.id > after,
                Enrollment.status == "active",
                Enrollment.next_due_at.is_not(None),
            )
            .order_by(Enrollment.id)
            .limit(page)
        )
        if steps is not None:
            query = query.where(Enrollment.next_step.in_(steps))
        found = s.execute(query).all()
        if not found:
            return moved
        params = []
        for eid, step, last_sent, enrolled, tz in found:
            if step == 1 or last_sent is None:
                due = first_due(campaign.start_at, enrolled, zone(tz), window) if campaign.start_at else None
            elif step in delays:
                due = next_due(last_sent, delays[step], zone(tz), window)
            else:
                continue
            params.append({"e_id": eid, "due": due})
        if params:
            t = Enrollment.__table__
            s.connection().execute(
                update(t)
                .where(t.c.id == bindparam("e_id"), t.c.status == "active")
                .values(next_due_at=bindparam("due")),
                params,
            )
        moved, after = moved + len(params), found[-1][0]


# ------------------------------------------------------------------------------------------------------- helpers


def _next_rows(
    s: Session,
    campaign: Campaign,
    rows: list[StepRow],
    brand: Brand,
    edited: dict[int, tuple[str, str, int]],
    recompile: set[int],
) -> list[StepRow]:
    """The rows of the next version: edited values applied, `recompile` steps compiled again, the rest copied."""
    from campaigns.authoring.render import compile_step

    out = []
    for r in rows:
        subject, preheader, delay = edited.get(r.number, (r.subject, r.preheader, r.delay_days))
        out.append(_copy(r, subject=subject, preheader=preheader, delay_days=delay))
    if recompile:
        series = stored_series(s, campaign, out)
        for n in sorted(recompile):
            content = compile_step(series, series.step(n), brand)
            row = out[n - 1]
            row.subject, row.preheader, row.html, row.text = (
                content.subject,
                content.preheader,
                content.html,
                content.text,
            )
    return out


def compiled_rows(series: Series, brand: Brand) -> list[StepRow]:
    """New, unsaved rows for every step of the series, each compiled once."""
    from campaigns.authoring.render import compile_step

    return [
        _row(
            step.number,
            step.kind,
            step.delay_days,
            step.section_headings,
            step.words,
            compile_step(series, step, brand),
        )
        for step in series.steps
    ]


def _copy(r: StepRow, **changes) -> StepRow:
    values = {
        c: getattr(r, c)
        for c in ("number", "kind", "subject", "preheader", "delay_days", "sections", "words", "html", "text")
    }
    values.update(changes)
    return StepRow(**values)


def _row(number: int, kind: str, delay: int, sections: list[str], words: int, content: StepContent) -> StepRow:
    return StepRow(
        number=number,
        kind=kind,
        subject=content.subject,
        preheader=content.preheader,
        delay_days=delay,
        sections=sections,
        words=words,
        html=content.html,
        text=content.text,
    )


def _essence(r: StepRow) -> tuple:
    return (r.number, r.kind, r.subject, r.preheader, r.delay_days, r.html, r.text)


def _valid_subject(value: str) -> str:
    value = clean_line(value)
    if not value:
        raise StateError("the subject cannot be empty", field="subject")
    if len(value) > SUBJECT_LIMIT:
        raise StateError(
            f"the subject is {len(value)} characters; keep it to {SUBJECT_LIMIT} (inboxes show about 60)",
            field="subject",
        )
    return value


def _valid_preheader(value: str) -> str:
    value = clean_line(value)
    if len(value) > PREHEADER_LIMIT:
        raise StateError(f"the preheader is {len(value)} characters; keep it to {PREHEADER_LIMIT}", field="preheader")
    return value


def _valid_delay(number: int, days: int) -> int:
    if number == 1:
        raise StateError(
            "step 1 goes out at the campaign start, so it has no delay; move the start instead",
            field="delay_days",
            cli_hint="`outreach campaign schedule SLUG --start ...`",
        )
    if not 1 <= days <= MAX_DELAY_DAYS:
        raise StateError(f"the delay must be 1 to {MAX_DELAY_DAYS} days, not {days}", field="delay_days")
    return days
