"""The series editor in the admin: create a campaign from an article (a file, pasted text or an https address),
review what the parser kept and dropped, and shape the series (its name, each email's subject, preheader, delay,
sections, headings and Markdown bodies; merge and split emails) with a live preview. Also the confirmations asked
before archiving a campaign and enrolling everyone. A thin shell over campaigns.management.series_edits.

Every save is one new version. A refused form is drawn again with what was typed and the message beside the field
(the editor's fields are named `e3-subject`, `e3-s2-body`, ..., the names the domain's errors carry).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from campaigns.authoring.draft import EmailDraft, SectionDraft, SeriesDraft, merge_emails, split_email
from campaigns.authoring.inbox import PREHEADER_LIMIT, PREHEADER_MAX, SUBJECT_LIMIT, SUBJECT_MAX
from campaigns.authoring.merge_tags import from_slots
from campaigns.authoring.parsing import FORMATS, ArticleSource, describe, read_pasted
from campaigns.authoring.parsing.source import decode_article
from campaigns.errors import ArticleError, NotFound, OutreachError, StateError
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, require_admin, require_csrf, require_role
from web.admin.forms import NO_FORM, FormState, refused, sentence
from web.admin.render import render_admin
from web.runtime import now_of, sessions_of, settings_of

router = APIRouter(prefix="/admin/campaigns")
require_editor = require_role("editor")
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
_OP = re.compile(r"^(save|merge-(\d+)|split-(\d+)-(\d+))$")


def _context(request: Request):
    from web.context import get_context

    return get_context(request)


# --- create ----------------------------------------------------------------------------------------------------------


@router.get("/new", include_in_schema=False)
def new_page(request: Request, session: AdminSession = Depends(require_editor)) -> Response:
    return _new_page(request, session)


def _new_page(request: Request, session: AdminSession, form: FormState = NO_FORM, status_code: int = 200) -> Response:
    return render_admin(
        request,
        "campaign_new.html",
        session,
        title="New campaign",
        form=form,
        suffixes=", ".join(sorted(FORMATS)),
        status_code=status_code,
    )


@router.post("/new", include_in_schema=False, max_body_size=MAX_ARTICLE_BYTES + 64 * 1024)
async def create(request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """A draft campaign from the article given; then the review of what the parser kept and dropped."""
    from campaigns.management.lifecycle import create_campaign, plan_file
    from campaigns.management.records import current_steps
    from campaigns.management.series_edits import free_slug

    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("source", "pasted", "url", "title", "slug", "delay")}
    kind = values["source"] or "file"
    ctx, now = _context(request), now_of(request)
    try:
        source = await _source(form, kind, values, request)
        delay = whole_number(values["delay"] or "2")
        if delay is None or not 1 <= delay <= 365:
            raise StateError("the delay is a whole number of days from 1 to 365", field="delay")
        title = values["title"].strip() or None
        with sessions_of(request).begin() as s:
            slug = values["slug"].strip().lower()
            if not slug:
                slug = free_slug(s, plan_file(source, delay, title).title)
            campaign = create_campaign(
                s, source, slug, ctx.brand, now, actor=session.actor, delay_days=delay, title=title
            )
            steps = len(current_steps(s, campaign))
    except NotFound:
        raise
    except OutreachError as err:
        if err.field is None:
            err.field = (
                {"file": "file", "paste": "pasted", "url": "url"}.get(kind)
                if isinstance(err, ArticleError)
                else ("slug" if "slug" in str(err) or "named" in str(err) else None)
            )
        fields = ("source", "file", "pasted", "url", "title", "slug", "delay")
        return _new_page(request, session, refused("new", err, values, fields), status_code=400)
    query = urlencode({"done": "created", "n": steps})
    return RedirectResponse(f"/admin/campaigns/{slug}/article?{query}", status_code=303)


async def _source(form: FormData, kind: str, values: dict[str, str], request: Request) -> ArticleSource:
    from campaigns.authoring.parsing import fetch_article, parse_loaded

    if kind == "file":
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise StateError("choose the article's file (.txt, .md or .html)", field="file")
        data = await upload.read(MAX_ARTICLE_BYTES + 1)
        if len(data) > MAX_ARTICLE_BYTES:
            raise StateError(f"the file is over {MAX_ARTICLE_BYTES // (1024 * 1024)} MB", field="file")
        name = Path(upload.filename).name
        suffix = Path(name).suffix.lower()
        if suffix not in FORMATS:
            raise StateError(
                f"{name}: a {suffix or 'file without a suffix'} is not an article; use " + ", ".join(sorted(FORMATS)),
                field="file",
            )
        return ArticleSource(decode_article(data, name), FORMATS[suffix], Path(name), name)
    if kind == "paste":
        if not values["pasted"].strip():
            raise StateError("paste the article's text or HTML", field="pasted")
        source = read_pasted(values["pasted"].encode("utf-8"), "untitled")
        if not values["title"].strip() and parse_loaded(source).title == "Untitled":
            raise StateError(
                "the pasted text states no title (no heading or title line): type the series name", field="title"
            )
        return source
    if kind == "url":
        url = values["url"].strip()
        local = settings_of(request).fetch_private  # tests and a laptop: a page served on http://127.0.0.1
        if not url.lower().startswith("https://") and not (local and url.lower().startswith("http://")):
            raise StateError("give the article's address, starting with https://", field="url")
        return fetch_article(url, allow_private=local)
    raise StateError("choose where the article comes from: a file, pasted text or a web address", field="source")


# --- review the extraction ---------------------------------------------------------------------------------------


@router.get("/{slug}/article", include_in_schema=False)
def article_page(slug: str, request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return _article_page(request, session, slug)


def _article_page(
    request: Request, session: AdminSession, slug: str, form: FormState = NO_FORM, status_code: int = 200
) -> Response:
    from campaigns.management.records import get_campaign
    from campaigns.management.series_edits import article_blocks

    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        blocks, parser_rules, overrides = article_blocks(s, slug)
        title, status, version = campaign.title, campaign.status, campaign.current_version
    rows = [
        {
            "block": b,
            "rule": parser_rules.get(b.id),
            "why": describe(parser_rules.get(b.id) or ""),
            "by_staff": b.id in overrides,
        }
        for b in blocks
    ]
    q = request.query_params
    created = q.get("done") == "created"
    return render_admin(
        request,
        "campaign_article.html",
        session,
        title=f"Article of {title}",
        slug=slug,
        campaign_title=title,
        status=status,
        version=version,
        rows=rows,
        dropped=sum(1 for b in blocks if not b.kept),
        created=created,
        emails=whole_number(q.get("n", "")) if created else None,
        form=form,
        status_code=status_code,
    )


@router.post("/{slug}/article", include_in_schema=False)
async def keep_or_drop(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """Plan the series again from the blocks staff keep (a checked box) and drop (an unchecked one)."""
    from campaigns.management.series_edits import article_blocks, replan

    form = await request.form()
    keep = set(form.getlist("keep"))
    try:
        with sessions_of(request).begin() as s:
            blocks, parser_rules, _ = article_blocks(s, slug)
            overrides = {b.id: b.id in keep for b in blocks if (b.id in keep) != (parser_rules.get(b.id) is None)}
            version = replan(s, slug, overrides, _context(request).brand, now_of(request), actor=session.actor)
    except NotFound:
        raise
    except OutreachError as err:
        return _article_page(request, session, slug, refused("article", err, {}), status_code=409)
    return RedirectResponse(f"/admin/campaigns/{slug}/series?done=replanned&v={version.number}", status_code=303)


# --- shape the series ------------------------------------------------------------------------------------------------


@router.get("/{slug}/series", include_in_schema=False)
def editor(slug: str, request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    from campaigns.management.records import draft_of, get_campaign

    with sessions_of(request)() as s:
        draft = draft_of(s, get_campaign(s, slug))
    notice = _notice(request)
    return _editor_page(request, session, slug, _shown(draft), notice=notice)


def _shown(draft: SeriesDraft) -> SeriesDraft:
    """The stored draft as staff type it (a stored slot marker shows as its merge tag)."""
    return replace(
        draft,
        emails=tuple(
            replace(e, subject=from_slots(e.subject), preheader=from_slots(e.preheader)) for e in draft.emails
        ),
    )


def _notice(request: Request) -> str:
    q = request.query_params
    v = whole_number(q.get("v", ""))
    done = q.get("done", "")
    texts = {
        "saved": f"Saved as version {v}.",
        "merged": f"Emails merged and saved as version {v}.",
        "split": f"Email split in two and saved as version {v}.",
        "replanned": f"The series was planned again from the blocks you kept, as version {v}.",
    }
    return texts.get(done, "") if v else ""


def _editor_page(
    request: Request,
    session: AdminSession,
    slug: str,
    draft: SeriesDraft,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    from campaigns.management.lifecycle import MOVES
    from campaigns.management.records import get_campaign

    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        status, version = campaign.status, campaign.current_version
    editable = status in MOVES["edit"] and session.role in ("editor", "owner")
    return render_admin(
        request,
        "series_editor.html",
        session,
        title=f"Series: {draft.name}",
        slug=slug,
        draft=draft,
        status=status,
        version=version,
        editable=editable,
        notice=notice,
        errors=errors or {},
        limits={
            "subject_warn": SUBJECT_MAX,
            "subject_max": SUBJECT_LIMIT,
            "preheader_warn": PREHEADER_MAX,
            "preheader_max": PREHEADER_LIMIT,
        },
        status_code=status_code,
    )


def draft_from_form(form: FormData, stored: SeriesDraft) -> SeriesDraft:
    """The draft the editor's form sends; how many emails and sections it has comes from its hidden fields, the
    kept and dropped blocks from what is stored (the review page changes those)."""

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    count = min(whole_number(text("emails")) or 0, 50)
    emails = []
    for n in range(1, count + 1):
        kind = text(f"e{n}-kind")
        if kind not in ("welcome", "lesson", "cta"):
            raise StateError(f"email {n}: the form lost its kind; load the editor again")
        sections = tuple(
            SectionDraft(
                text(f"e{n}-s{k}-heading"),
                text(f"e{n}-s{k}-body"),
                min(max(whole_number(text(f"e{n}-s{k}-level")) or 2, 2), 4),
            )
            for k in range(1, min(whole_number(text(f"e{n}-sections")) or 0, 200) + 1)
        )
        delay = whole_number(text(f"e{n}-delay")) if n > 1 else 0
        if delay is None:
            raise StateError(f"the delay of email {n} is a whole number of days", field=f"e{n}-delay")
        emails.append(
            EmailDraft(
                kind=kind,  # type: ignore[arg-type]
                subject=text(f"e{n}-subject"),
                preheader=text(f"e{n}-preheader"),
                delay_days=delay,
                sections=sections,
                intro=text(f"e{n}-intro"),
            )
        )
    return SeriesDraft(name=text("name"), emails=tuple(emails), overrides=dict(stored.overrides))


@router.post("/{slug}/series", include_in_schema=False)
async def save(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """Save the editor's form as a version; `op` may first merge two emails or split one at a section."""
    from campaigns.management.records import draft_of, get_campaign
    from campaigns.management.series_edits import describe_changes, normalised, save_series

    form = await request.form()
    op = str(form.get("op", "save"))
    ctx, now = _context(request), now_of(request)
    with sessions_of(request)() as s:
        stored = draft_of(s, get_campaign(s, slug))
    draft = stored
    try:
        draft = draft_from_form(form, stored)
        m = _OP.match(op)
        if m is None:
            raise StateError(f"unknown action {op!r}")
        done = "saved"
        shaped = draft
        if m.group(2):
            shaped, done = merge_emails(draft, int(m.group(2))), "merged"
        elif m.group(3):
            shaped, done = split_email(draft, int(m.group(3)), int(m.group(4))), "split"
        seen = whole_number(str(form.get("version", "")))
        with sessions_of(request).begin() as s:
            current = get_campaign(s, slug).current_version
            if seen is not None and seen != current:
                raise StateError(
                    f"the series changed while you edited it (it is now version {current}, you opened version "
                    f"{seen}); copy what you typed, load the editor again and redo your change"
                )
            # What was typed before the button, then the cut it asked for (later emails move up or down one).
            typed = describe_changes(stored, normalised(draft)) if draft != stored else ""
            note = typed or "series edited"
            if done == "merged":
                note = f"emails {m.group(2)} and {int(m.group(2)) + 1} merged" + (f"; {typed}" if typed else "")
            elif done == "split":
                cut = f"email {m.group(3)} split before its section {m.group(4)}"
                note = cut + (f"; {typed}" if typed else "")
            version = save_series(s, slug, shaped, ctx.brand, now, actor=session.actor, note=note)
    except NotFound:
        raise
    except OutreachError as err:
        where = err.field or ""
        return _editor_page(
            request, session, slug, draft, errors={where: sentence(str(err))}, status_code=400 if where else 409
        )
    anchor = f"#e{m.group(2) or m.group(3)}" if (m.group(2) or m.group(3)) else ""
    return RedirectResponse(f"/admin/campaigns/{slug}/series?done={done}&v={version.number}{anchor}", status_code=303)


