"""Importing "contacted us" records in the admin: upload the CSV the clinic logs calls in (address, time, channel);
every row is checked first and a file with a bad row imports nothing, listing each by line. A thin shell over
campaigns.audience.contacts (the CLI's `outreach contacts import` does the same)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import func, select

from campaigns.audience import contacts
from campaigns.db.models import Contact
from campaigns.errors import OutreachError
from web.admin.auth import AdminSession, actor_of, require_admin, require_csrf
from web.admin.forms import NO_FORM, FormState, refused
from web.admin.render import render_admin
from web.runtime import now_of, sessions_of
from web.zones import zone_groups

router = APIRouter(prefix="/admin/contacts")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a clinic's call log: far more rows than a year of calls
READ_CHUNK = 1 << 20


def contacts_page(
    request: Request,
    session: AdminSession,
    *,
    report: contacts.ContactImport | None = None,
    filename: str | None = None,
    timezone: str = "UTC",
    form: FormState = NO_FORM,
    status_code: int = 200,
) -> Response:
    with sessions_of(request)() as s:
        total = s.scalar(select(func.count()).select_from(Contact)) or 0
        attributed = s.scalar(select(func.count()).select_from(Contact).where(Contact.step_number.is_not(None))) or 0
    return render_admin(
        request,
        "contacts_import.html",
        session,
        title="Import contacts",
        report=report,
        filename=filename,
        timezone=timezone,
        zone_groups=zone_groups(now_of(request).date()),
        channels=contacts.CHANNEL_NAMES,
        total=total,
        attributed=attributed,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        form=form,
        status_code=status_code,
    )


@router.get("/import", include_in_schema=False)
def import_start(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return contacts_page(request, session)


@router.post("/import", include_in_schema=False, max_body_size=MAX_UPLOAD_BYTES + 64 * 1024)
async def upload(
    request: Request,
    file: UploadFile = File(None),
    timezone: str = Form("UTC"),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    """Check and import the file in one go: all rows or none."""
    if file is None or not file.filename:
        state = FormState("upload", {}, {"file": "Choose a CSV file to upload."})
        return contacts_page(request, session, form=state, timezone=timezone, status_code=400)
    parts, size = [], 0
    while chunk := await file.read(READ_CHUNK):
        size += len(chunk)
        parts.append(chunk)
        if size > MAX_UPLOAD_BYTES:
            state = FormState("upload", {}, {"file": f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
            return contacts_page(request, session, form=state, timezone=timezone, status_code=400)
    try:
        with sessions_of(request).begin() as s:
            report = contacts.import_contacts(
                s,
                b"".join(parts),
                filename=file.filename,
                actor=actor_of(request, session),
                now=now_of(request),
                tz=timezone,
            )
    except OutreachError as err:
        state = refused("upload", err, {}, ("file",))
        return contacts_page(request, session, form=state, timezone=timezone, status_code=400)
    return contacts_page(
        request,
        session,
        report=report,
        filename=file.filename,
        timezone=timezone,
        status_code=200 if report.ok else 400,
    )
