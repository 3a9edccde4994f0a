"""Importing subscribers from a CSV file: each row validated and reported by line (which column holds what is
campaigns.audience.columns), then written a batch at a time.

The file is read through campaigns.audience.csv_files (encoding, delimiter, broken quotes), a batch of BATCH rows at
a time: one query per batch finds who is suppressed and who exists, bulk inserts write the rest. `import_batches`
yields after each batch, so the admin can commit and show progress while the CLI writes everything in one
transaction. Importing the same file twice changes nothing; a dry run reads and checks everything and writes nothing.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, AddressKey, address_key, normalize_address
from campaigns.audience.columns import IGNORE, MAX_CONSENT_SOURCE, ImportPlan, check_plan, strict_plan
from campaigns.audience.csv_files import BadLine, CsvFormat, Source, detect_format, header_and_rows
from campaigns.audience.subscribers import MAX_FIRST_NAME, MAX_NAME, is_time_zone
from campaigns.audience.tags import MAX_TAG, TagError, clean_tag, tag_ids, tag_subscribers
from campaigns.authoring.crisis import normalise_country
from campaigns.db.models import Enrollment, Subscriber
from campaigns.db.sql import bulk_insert, chunked, is_in
from campaigns.delivery.suppression import suppressed_keys
from campaigns.errors import ImportRowError
from campaigns.text_input import clean_line

BATCH = 5000


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do). `problems` are (line, reason) in file order; the admin keeps
    only the first MAX_KEPT of them (`problem_count` has them all)."""

    imported: int = 0  # new subscribers written
    enrolled: int = 0  # new enrollments into the campaign (new and existing active subscribers)
    skipped_existing: int = 0  # already subscribed: left as they are
    suppressed: int = 0  # on the suppression list: never imported
    tagged: int = 0  # subscribers given `tag_all` (new or already there)
    problems: list[tuple[int, str]] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0  # data rows read
    dry_run: bool = False

    MAX_KEPT = 100

    @property
    def ok(self) -> bool:
        return not self.problem_count

    def problem(self, line: int, reason: str, keep_all: bool) -> None:
        self.problem_count += 1
        if keep_all or len(self.problems) < self.MAX_KEPT:
            self.problems.append((line, reason))

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "enrolled": self.enrolled,
            "skipped_existing": self.skipped_existing,
            "suppressed": self.suppressed,
            "tagged": self.tagged,
            "problems": [list(p) for p in self.problems[: self.MAX_KEPT]],
            "problem_count": self.problem_count,
            "rows": self.rows,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["problems"] = [(int(line), str(reason)) for line, reason in data.get("problems", [])]
        return cls(**known)


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    key: str
    name: str | None
    first_name: str | None
    timezone: str
    country: str | None
    consent_source: str | None
    consent_at: datetime | None
    consent_ip: str | None
    tags: tuple[str, ...]


