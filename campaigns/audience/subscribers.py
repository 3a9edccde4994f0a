"""Subscribers: CSV import (validated, reported by line, idempotent), listing, lookup and removal.

An import reads the whole file first, reports every problem with its line number, then writes the valid rows in
the caller's transaction with bulk inserts: one query per 5,000 addresses finds who exists, never one per row.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, AddressKey, address_key, email_key, normalize_address
from campaigns.authoring.crisis import normalise_country
from campaigns.db.models import Delivery, Enrollment, Subscriber
from campaigns.db.sql import bulk_insert, chunked, is_in, rows_changed
from campaigns.delivery import state as ds
from campaigns.delivery.suppression import suppress_key, suppressed_keys
from campaigns.errors import ImportRowError, NotFound
from campaigns.text_input import clean_line, whole_number

REQUIRED_COLUMNS = ("email", "timezone")
OPTIONAL_COLUMNS = ("name", "first_name", "country", "consent_source", "consent_at", "consent_ip", "tags")
MAX_NAME, MAX_FIRST_NAME, MAX_CONSENT_SOURCE, MAX_TAG = 200, 200, 200, 60


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do). `problems` are (line, reason), in file order."""

    imported: int = 0  # new subscribers written
    enrolled: int = 0  # new enrollments into the campaign (new and existing active subscribers)
    skipped_existing: int = 0  # already subscribed: left as they are
    suppressed: int = 0  # on the suppression list: never imported
    problems: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # data rows read
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


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
    tags: list[str]


def typed_address_key(session: Session, address: str) -> str:
    """The email key of an address as typed by a person: normalised first when it is valid."""
    try:
        return email_key(session, normalize_address(address))
    except AddressError:
        return email_key(session, address)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """True for an IANA time zone name known to zoneinfo (e.g. America/New_York)."""
    return name in _zones()


def import_csv(
    session: Session, path: Path, *, now: datetime, campaign_id: int | None = None, dry_run: bool = False
) -> ImportReport:
    """Import subscribers from a CSV file into the caller's transaction; with `campaign_id`, enroll them in it
    (the caller has checked that the campaign takes new subscribers: see management.enrollment.enroll_csv).

    Bad rows are reported (line, reason) and skipped; valid rows are written. Importing the same file twice changes
    nothing. A file that cannot be read as a subscriber CSV at all raises ImportRowError naming it.
    """
    report = ImportReport(dry_run=dry_run)
    rows = _read(Path(path), report, now, address_key(session))
    rows = _drop_duplicates(rows, report)

    blocked = suppressed_keys(session, [r.key for r in rows])
    report.suppressed = sum(1 for r in rows if r.key in blocked)
    rows = [r for r in rows if r.key not in blocked]

    existing = _existing(session, [r.key for r in rows])  # key -> (id, status)
    new = [r for r in rows if r.key not in existing]
    report.skipped_existing = len(rows) - len(new)
    report.imported = len(new)
    enroll_ids = [sid for sid, status in existing.values() if status == "active"]

    if campaign_id is not None and enroll_ids:
        already = _enrolled(session, campaign_id, enroll_ids)
        enroll_ids = [sid for sid in enroll_ids if sid not in already]
    if dry_run:
        report.enrolled = (len(new) + len(enroll_ids)) if campaign_id is not None else 0
        return report

    if new:
        bulk_insert(session, Subscriber.__table__, [_subscriber_values(r, now) for r in new])
        enroll_ids.extend(sid for sid, _ in _existing(session, [r.key for r in new]).values())
    if campaign_id is not None and enroll_ids:
        bulk_insert(
            session,
            Enrollment.__table__,
            [
                {
                    "campaign_id": campaign_id,
                    "subscriber_id": sid,
                    "next_step": 1,
                    "next_due_at": None,
                    "status": "active",
                    "enrolled_at": now,
                }
                for sid in enroll_ids
            ],
        )
        report.enrolled = len(enroll_ids)
    return report


