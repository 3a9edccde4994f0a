"""Contacted-us records the clinic logs (a call, a text, a form), imported from a CSV: each is matched to a
subscriber by address (the keyed fingerprint, campaigns.addresses) and put down to the last email they had or acted
on before it: the lesson that came last before they reached out.

The file is read through the one CSV reader (campaigns.audience.csv_files). Every row is checked first; a file with
any bad row (an unreadable address or time, an unknown channel, a time in the future) imports nothing and reports
each by line. Rows whose address is no subscriber's are listed and skipped (the clinic logs every caller, not only
readers), and so are records already imported (the same person, time and channel), so a file can be imported again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, email_key, normalize_address
from campaigns.audience.csv_files import BadLine, Source, detect_format, header_and_rows
from campaigns.audience.subscribers import is_time_zone
from campaigns.audit import audit
from campaigns.db.models import Contact, Delivery, Enrollment, LessonFeedback, ReaderEvent, Subscriber
from campaigns.db.sql import insert_ignore
from campaigns.delivery import state as ds
from campaigns.delivery.schedule import zone
from campaigns.errors import ImportRowError
from campaigns.text_input import clean_line

MAX_ROWS = 50_000
MAX_PROBLEMS = 50  # reported by line; the count says how many in all
# What each column may be called in the header (lower-cased, spaces and dashes as underscores).
COLUMNS = {
    "address": ("address", "email", "email_address", "e_mail"),
    "time": ("time", "contacted_at", "when", "date_time", "datetime", "date"),
    "channel": ("channel", "via", "how", "source"),
}
# What the clinic may write for how the person reached out, and the name it is kept under.
CHANNELS = {
    "call": "call",
    "phone": "call",
    "phone call": "call",
    "text": "text",
    "sms": "text",
    "email": "email",
    "e-mail": "email",
    "form": "form",
    "web form": "form",
    "chat": "chat",
    "visit": "visit",
    "walk-in": "visit",
    "other": "other",
}
CHANNEL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(CHANNELS.values()))
_US_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")
FUTURE_SLACK = timedelta(minutes=5)  # a clock a little ahead of ours is not a mistake


@dataclass(frozen=True)
class ContactRow:
    line: int
    address: str
    at: datetime
    channel: str


@dataclass
class ContactImport:
    """What an import did (or, with problems, why it did nothing)."""

    rows: int = 0
    imported: int = 0
    attributed: int = 0  # of those imported, put down to a lesson
    already: int = 0  # the same record imported before
    unmatched: list[int] = field(default_factory=list)  # lines whose address is no subscriber's
    problems: list[str] = field(default_factory=list)  # "line N: what is wrong": nothing was imported
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem_count


def _column(header: list[str], name: str) -> int | None:
    names = [clean_line(h).lower().replace(" ", "_").replace("-", "_") for h in header]
    return next((i for i, h in enumerate(names) if h in COLUMNS[name]), None)


def parse_time(value: str, tz: str) -> datetime:
    """A contact time as people write it: ISO 8601 (2026-12-01 14:30, with an offset or Z or not) or US style
    (12/01/2026 2:30 PM); without an offset it is in `tz`. ValueError with what was expected."""
    text = clean_line(value)
    found: datetime | None = None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _US_FORMATS:
            try:
                found = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if found is None:
        raise ValueError(f"the time {text!r} cannot be read: write it like 2026-12-01 14:30 or 12/01/2026 2:30 PM")
    if len(text) <= 10 and ":" not in text:
        raise ValueError(f"the time {text!r} has a date but no time of day: write it like {text} 14:30")
    # Stored and compared in UTC (SQLite compares the stored text).
    return (found.replace(tzinfo=zone(tz)) if found.tzinfo is None else found).astimezone(UTC)


def read_contacts(
    source: Source, now: datetime, tz: str = "UTC", where: str = "the file"
) -> ContactImport | list[ContactRow]:
    """Every row of the file, checked; the problems by line instead when any row is bad."""
    if not is_time_zone(tz):
        raise ImportRowError(f"the time zone {clean_line(tz)[:64]!r} is not one we know (for example America/New_York)")
    fmt = detect_format(source)
    header, items = header_and_rows(source, fmt, where)
    columns = {name: _column(header, name) for name in COLUMNS}
    missing = [name for name, i in columns.items() if i is None]
    if missing:
        raise ImportRowError(
            f"{where}:1: the header has no {' or '.join(missing)} column; it needs address, time and channel "
            f"(found: {', '.join(clean_line(h) for h in header) or 'nothing'})"
        )
    rows: list[ContactRow] = []
    report = ContactImport()
    for item in items:
        if len(rows) + report.problem_count >= MAX_ROWS:
            raise ImportRowError(f"{where}: more than {MAX_ROWS} rows; split the file")
        if isinstance(item, BadLine):
            _problem(report, item.line, item.reason)
            continue
        cells = item.cells

        def cell(name: str, cells: list[str] = cells) -> str:
            i = columns[name]
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            address = normalize_address(cell("address"))
        except AddressError as err:
            _problem(report, item.line, f"the address {clean_line(cell('address'))[:80]!r} is not valid ({err})")
            continue
        try:
            at = parse_time(cell("time"), tz)
        except ValueError as err:
            _problem(report, item.line, str(err))
            continue
        if at > now + FUTURE_SLACK:
            _problem(report, item.line, f"the time {cell('time')!r} is in the future")
            continue
        channel = CHANNELS.get(clean_line(cell("channel")).lower())
        if channel is None:
            _problem(
                report,
                item.line,
                f"the channel {clean_line(cell('channel'))[:40]!r} is not one we know: use one of "
                + ", ".join(CHANNEL_NAMES),
            )
            continue
        rows.append(ContactRow(item.line, address, at, channel))
    report.rows = len(rows) + report.problem_count
    return report if report.problem_count else rows


def _problem(report: ContactImport, line: int, message: str) -> None:
    report.problem_count += 1
    if len(report.problems) < MAX_PROBLEMS:
        report.problems.append(f"line {line}: {message}")


def import_contacts(
    s: Session, source: Source, *, filename: str, actor: str, now: datetime, tz: str = "UTC"
) -> ContactImport:
    """Check the whole file, then match and attribute every row, in the caller's transaction; with any bad row,
    nothing is written and the report lists the problems."""
    read = read_contacts(source, now, tz, where=filename)
    if isinstance(read, ContactImport):
        return read
    report = ContactImport(rows=len(read))
    keys = {row.address: email_key(s, row.address) for row in read}
    found = dict(
        s.execute(select(Subscriber.email_key, Subscriber.id).where(Subscriber.email_key.in_(set(keys.values())))).all()
    )
    table = Contact.__table__
    for row in read:
        sid = found.get(keys[row.address])
        if sid is None:
            report.unmatched.append(row.line)
            continue
        last = last_email_before(s, sid, row.at)
        inserted = s.execute(
            insert_ignore(s, table, ["subscriber_id", "contacted_at", "channel"])
            .values(
                subscriber_id=sid,
                contacted_at=row.at,
                channel=row.channel,
                campaign_id=last[0] if last else None,
                step_number=last[1] if last else None,
                source=clean_line(filename)[:255],
                imported_by=actor[:120],
                imported_at=now,
            )
            .returning(table.c.id)
        ).first()
        if inserted is None:
            report.already += 1
            continue
        report.imported += 1
        report.attributed += last is not None
    audit(
        s,
        None,
        actor,
        "contacts imported",
        f"{report.imported} from {clean_line(filename)[:120]} ({report.attributed} put down to a lesson, "
        f"{report.already} already there, {len(report.unmatched)} matched no subscriber)",
        now,
    )
    return report


def last_email_before(s: Session, subscriber_id: int, at: datetime) -> tuple[int, int] | None:
    """(campaign, step) of the last email the subscriber had, or acted on from its links, before `at`."""
    candidates = [
        s.execute(
            select(Delivery.sent_at, Delivery.campaign_id, Delivery.step_number)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(
                Enrollment.subscriber_id == subscriber_id,
                Delivery.sent_at <= at,
                Delivery.status.in_(sorted(ds.SENT)),
            )
            .order_by(Delivery.sent_at.desc())
            .limit(1)
        ).first(),
        s.execute(
            select(ReaderEvent.at, ReaderEvent.campaign_id, ReaderEvent.step_number)
            .where(ReaderEvent.subscriber_id == subscriber_id, ReaderEvent.at <= at, ReaderEvent.step_number > 0)
            .order_by(ReaderEvent.at.desc())
            .limit(1)
        ).first(),
        s.execute(
            select(LessonFeedback.answered_at, LessonFeedback.campaign_id, LessonFeedback.step_number)
            .where(LessonFeedback.subscriber_id == subscriber_id, LessonFeedback.answered_at <= at)
            .order_by(LessonFeedback.answered_at.desc())
            .limit(1)
        ).first(),
    ]
    dated = [(c[0], c[1], c[2]) for c in candidates if c is not None and c[0] is not None]
    if not dated:
        return None
    _, campaign_id, step = max(dated, key=lambda c: c[0])
    return campaign_id, step


def import_contacts_file(s: Session, path: Path, *, actor: str, now: datetime, tz: str = "UTC") -> ContactImport:
    """`import_contacts` for a file on disk (the CLI)."""
    if not path.is_file():
        raise ImportRowError(f"{path}: no such file")
    return import_contacts(s, path, filename=path.name, actor=actor, now=now, tz=tz)
