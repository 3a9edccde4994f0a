"""Admin pages about people: the subscriber list (search, filters, bulk tags, export), one person's page (status,
consent, enrollments, timeline, actions with a confirmation step), and CSV exports. A thin shell over
campaigns.audience: the forms post to web/admin/subscriber_actions.py, which draws these pages again when refused.

A typed search can be an address or a name, which must stay out of URLs and access logs: it is sent with a POST
and carried from page to page in the form, while status, campaign and tag filters live in the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from campaigns.audience.directory import STATUSES, SubscriberFilter, campaign_choices, search
from campaigns.audience.exports import SUBSCRIBER_COLUMNS, subscriber_rows
from campaigns.audience.person import person
from campaigns.audience.preferences import PAUSE_WEEKS
from campaigns.audience.tags import tag_counts, tags_of
from campaigns.csv_output import csv_chunks
from campaigns.insight.events import EventKind
from campaigns.insight.exports import EVENT_COLUMNS, STEP_COLUMNS, event_rows, step_rows
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, require_admin
from web.admin.forms import NO_FORM, FormState
from web.admin.render import NAV, render_admin
from web.runtime import now_of, sessions_of

router = APIRouter(prefix="/admin")
if ("Subscribers", "/admin/subscribers") not in NAV:
    NAV.insert(2, ("Subscribers", "/admin/subscribers"))

# What each action on a person's page does, for its confirmation page: (button, question, what happens).
ACTIONS: dict[str, tuple[str, str, str]] = {
    "pause": (
        "Pause their emails",
        "Pause {who}'s emails?",
        "No email goes to them for the weeks you choose; then the series goes on where it stopped.",
    ),
    "resume": ("Resume now", "End {who}'s pause now?", "Their next email goes out at its next due time."),
    "unsubscribe": (
        "Unsubscribe",
        "Unsubscribe {who}?",
        "Every campaign stops for them and their address is suppressed, as if they had used the link in an email. "
        "They can sign up again themselves.",
    ),
    "erase": (
        "Erase their data",
        "Erase everything about {who}?",
        "Their name, address, tags and history are removed for good, and their address is kept only as a one-way "
        "fingerprint so that it is never mailed again. This cannot be undone.",
    ),
}


@dataclass(frozen=True)
class Notice:
    """What a page says after a form was saved, beside that form."""

    form: str
    text: str


def filter_from(status: str = "", campaign: str = "", tag: str = "", text: str = "") -> SubscriberFilter:
    return SubscriberFilter(
        text=" ".join(text.split())[:320],
        status=status if status in STATUSES else "",
        campaign_id=whole_number(campaign),
        tag=" ".join(tag.split())[:60],
    )


def filter_query(f: SubscriberFilter) -> str:
    """The URL query of a filter, without the typed text (which never goes into a URL)."""
    kept = {"status": f.status, "campaign": f.campaign_id or "", "tag": f.tag}
    return urlencode({k: v for k, v in kept.items() if v})


def list_page(
    request: Request,
    session: AdminSession,
    f: SubscriberFilter,
    *,
    before: int | None = None,
    notice: Notice | None = None,
    form: FormState = NO_FORM,
    status_code: int = 200,
) -> Response:
    with sessions_of(request)() as s:
        found = search(s, f, before=before)
        campaigns = campaign_choices(s)
        tags = tag_counts(s)
        row_tags = tags_of(s, [x.id for x in found.rows])
    return render_admin(
        request,
        "subscribers.html",
        session,
        title="Subscribers",
        f=f,
        found=found,
        before=before,
        statuses=STATUSES,
        campaigns=campaigns,
        tags=tags,
        row_tags=row_tags,
        query=filter_query(f),
        notice=notice,
        form=form,
        status_code=status_code,
    )


@router.get("/subscribers", include_in_schema=False)
def subscribers(
    request: Request,
    status: str = "",
    campaign: str = "",
    tag: str = "",
    before: str = "",
    session: AdminSession = Depends(require_admin),
) -> Response:
    f = filter_from(status, campaign, tag)
    return list_page(request, session, f, before=whole_number(before))


def person_page(
    request: Request,
    session: AdminSession,
    subscriber_id: int,
    *,
    notice: Notice | None = None,
    form: FormState = NO_FORM,
    status_code: int = 200,
) -> Response:
    with sessions_of(request)() as s:
        p = person(s, subscriber_id, now_of(request))
        tags = [t.name for t in tag_counts(s)]
    sub = p.subscriber
    who = sub.name or (f"subscriber {sub.id}" if sub.status == "erased" else sub.email)
    return render_admin(
        request,
        "subscriber.html",
        session,
        title=who or f"Subscriber {sub.id}",
        p=p,
        sub=sub,
        known_tags=tags,
        pause_weeks=PAUSE_WEEKS,
        notice=notice,
        form=form,
        status_code=status_code,
    )


NOTICES = {
    "paused": "Paused.",
    "resumed": "Their emails will start again.",
    "unsubscribed": "Unsubscribed: nothing more is sent to them.",
    "erased": "Erased. Only the address's fingerprint is kept, on the suppression list.",
    "tagged": "Tag added.",
    "untagged": "Tag removed.",
    "had": "They already had that tag.",
}


@router.get("/subscribers/{subscriber_id:int}", include_in_schema=False)
def subscriber_page(
    subscriber_id: int, request: Request, done: str = "", session: AdminSession = Depends(require_admin)
) -> Response:
    text = NOTICES.get(done)
    form = "tags" if done in ("tagged", "untagged", "had") else "actions"
    return person_page(request, session, subscriber_id, notice=Notice(form, text) if text else None)


@router.get("/subscribers/{subscriber_id:int}/{action}", include_in_schema=False)
def confirm_page(
    subscriber_id: int, action: str, request: Request, session: AdminSession = Depends(require_admin)
) -> Response:
    """The question before an action: what it does, and the one button that does it (a GET changes nothing)."""
    if action not in ACTIONS:
        return person_page(request, session, subscriber_id, status_code=404)
    with sessions_of(request)() as s:
        p = person(s, subscriber_id, now_of(request))
    sub = p.subscriber
    who = sub.name or sub.email or f"subscriber {sub.id}"
    button, question, what = ACTIONS[action]
    return render_admin(
        request,
        "subscriber_confirm.html",
        session,
        title=question.format(who=who),
        p=p,
        sub=sub,
        action=action,
        button=button,
        what=what,
        pause_weeks=PAUSE_WEEKS,
    )


# --- exports -------------------------------------------------------------------------------------------------------


def csv_download(filename: str, chunks) -> StreamingResponse:
    """A CSV streamed as it is written: the first bytes go out before the last rows are read."""
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/subscribers/export.csv", include_in_schema=False)
def export_subscribers(
    request: Request,
    status: str = "",
    campaign: str = "",
    tag: str = "",
    session: AdminSession = Depends(require_admin),
) -> Response:
    f = filter_from(status, campaign, tag)
    return csv_download("subscribers.csv", csv_chunks(SUBSCRIBER_COLUMNS, subscriber_rows(sessions_of(request), f)))


@router.get("/exports/events.csv", include_in_schema=False)
def export_events(
    request: Request, campaign: str = "", kind: str = "", session: AdminSession = Depends(require_admin)
) -> Response:
    kinds = {k.value for k in EventKind}
    rows = event_rows(
        sessions_of(request),
        campaign_id=whole_number(campaign),
        kind=kind if kind in kinds else None,
    )
    return csv_download("events.csv", csv_chunks(EVENT_COLUMNS, rows))


@router.get("/exports/steps.csv", include_in_schema=False)
def export_steps(request: Request, campaign: str = "", session: AdminSession = Depends(require_admin)) -> Response:
    with sessions_of(request)() as s:
        rows = step_rows(s, whole_number(campaign))
    return csv_download("step-stats.csv", csv_chunks(STEP_COLUMNS, rows))
