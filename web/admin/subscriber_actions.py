"""The subscriber forms' actions: a typed search, bulk tags on what a search found, its export, and one person's
pause, resume, unsubscribe, erase and tags. Each POST calls one domain function (campaigns.audience.staff_actions),
audited under the signed-in staff member's name.

Saved: a redirect (303) back to the page with a notice. Refused: the page drawn again with what was typed and the
reason beside the field (web.admin.forms).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.audience import staff_actions
from campaigns.audience.exports import SUBSCRIBER_COLUMNS, subscriber_rows
from campaigns.csv_output import csv_chunks
from campaigns.errors import NotFound, OutreachError, StateError
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, actor_of, require_admin, require_csrf
from web.admin.forms import refused
from web.admin.subscriber_pages import ACTIONS, Notice, csv_download, filter_from, list_page, person_page
from web.runtime import now_of, sessions_of

router = APIRouter(prefix="/admin/subscribers")


@router.post("/search", include_in_schema=False)
def search_subscribers(
    request: Request,
    q: str = Form(""),
    status: str = Form(""),
    campaign: str = Form(""),
    tag: str = Form(""),
    before: str = Form(""),
    session: AdminSession = Depends(require_admin),
) -> Response:
    """A typed search (an address or a name): posted, so that it stays out of URLs and logs; a viewer may search."""
    f = filter_from(status, campaign, tag, q)
    return list_page(request, session, f, before=whole_number(before))


@router.post("/tags", include_in_schema=False)
def tag_found(
    request: Request,
    q: str = Form(""),
    status: str = Form(""),
    campaign: str = Form(""),
    tag: str = Form(""),
    name: str = Form(""),
    change: str = Form("add"),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    """Add (or remove) a tag on everyone the search found."""
    f = filter_from(status, campaign, tag, q)
    remove = change == "remove"
    try:
        with sessions_of(request).begin() as s:
            found, changed = staff_actions.tag_matching(
                s, f, name, now_of(request), actor=actor_of(request, session), remove=remove
            )
    except OutreachError as err:
        state = refused("bulk-tag", err, {"name": name}, ("tag",))
        return list_page(request, session, f, form=state, status_code=400)
    shown = " ".join(name.split()).lower()
    if remove:
        text = f"Tag \u201c{shown}\u201d removed from {changed} of the {found} found."
    else:
        had = f" ({found - changed} had it already)" if found - changed else ""
        text = f"Tag \u201c{shown}\u201d added to {changed} of the {found} found{had}."
    return list_page(request, session, f, notice=Notice("bulk-tag", text))


@router.post("/export.csv", include_in_schema=False)
def export_found(
    request: Request,
    q: str = Form(""),
    status: str = Form(""),
    campaign: str = Form(""),
    tag: str = Form(""),
    session: AdminSession = Depends(require_admin),
) -> Response:
    """The export of a typed search (posted, like the search itself)."""
    f = filter_from(status, campaign, tag, q)
    return csv_download("subscribers.csv", csv_chunks(SUBSCRIBER_COLUMNS, subscriber_rows(sessions_of(request), f)))


def _act(
    request: Request,
    session: AdminSession,
    subscriber_id: int,
    form: str,
    action: Callable[[Session, str], str],
    *,
    values: dict[str, str] | None = None,
    fields: tuple[str, ...] = (),
) -> Response:
    """Run one action in a transaction: back to the person's page with its notice, or the page again with why not."""
    try:
        with sessions_of(request).begin() as s:
            done = action(s, actor_of(request, session))
    except NotFound:
        raise
    except OutreachError as err:
        state = refused(form, err, values or {}, fields)
        status = 400 if err.field else 409  # a wrong value, or a move the person's state does not allow
        return person_page(request, session, subscriber_id, form=state, status_code=status)
    return RedirectResponse(f"/admin/subscribers/{subscriber_id}?done={done}#{form}", status_code=303)


@router.post("/{subscriber_id:int}/tags", include_in_schema=False)
def add_tag(
    subscriber_id: int, request: Request, tag: str = Form(""), session: AdminSession = Depends(require_csrf)
) -> Response:
    def action(s: Session, actor: str) -> str:
        added = staff_actions.add_tag(s, subscriber_id, tag, now_of(request), actor=actor)
        return "tagged" if added else "had"

    return _act(request, session, subscriber_id, "tags", action, values={"tag": tag}, fields=("tag",))


@router.post("/{subscriber_id:int}/tags/remove", include_in_schema=False)
def remove_tag(
    subscriber_id: int, request: Request, tag: str = Form(""), session: AdminSession = Depends(require_csrf)
) -> Response:
    def action(s: Session, actor: str) -> str:
        staff_actions.remove_tag(s, subscriber_id, tag, now_of(request), actor=actor)
        return "untagged"

    return _act(request, session, subscriber_id, "tags", action)


@router.post("/{subscriber_id:int}/{name}", include_in_schema=False)
def act(
    subscriber_id: int,
    name: str,
    request: Request,
    weeks: str = Form(""),
    session: AdminSession = Depends(require_csrf),
) -> Response:
    """The confirmed action (from its confirmation page): pause, resume, unsubscribe or erase."""
    if name not in ACTIONS:
        raise NotFound(f"no action {name!r} for a subscriber")
    now = now_of(request)

    def action(s: Session, actor: str) -> str:
        if name == "pause":
            chosen = whole_number(weeks)
            if chosen is None:
                raise StateError("choose how many weeks", field="weeks")
            staff_actions.pause_subscriber(s, subscriber_id, chosen, now, actor=actor)
            return "paused"
        if name == "resume":
            staff_actions.resume_subscriber(s, subscriber_id, now, actor=actor)
            return "resumed"
        if name == "unsubscribe":
            staff_actions.unsubscribe_subscriber(s, subscriber_id, now, actor=actor)
            return "unsubscribed"
        staff_actions.erase_subscriber(s, subscriber_id, now, actor=actor)
        return "erased"

    return _act(request, session, subscriber_id, "actions", action)
