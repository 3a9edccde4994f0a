"""The admin pages: overview, one campaign, events, suppressions, queue (signing in is web/admin/sign_in.py).

Their script and style (web/static/admin/) and the vendored Chart.js (web/static/vendor/) are served by the app
at /static/ (no CDN).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from campaigns.db.models import Campaign
from campaigns.insight import activity
from campaigns.insight import stats as st
from campaigns.insight.events import EventKind
from campaigns.text_input import whole_number
from web.admin.auth import AdminSession, require_admin
from web.admin.render import render_admin
from web.runtime import now_of, sessions_of

router = APIRouter(prefix="/admin")

#: Few sends make rates swing: say so below this many.
LOW_VOLUME = 1000
EVENTS_PAGE = 100


# --- pages ---------------------------------------------------------------------------------------------------------


def _thresholds() -> dict:
    return {
        "complaint_warn": st.COMPLAINT_WARN,
        "complaint_danger": st.COMPLAINT_DANGER,
        "bounce_warn": st.BOUNCE_WARN,
        "bounce_danger": st.BOUNCE_DANGER,
    }


def _series(days: list[st.DayStats]) -> dict:
    """Chart data for a per-day chart."""
    names = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")
    return {"labels": [d.day.isoformat() for d in days], **{n: [getattr(d.counts, n) for d in days] for n in names}}


@router.get("", include_in_schema=False)
def overview(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    now = now_of(request)
    with sessions_of(request)() as s:
        campaigns = st.campaign_stats(s)
        queue = st.queue_health(s, now)
        days = st.daily_stats(s, None, max_days=30)
        unmatched = st.unmatched_events(s)
        suppressed = sum(st.suppression_totals(s).values())
    total = st.Counts()
    for c in campaigns:
        total.add(c.total)
    return render_admin(
        request,
        "overview.html",
        session,
        title="Overview",
        campaigns=campaigns,
        total=total,
        queue=queue,
        unmatched=unmatched,
        suppressed=suppressed,
        chart={"daily": _series(days)},
        thresholds=_thresholds(),
        low_volume=LOW_VOLUME,
        opens_note=st.OPENS_NOTE,
    )


@router.get("/campaigns/{slug}", include_in_schema=False)
def campaign_page(slug: str, request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    with sessions_of(request)() as s:
        campaign_id = s.scalar(select(Campaign.id).where(Campaign.slug == slug))
        if campaign_id is None:
            raise HTTPException(status_code=404, detail=f"no campaign named {slug!r}")
        (stats,) = st.campaign_stats(s, campaign_id, with_days=True)
        events = activity.recent_events(s, 15, campaign_id=campaign_id)
        recipients = activity.event_subscribers(s, events)
    chart = {
        "daily": _series(stats.days),
        "funnel": {"labels": [name for name, _ in stats.funnel], "values": [n for _, n in stats.funnel]},
    }
    return render_admin(
        request,
        "campaign.html",
        session,
        title=stats.title,
        c=stats,
        events=events,
        recipients=recipients,
        chart=chart,
        thresholds=_thresholds(),
        low_volume=LOW_VOLUME,
        opens_note=st.OPENS_NOTE,
    )


@router.get("/events", include_in_schema=False)
def events_page(
    request: Request,
    kind: str = "",
    campaign: str = "",
    step: str = "",
    before: str = "",
    session: AdminSession = Depends(require_admin),
) -> Response:
    """Events newest first, EVENTS_PAGE at a time, filtered by kind, campaign and step (unknown values: no filter)."""
    kinds = [k.value for k in EventKind]
    chosen = kind if kind in kinds else ""
    with sessions_of(request)() as s:
        slugs = dict(s.execute(select(Campaign.id, Campaign.slug).order_by(Campaign.slug)).all())
        campaign_id = next((cid for cid, slug in slugs.items() if slug == campaign), None)
        events = activity.recent_events(
            s,
            EVENTS_PAGE + 1,
            campaign_id=campaign_id,
            kind=chosen or None,
            step=whole_number(step),
            before=whole_number(before),
        )
        recipients = activity.event_subscribers(s, events)
        totals = st.event_totals(s)
        unmatched = st.unmatched_events(s)
        set_aside_count, set_aside = activity.set_aside_count(s), activity.recent_set_aside(s)
    more = len(events) > EVENTS_PAGE
    events = events[:EVENTS_PAGE]
    query = {"kind": chosen, "campaign": campaign if campaign_id else "", "step": step if whole_number(step) else ""}
    kept = {k: v for k, v in query.items() if v}
    older = urlencode({**kept, "before": events[-1].id}) if more else ""
    return render_admin(
        request,
        "events.html",
        session,
        title="Events",
        events=events,
        recipients=recipients,
        totals=totals,
        kinds=kinds,
        chosen=query,
        paged=whole_number(before) is not None,
        older=older,
        newest=urlencode(kept),
        page_size=EVENTS_PAGE,
        unmatched=unmatched,
        slugs=slugs,
        set_aside_count=set_aside_count,
        set_aside=set_aside,
    )


def _suppressions_page(
    request: Request, session: AdminSession, *, searched: bool = False, found=None, status_code: int = 200
) -> Response:
    with sessions_of(request)() as s:
        totals = st.suppression_totals(s)
        recent = activity.recent_suppressions(s, 50)
    return render_admin(
        request,
        "suppressions.html",
        session,
        title="Suppressions",
        totals=totals,
        recent=recent,
        searched=searched,
        found=found,
        status_code=status_code,
    )


@router.get("/suppressions", include_in_schema=False)
def suppressions(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    return _suppressions_page(request, session)


@router.post("/suppressions", include_in_schema=False)
def search_suppressions(
    request: Request, address: str = Form(""), session: AdminSession = Depends(require_admin)
) -> Response:
    """Search by address with a POST, so the address stays out of URLs and access logs; it is hashed and dropped."""
    address = address.strip()
    if not address or "@" not in address:
        return _suppressions_page(request, session, status_code=400)
    with sessions_of(request)() as s:
        found = activity.find_suppression(s, address)
    return _suppressions_page(request, session, searched=True, found=found)


@router.get("/queue", include_in_schema=False)
def queue_page(request: Request, session: AdminSession = Depends(require_admin)) -> Response:
    now = now_of(request)
    with sessions_of(request)() as s:
        queue = st.queue_health(s, now)
    return render_admin(request, "queue.html", session, title="Queue", queue=queue)
