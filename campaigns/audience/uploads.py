"""A CSV import made in the admin, step by step: upload (the encoding and delimiter guessed, columns mapped by their
header), choose what rows lack (a default time zone, how consent was given), a dry run with counts and the first
problems by line, then the import itself, a batch at a time with its progress written down.

The file lives in the database (`subscriber_imports`) until the import is done, so whichever web process runs it
can read it, and a process that dies part way leaves its committed batches and a lapsed lease: `start_import` then
lets anyone resume it where it stopped. The file is emptied once imported (it is personal data).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.audience.columns import FIELDS, IGNORE, ImportPlan, check_plan, guess_field
from campaigns.audience.csv_files import CsvFormat, detect_format, header_and_rows, preview
from campaigns.audience.importing import ImportReport, import_batches
from campaigns.audit import audit
from campaigns.db.models import Campaign, SubscriberImport
from campaigns.db.sql import rows_changed
from campaigns.errors import ImportRowError, NotFound, StateError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # ~500,000 rows of a typical export
LEASE = timedelta(minutes=2)  # a running import renews it after every batch
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class UploadView:
    """An upload as the mapping page shows it."""

    upload: SubscriberImport
    fmt: CsvFormat
    header: list[str]
    sample: list[list[str]]
    campaign_slug: str | None
    stalled: bool  # running, but its process stopped renewing the lease: it can be resumed

    @property
    def report(self) -> ImportReport | None:
        return ImportReport.from_dict(self.upload.report) if self.upload.report else None


def create_upload(s: Session, filename: str, content: bytes, now: datetime, *, actor: str) -> SubscriberImport:
    """Keep an uploaded file and guess how to read it; ImportRowError when it is empty, too big or has no header."""
    name = (filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload.csv"
    if not content.strip():
        raise ImportRowError(
            f"{name} is empty: choose a CSV file with a header line and one person per row", field="file"
        )
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRowError(
            f"{name} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it, or import it with "
            "`outreach subscribers import`",
            field="file",
        )
    fmt = detect_format(content)
    header, _ = header_and_rows(content, fmt, name)
    if not any(h.strip() for h in header):
        raise ImportRowError(f"{name}: the first line names no columns", field="file")
    upload = SubscriberImport(
        filename=name,
        content=content,
        size=len(content),
        encoding=fmt.encoding,
        delimiter=fmt.delimiter,
        header=header,
        mapping=[guess_field(h) for h in header],
        status="uploaded",
        rows_done=0,
        report={},
        created_by=actor,
        created_at=now,
    )
    s.add(upload)
    s.flush()
    return upload


def _load(s: Session, upload_id: int) -> SubscriberImport:
    upload = s.get(SubscriberImport, upload_id)
    if upload is None:
        raise NotFound(f"no import with id {upload_id}")
    return upload


def _format(upload: SubscriberImport) -> CsvFormat:
    fmt = detect_format(upload.content) if upload.content else CsvFormat(upload.encoding, upload.delimiter)
    return CsvFormat(upload.encoding, upload.delimiter, fmt.note)


def view_upload(s: Session, upload_id: int, now: datetime) -> UploadView:
    upload = _load(s, upload_id)
    fmt = _format(upload)
    sample = preview(upload.content, fmt, PREVIEW_ROWS)[1] if upload.content else []
    slug = s.scalar(select(Campaign.slug).where(Campaign.id == upload.campaign_id)) if upload.campaign_id else None
    stalled = upload.status == "running" and (upload.lease_until is None or upload.lease_until < now)
    return UploadView(upload, fmt, list(upload.header), sample, slug, stalled)


def plan_of(upload: SubscriberImport) -> ImportPlan:
    return ImportPlan(
        tuple(upload.mapping),
        default_timezone=upload.default_timezone,
        consent=upload.consent,
        campaign_id=upload.campaign_id,
        tag_all=upload.report.get("tag_all") if upload.report else None,
    )


def save_plan(
    s: Session,
    upload_id: int,
    mapping: list[str],
    *,
    default_timezone: str | None,
    consent: str,
    campaign_id: int | None,
    tag_all: str | None,
) -> ImportPlan:
    """Store how to read the file, once it is one that can import it (ImportRowError naming the field otherwise).
    Saying how these people agreed to be mailed is required: it is their consent record."""
    upload = _load(s, upload_id)
    if upload.status not in ("uploaded", "checked"):
        raise StateError("this import has already run; upload the file again to import it again")
    consent = " ".join(consent.split())
    plan = ImportPlan(
        tuple(m if m in FIELDS else IGNORE for m in mapping),
        default_timezone=default_timezone or None,
        consent=consent or None,
        campaign_id=campaign_id,
        tag_all=" ".join((tag_all or "").split()) or None,
    )
    check_plan(upload.header, plan, upload.filename)
    if not plan.consent:
        raise ImportRowError("say how these people agreed to be mailed (their consent record)", field="consent")
    upload.mapping = list(plan.mapping)
    upload.default_timezone, upload.consent, upload.campaign_id = plan.default_timezone, plan.consent, campaign_id
    upload.report = {"tag_all": plan.tag_all} if plan.tag_all else {}
    upload.status = "uploaded"
    return plan


def check_upload(s: Session, upload_id: int, now: datetime) -> ImportReport:
    """The dry run: every row read and checked against the database, nothing written; kept for the page."""
    upload = _load(s, upload_id)
    plan = plan_of(upload)
    report = deque(import_batches(s, upload.content, _format(upload), plan, now, dry_run=True), maxlen=1).pop()
    upload.report = {**report.as_dict(), "tag_all": plan.tag_all}
    upload.status = "checked"
    return report


def start_import(s: Session, upload_id: int, now: datetime) -> bool:
    """Claim the import for this process (checked, or running with a lapsed lease); False when someone else runs it
    or it is finished. The claim is one conditional UPDATE, so two processes never both run it."""
    upload = _load(s, upload_id)
    if upload.status == "uploaded":
        raise StateError("check the file first (the dry run), then import it")
    claim = update(SubscriberImport).where(SubscriberImport.id == upload_id)
    if upload.status == "checked":
        # The dry run's counts make way for the import's own; its row count is the progress bar's end.
        dry = upload.report or {}
        fresh = {"total": dry.get("rows", 0), "tag_all": dry.get("tag_all")}
        claim = claim.where(SubscriberImport.status == "checked").values(report=fresh, rows_done=0)
    else:  # stopped part way: resumed where its last batch was committed
        claim = claim.where(SubscriberImport.status == "running", SubscriberImport.lease_until < now)
    return rows_changed(s, claim.values(status="running", lease_until=now + LEASE)) == 1


def run_import(sessions: sessionmaker[Session], upload_id: int, clock: Callable[[], datetime]) -> ImportReport:
    """Import a claimed upload, committing each batch with the progress so far and a renewed lease; on the last
    batch the import is marked done, audited, and the file emptied. Resumes after rows_done when run again."""
    with sessions() as s:
        upload = _load(s, upload_id)
        content, fmt, plan = upload.content, _format(upload), plan_of(upload)
        resume = ImportReport.from_dict(upload.report) if upload.rows_done else None
        if resume is not None:
            resume.dry_run = False
        actor, filename, total = upload.created_by, upload.filename, (upload.report or {}).get("total")
    report = ImportReport()
    with sessions() as s:
        try:
            for report in import_batches(s, content, fmt, plan, clock(), resume=resume):
                s.execute(
                    update(SubscriberImport)
                    .where(SubscriberImport.id == upload_id)
                    .values(
                        rows_done=report.rows,
                        report={**report.as_dict(), "tag_all": plan.tag_all, "total": total},
                        lease_until=clock() + LEASE,
                    )
                )
                s.commit()
        except Exception as err:
            # The batches before this one are in; the page says what stopped it (a bug or the database, not a row).
            s.rollback()
            failed = _load(s, upload_id)
            failed.status, failed.lease_until = "failed", None
            failed.report = {**(failed.report or {}), "error": str(err)[:500]}
            s.commit()
            raise
        upload = _load(s, upload_id)
        upload.status, upload.finished_at, upload.lease_until, upload.content = "done", clock(), None, b""
        campaign = s.get(Campaign, plan.campaign_id) if plan.campaign_id else None
        enrolled = f", {report.enrolled} enrolled" if campaign else ""
        audit(
            s,
            campaign,
            actor,
            "imported",
            f"CSV {filename}: {report.imported} new subscribers{enrolled}, {report.skipped_existing} already there, "
            f"{report.suppressed} suppressed, {report.problem_count} rows with problems",
            clock(),
        )
        s.commit()
    return report


def recent_uploads(s: Session, limit: int = 10) -> list[SubscriberImport]:
    return list(s.scalars(select(SubscriberImport).order_by(SubscriberImport.id.desc()).limit(limit)))