def import_csv(
    session: Session,
    path: Path,
    *,
    now: datetime,
    campaign_id: int | None = None,
    dry_run: bool = False,
    columns: Mapping[str, str] | None = None,
    **options: Any,
) -> ImportReport:
    """Import a CSV file whose header names its columns (or `columns` says what they hold), into the caller's
    transaction; with `campaign_id`, enroll them (the caller has checked that the campaign takes new subscribers: see
    management.enrollment.enroll_csv). `options`: ImportPlan's default_timezone, consent and tag_all.

    Bad rows are reported (line, reason) and skipped; valid rows are written. A file that cannot be read as a
    subscriber CSV at all raises ImportRowError naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRowError(f"{path}: cannot read the file (no such file)")
    fmt = detect_format(path)
    header, _ = header_and_rows(path, fmt, str(path))
    plan = strict_plan(header, str(path), columns, campaign_id=campaign_id, **options)
    # Every batch into the caller's one transaction; the last report is the whole file's.
    return deque(import_batches(session, path, fmt, plan, now, dry_run=dry_run, keep_all_problems=True), maxlen=1).pop()


def import_batches(
    session: Session,
    source: Source,
    fmt: CsvFormat,
    plan: ImportPlan,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    resume: ImportReport | None = None,
    keep_all_problems: bool = False,
) -> Iterator[ImportReport]:
    """Read, check and (unless `dry_run`) write the file a batch of rows at a time, yielding the report so far after
    each batch is written into the session; the last one is the whole import's.

    `resume`: the report of an import stopped part way (its batches committed): its rows are read again only to
    find duplicates, and the counts go on from it.
    """
    where = source.name if isinstance(source, Path) else "the file"
    header, items = header_and_rows(source, fmt, where)
    check_plan(header, plan, where)
    keys = address_key(session)
    report = resume or ImportReport(dry_run=dry_run)
    skip = report.rows if resume else 0
    first_line: dict[str, int] = {}  # each address's first line in the file: later ones are duplicates
    pending: list[_Row] = []
    seen = 0
    for item in items:
        if isinstance(item, BadLine):
            seen += 1
            if seen > skip:
                report.rows += 1
                report.problem(item.line, item.reason, keep_all_problems)
            continue
        seen += 1
        parsed = _parse(item.line, item.cells, plan, now, len(header), keys)
        if seen <= skip:  # done before the resume: only remembered, to find duplicates of it
            if isinstance(parsed, _Row):
                first_line.setdefault(parsed.key, parsed.line)
            continue
        report.rows += 1
        if isinstance(parsed, str):
            report.problem(item.line, parsed, keep_all_problems)
            continue
        if parsed.key in first_line:
            report.problem(parsed.line, f"duplicate of line {first_line[parsed.key]}", keep_all_problems)
            continue
        first_line[parsed.key] = parsed.line
        pending.append(parsed)
        if len(pending) >= batch:
            _write(session, pending, plan, report, now, dry_run)
            pending = []
            yield report
    _write(session, pending, plan, report, now, dry_run)
    yield report


def _write(
    session: Session, rows: list[_Row], plan: ImportPlan, report: ImportReport, now: datetime, dry: bool
) -> None:
    """One batch: suppressed rows counted and dropped, new addresses inserted, enrollments and tags added."""
    if not rows:
        return
    blocked = suppressed_keys(session, [r.key for r in rows])
    report.suppressed += sum(1 for r in rows if r.key in blocked)
    rows = [r for r in rows if r.key not in blocked]
    existing = _existing(session, [r.key for r in rows])  # key -> (id, status)
    new = [r for r in rows if r.key not in existing]
    report.skipped_existing += len(rows) - len(new)
    report.imported += len(new)
    enroll_ids = [sid for sid, status in existing.values() if status == "active"]
    if plan.campaign_id is not None and enroll_ids:
        already = _enrolled(session, plan.campaign_id, enroll_ids)
        enroll_ids = [sid for sid in enroll_ids if sid not in already]
    if dry:
        if plan.campaign_id is not None:
            report.enrolled += len(new) + len(enroll_ids)
        if plan.tag_all:
            report.tagged += len(rows)
        return
    ids = {key: sid for key, (sid, _) in existing.items()}
    if new:
        bulk_insert(session, Subscriber.__table__, [_subscriber_values(r, now) for r in new])
        created = _existing(session, [r.key for r in new])
        enroll_ids.extend(sid for sid, _ in created.values())
        ids.update({key: sid for key, (sid, _) in created.items()})
    if plan.campaign_id is not None and enroll_ids:
        bulk_insert(
            session,
            Enrollment.__table__,
            [
                {
                    "campaign_id": plan.campaign_id,
                    "subscriber_id": sid,
                    "next_step": 1,
                    "next_due_at": None,
                    "status": "active",
                    "enrolled_at": now,
                }
                for sid in enroll_ids
            ],
        )
        report.enrolled += len(enroll_ids)
    # Tags from the file go on new subscribers (existing ones are left as they are); `tag_all` on every row's person.
    all_tag = clean_tag(plan.tag_all) if plan.tag_all else None
    names = {t for r in new for t in r.tags} | ({all_tag} if all_tag else set())
    if names:
        by_name = tag_ids(session, names, now)
        pairs = [(ids[r.key], by_name[t]) for r in new for t in r.tags]
        if all_tag:
            pairs += [(ids[r.key], by_name[all_tag]) for r in rows]
            report.tagged += len(rows)
        tag_subscribers(session, pairs)


def _parse(line: int, cells: list[str], plan: ImportPlan, now: datetime, width: int, keys: AddressKey) -> _Row | str:
    """One row as a _Row, or the reason it is refused. Addresses stay out of the reasons (they end up in logs); text
    cells are cleaned of control characters (campaigns.text_input), and quoted clipped in a reason."""
    if len(cells) != width:
        return f"expected {width} fields, found {len(cells)}"
    value = {f: c for f, c in zip(plan.mapping, cells, strict=True) if f != IGNORE}
    raw = value.get("email", "").strip()
    if not raw:
        return "missing email address"
    try:
        address = normalize_address(raw)
    except AddressError as err:
        return f"bad address: {err}"
    # An identifier: checked against the zone names, not cleaned into one.
    tz = value.get("timezone", "").strip() or plan.default_timezone or ""
    if not tz:
        return "missing time zone (an IANA name such as America/New_York)"
    if not is_time_zone(tz):
        return f"bad time zone {_quote(tz)} (use an IANA name such as America/New_York)"
    # The full name as given, or made of the first and last names; the first name is also the greeting (issue 15:
    # without one, the emails read it off the full name).
    first = clean_line(value.get("first_name")) or None
    if first and len(first) > MAX_FIRST_NAME:
        return f"first name longer than {MAX_FIRST_NAME} characters"
    name = clean_line(value.get("name")) or clean_line(" ".join(filter(None, (first, value.get("last_name")))))
    if name and len(name) > MAX_NAME:
        return f"name longer than {MAX_NAME} characters"
    country_cell = clean_line(value.get("country"))
    country = normalise_country(country_cell)
    if country_cell and country is None:
        return f"bad country {_quote(country_cell)} (use a two-letter ISO 3166 code such as US, GB or DE)"
    source = clean_line(value.get("consent_source")) or plan.consent
    if source and len(source) > MAX_CONSENT_SOURCE:
        return f"consent source longer than {MAX_CONSENT_SOURCE} characters"
    consent_at, problem = _consent_time(clean_line(value.get("consent_at")), now)
    if problem:
        return problem
    ip = clean_line(value.get("consent_ip")) or None
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            return f"bad consent IP {_quote(ip)}"
    tags = []
    for part in value.get("tags", "").split(";"):
        if clean_line(part):
            try:
                tags.append(clean_tag(part))
            except TagError:
                return f"tag longer than {MAX_TAG} characters"
    unique_tags = tuple(dict.fromkeys(tags))
    return _Row(line, address, keys.of(address), name or None, first, tz, country, source, consent_at, ip, unique_tags)


def _quote(value: str) -> str:
    """A cell's text for a problem line: quoted, and clipped (a cell can be very long)."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _consent_time(text: str, now: datetime) -> tuple[datetime | None, str | None]:
    if not text:
        return None, None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None, f"bad consent time {_quote(text)} (use ISO 8601, e.g. 2026-11-20T15:04:00+00:00)"
    if at.tzinfo is None:
        return None, f"consent time {_quote(text)} has no UTC offset (add +00:00 or Z)"
    at = at.astimezone(UTC)
    if at > now:
        return None, f"consent time {_quote(text)} is in the future"
    return at, None


def _existing(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for part in chunked(keys):
        for key, sid, status in session.execute(
            select(Subscriber.email_key, Subscriber.id, Subscriber.status).where(
                is_in(session, Subscriber.email_key, part)
            )
        ):
            found[key] = (sid, status)
    return found


def _enrolled(session: Session, campaign_id: int, subscriber_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for part in chunked(subscriber_ids):
        found.update(
            session.scalars(
                select(Enrollment.subscriber_id).where(
                    Enrollment.campaign_id == campaign_id, is_in(session, Enrollment.subscriber_id, part)
                )
            )
        )
    return found


def _subscriber_values(r: _Row, now: datetime) -> dict:
    return {
        "email": r.email,
        "email_key": r.key,
        "name": r.name,
        "first_name": r.first_name,
        "timezone": r.timezone,
        "country": r.country,
        "status": "active",
        "consent_source": r.consent_source,
        "consent_at": r.consent_at,
        "consent_ip": r.consent_ip,
        "created_at": now,
    }