def _read(path: Path, report: ImportReport, now: datetime, keys: AddressKey) -> list[_Row]:
    """Parse and validate every data row; problems go into the report, valid rows come back."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")  # -sig: spreadsheets often start with a BOM
    except OSError as err:
        raise ImportRowError(f"{path}: cannot read the file ({err.strerror})") from None
    rows: list[_Row] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            columns = _columns(path, header)
            start = reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1  # a quoted field may span lines: report where it began
                if not any(cell.strip() for cell in record):
                    continue
                report.rows += 1
                if len(record) != len(columns):
                    report.problems.append((line, f"expected {len(columns)} fields, found {len(record)}"))
                    continue
                parsed = _parse(line, dict(zip(columns, record, strict=True)), now, keys)
                if isinstance(parsed, str):
                    report.problems.append((line, parsed))
                else:
                    rows.append(parsed)
        except csv.Error as err:
            raise ImportRowError(f"{path}:{reader.line_num}: not readable as CSV ({err})") from None
        except UnicodeDecodeError:
            raise ImportRowError(f"{path}: not UTF-8 text (save the file as CSV UTF-8)") from None
    return rows


def _columns(path: Path, header: list[str] | None) -> list[str]:
    if not header:
        raise ImportRowError(f"{path}: the file is empty; expected a header line with {', '.join(REQUIRED_COLUMNS)}")
    columns = [c.strip().lower() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportRowError(
            f"{path}:1: missing column {', '.join(missing)} in the header (found: {', '.join(columns)})"
        )
    # An unknown column is most often a misspelt one (consent_time): refuse it rather than drop its data.
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ImportRowError(
            f"{path}:1: unknown column {', '.join(unknown)} in the header "
            f"(known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ImportRowError(f"{path}:1: column {', '.join(repeated)} appears twice in the header")
    return columns


def _parse(line: int, cells: dict[str, str], now: datetime, keys: AddressKey) -> _Row | str:
    """One row as a _Row, or the reason it is refused. Addresses stay out of the reasons (they end up in logs);
    other cells are cleaned of control characters (campaigns.text_input) and quoted clipped."""
    raw = cells["email"].strip()
    if not raw:
        return "missing email address"
    try:
        address = normalize_address(raw)
    except AddressError as err:
        return f"bad address: {err}"
    tz = cells["timezone"].strip()  # an identifier: checked against the zone names, not cleaned into one
    if not tz:
        return "missing time zone (an IANA name such as America/New_York)"
    if not is_time_zone(tz):
        return f"bad time zone {_quote(tz)} (use an IANA name such as America/New_York)"
    name = clean_line(cells.get("name")) or None
    if name and len(name) > MAX_NAME:
        return f"name longer than {MAX_NAME} characters"
    first = clean_line(cells.get("first_name")) or None
    if first and len(first) > MAX_FIRST_NAME:
        return f"first_name longer than {MAX_FIRST_NAME} characters"
    country_cell = clean_line(cells.get("country"))
    country = normalise_country(country_cell)
    if country_cell and country is None:
        return f"bad country {_quote(country_cell)} (use a two-letter ISO 3166 code such as US, GB or DE)"
    source = clean_line(cells.get("consent_source")) or None
    if source and len(source) > MAX_CONSENT_SOURCE:
        return f"consent_source longer than {MAX_CONSENT_SOURCE} characters"
    consent_at, problem = _consent_time(clean_line(cells.get("consent_at")), now)
    if problem:
        return problem
    ip = clean_line(cells.get("consent_ip")) or None
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            return f"bad consent IP {_quote(ip)}"
    tags = list(dict.fromkeys(t for t in (clean_line(t)[:MAX_TAG] for t in cells.get("tags", "").split(";")) if t))
    return _Row(line, address, keys.of(address), name, first, tz, country, source, consent_at, ip, tags)


def _quote(value: str) -> str:
    """A cell's text for a problem line: quoted, and clipped (a cell can be a megabyte)."""
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


def _drop_duplicates(rows: list[_Row], report: ImportReport) -> list[_Row]:
    """Keep the first row of each address; later ones are problems naming the first line."""
    first: dict[str, int] = {}
    kept: list[_Row] = []
    for r in rows:
        if r.key in first:
            report.problems.append((r.line, f"duplicate of line {first[r.key]}"))
        else:
            first[r.key] = r.line
            kept.append(r)
    report.problems.sort()
    return kept


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
        "tags": r.tags,
        "consent_source": r.consent_source,
        "consent_at": r.consent_at,
        "consent_ip": r.consent_ip,
        "created_at": now,
    }


def list_subscribers(
    session: Session, status: str | None = None, limit: int = 100, after_id: int = 0
) -> list[Subscriber]:
    """Up to `limit` subscribers with id > `after_id`, oldest first: pass the last id back for the next page."""
    query = select(Subscriber).where(Subscriber.id > after_id).order_by(Subscriber.id).limit(limit)
    if status:
        query = query.where(Subscriber.status == status)
    return list(session.scalars(query))


def get_subscriber(session: Session, who: str) -> Subscriber:
    """The subscriber with this address (matched case-insensitively) or, for a number, this id (as `subscribers
    list` shows them); NotFound otherwise."""
    who = who.strip()
    if who.isascii() and who.isdigit():
        number = whole_number(who)
        subscriber = session.get(Subscriber, number) if number is not None else None
        if subscriber is None:
            raise NotFound(f"no subscriber with id {who}", cli_hint="`outreach subscribers list` shows them")
        return subscriber
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email_key == typed_address_key(session, who)))
    if subscriber is None:
        raise NotFound("no subscriber with that address")
    return subscriber


@dataclass(frozen=True)
class Removal:
    subscriber_id: int
    enrollments_stopped: int
    deliveries_cancelled: int


def remove_subscriber(session: Session, who: str, now: datetime, *, source: str = "manual") -> Removal:
    """Stop all mail to a subscriber: unsubscribed, enrollments stopped, queued emails cancelled, address suppressed.

    Idempotent: removing someone already removed changes nothing more.
    """
    subscriber = get_subscriber(session, who)
    if subscriber.status in ("active", "pending"):  # bounced, complained, erased keep their stronger reason
        subscriber.status, subscriber.unsubscribed_at, subscriber.unsubscribe_source = "unsubscribed", now, source
    stopped = rows_changed(
        session,
        update(Enrollment)
        .where(Enrollment.subscriber_id == subscriber.id, Enrollment.status.in_(("active", "sending")))
        .values(status="stopped"),
    )
    # Only `queued` ones: a delivery already claimed by a worker is cancelled there, on seeing the status.
    cancelled = rows_changed(
        session,
        update(Delivery)
        .where(
            Delivery.enrollment_id.in_(select(Enrollment.id).where(Enrollment.subscriber_id == subscriber.id)),
            Delivery.status == ds.QUEUED,
        )
        .values(status=ds.CANCELLED, updated_at=now, last_error="subscriber removed"),
    )
    suppress_key(session, subscriber.email_key, "manual", source, now)
    return Removal(subscriber.id, stopped, cancelled)