@router.post("/{slug}/series/preview", include_in_schema=False)
async def preview(slug: str, request: Request, session: AdminSession = Depends(require_csrf)) -> Response:
    """One email of the form as it stands, unsaved: its HTML (for the 375 and 600 px frames) or its text part."""
    from campaigns.management.previews import sample_values
    from campaigns.management.records import draft_of, get_campaign
    from campaigns.management.series_edits import preview_draft
    from web.admin.campaign_pages import PREVIEW_HEADERS

    form = await request.form()
    part = request.query_params.get("part", "html")
    number = whole_number(str(form.get("preview_email", "1"))) or 1
    ctx = _context(request)
    try:
        with sessions_of(request)() as s:
            stored = draft_of(s, get_campaign(s, slug))
            shown = preview_draft(s, slug, draft_from_form(form, stored), number, ctx.brand)
    except NotFound:
        raise
    except OutreachError as err:
        message = sentence(str(err))
        if part == "text":
            return Response(message, media_type="text/plain; charset=utf-8", headers=PREVIEW_HEADERS)
        body = f'<p style="font:15px sans-serif;color:#b42318;padding:16px">{_escape(message)}</p>'
        return Response(body, media_type="text/html; charset=utf-8", headers=PREVIEW_HEADERS)
    values = sample_values(settings_of(request), ctx.brand.country)
    html, text = shown.content.fill(values)
    if part == "text":
        subject = shown.content.fill_subject(values)
        return Response(
            f"Subject: {subject}\n\n{text}",
            media_type="text/plain; charset=utf-8",
            headers=PREVIEW_HEADERS,
        )
    return Response(html, media_type="text/html; charset=utf-8", headers=PREVIEW_HEADERS)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


# --- confirmations ---------------------------------------------------------------------------------------------------


@router.get("/{slug}/confirm/{move}", include_in_schema=False)
def confirm(slug: str, move: str, request: Request, session: AdminSession = Depends(require_editor)) -> Response:
    """Before archiving or enrolling everyone: what it will do, in numbers (a GET changes nothing)."""
    from campaigns.management.enrollment import enroll_subscribers
    from campaigns.management.lifecycle import audience_of
    from campaigns.management.records import get_campaign

    if move not in ("archive", "enroll-all"):
        raise NotFound(f"nothing to confirm called {move!r}")
    with sessions_of(request)() as s:
        campaign = get_campaign(s, slug)
        title = campaign.title
        audience = audience_of(s, campaign)
        report = enroll_subscribers(s, slug, now_of(request), actor="", dry_run=True) if move == "enroll-all" else None
    return render_admin(
        request,
        "campaign_confirm.html",
        session,
        title=("Archive " if move == "archive" else "Enroll everyone in ") + title,
        slug=slug,
        campaign_title=title,
        move=move,
        audience=audience,
        report=report,
    )
