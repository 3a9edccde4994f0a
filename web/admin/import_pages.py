"""Importing subscribers in the admin: upload a CSV, check how it was read and map its columns, say what rows lack
(a default time zone) and how these people agreed to be mailed, a dry run with counts and the first problems by line,
then the import itself with its progress (the page refreshes itself while it runs: no script needed).
A thin shell over campaigns.audience.uploads; the import runs after the answer, in this process, a batch at a time.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audience import uploads
from campaigns.audience.columns import FIELDS, IGNORE
from campaigns.audience.tags import tag_counts
from campaigns.db.models import Campaign
from campaigns.errors import NotFound, OutreachError, StateError
from campaigns.management.lifecycle import MOVES
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, actor_of, require_admin, require_csrf
from web.admin.forms import NO_FORM, FormState, refused
from web.admin.render import render_admin
from web.runtime import now_of, sessions_of
from web.zones import zone_groups

router = APIRouter(prefix="/admin/subscribers/import")
READ_CHUNK = 1 << 20


def _campaigns(s: Session) -> list[tuple[int, str, str]]:
    """Campaigns an import can enroll into (those that take new subscribers): (id, slug, status)."""
    rows = s.execute(select(Campaign.id, Campaign.slug, Campaign.status).order_by(Campaign.slug)).all()
    return [(cid, slug, status) for cid, slug, status in rows if status in MOVES["enroll"]]


def upload_page(
    request: Request, session: AdminSession, *, form: FormState = NO_FORM, status_code: int = 200
) -> Response:
    with sessions_of(request)() as s:
        recent = uploads.recent_uploads(s)
    return render_admin(
        request,
        "import_upload.html",
        session,
        title="Import subscribers",
        recent=recent,
        max_mb=uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
        form=form,
        status_code=status_code,
    )


@router.get("", include_in_schema=False)
def import_start(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return upload_page(request, session)


# The app takes small bodies only (web.app.MAX_BODY_BYTES); a file can be the size uploads allow, plus the form.
@router.post("", include_in_schema=False, max_body_size=uploads.MAX_UPLOAD_BYTES + 64 * 1024)
async def upload(
    request: Request, file: UploadFile = File(None), session: AdminSession = Depends(require_csrf)
) -> Response:
    """Keep the file and show how it was read; nothing is imported yet."""
    if file is None or not file.filename:
        state = FormState("upload", {}, {"file": "Choose a CSV file to upload."})
        return upload_page(request, session, form=state, status_code=400)
    parts, size = [], 0
    while chunk := await file.read(READ_CHUNK):
        size += len(chunk)
        parts.append(chunk)
        if size > uploads.MAX_UPLOAD_BYTES:
            break
    try:
        with sessions_of(request).begin() as s:
            made = uploads.create_upload(
                s, file.filename, b"".join(parts), now_of(request), actor=actor_of(request, session)
            )
            upload_id = made.id
    except OutreachError as err:
        return upload_page(request, session, form=refused("upload", err, {}, ("file",)), status_code=400)
    return RedirectResponse(f"/admin/subscribers/import/{upload_id}", status_code=303)


def import_page(
    request: Request, session: AdminSession, upload_id: int, *, form: FormState = NO_FORM, status_code: int = 200
) -> Response:
    now = now_of(request)
    with sessions_of(request)() as s:
        view = uploads.view_upload(s, upload_id, now)
        campaigns = _campaigns(s)
        tags = [t.name for t in tag_counts(s)]
    running = view.upload.status == "running" and not view.stalled
    return render_admin(
        request,
        "import.html",
        session,
        title=f"Import {view.upload.filename}",
        v=view,
        u=view.upload,
        report=view.report,
        fields=FIELDS,
        ignore=IGNORE,
        campaigns=campaigns,
        known_tags=tags,
        zone_groups=zone_groups(now.date()),
        form=form,
        status_code=status_code,
        # While the import runs the page asks again every 2 seconds (Refresh: no script, nothing for the CSP to allow).
        # With its address and no #fragment: refreshing "page#progress" would only scroll, never load it again.
        headers={"Refresh": f"2; url=/admin/subscribers/import/{upload_id}"} if running else None,
    )


@router.get("/{upload_id:int}", include_in_schema=False)
def show_import(upload_id: int, request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return import_page(request, session, upload_id)


@router.post("/{upload_id:int}/check", include_in_schema=False)
async def check(upload_id: int, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """Save the mapping and choices, then the dry run: counts and the first problems, nothing written."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    mapping = [values.get(f"column_{i}", IGNORE) for i in range(len(_header(request, upload_id)))]
    campaign = values.get("campaign", "")
    try:
        with sessions_of(request).begin() as s:
            chosen = whole_number(campaign)
            if campaign and chosen not in {cid for cid, _, _ in _campaigns(s)}:
                raise StateError("that campaign takes no new subscribers now", field="campaign")
            uploads.save_plan(
                s,
                upload_id,
                mapping,
                default_timezone=values.get("default_timezone", ""),
                consent=values.get("consent", ""),
                campaign_id=chosen,
                tag_all=values.get("tag_all", ""),
            )
        with sessions_of(request).begin() as s:
            uploads.check_upload(s, upload_id, now_of(request))
    except NotFound:
        raise
    except OutreachError as err:
        fields = ("mapping", "timezone", "consent", "tag_all", "campaign")
        return import_page(request, session, upload_id, form=refused("plan", err, values, fields), status_code=400)
    return RedirectResponse(f"/admin/subscribers/import/{upload_id}#dry-run", status_code=303)


def _header(request: Request, upload_id: int) -> list[str]:
    from campaigns.db.models import SubscriberImport

    with sessions_of(request)() as s:
        found = s.get(SubscriberImport, upload_id)
        if found is None:
            raise NotFound(f"no import with id {upload_id}")
        return list(found.header)


@router.post("/{upload_id:int}/start", include_in_schema=False)
def start(
    upload_id: int, request: Request, background: BackgroundTasks, session: AdminSession = Depends(require_csrf)
) -> Response:
    """Claim the import and run it after answering; the page shows its progress."""
    try:
        with sessions_of(request).begin() as s:
            claimed = uploads.start_import(s, upload_id, now_of(request))
    except StateError as err:
        return import_page(request, session, upload_id, form=refused("start", err, {}), status_code=409)
    if claimed:
        clock = request.app.state.clock
        background.add_task(uploads.run_import, sessions_of(request), upload_id, clock)
    return RedirectResponse(f"/admin/subscribers/import/{upload_id}#progress", status_code=303)
