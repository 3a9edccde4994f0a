"""GET /metrics: Prometheus text, read from the database (the database is the source of truth, and the web process
does not send mail, so counters kept in its memory would see nothing).

    outreach_deliveries{status}               deliveries by status
    outreach_events_total{kind}               provider events stored, by kind
    outreach_events_unprocessed               stored events whose reactions have not run yet
    outreach_events_unmatched                 events that matched no delivery
    outreach_events_set_aside                 webhook items that could not be read, kept raw for an admin
    outreach_queue_depth / _due               deliveries queued / work whose time has come
    outreach_queue_oldest_due_seconds         how long the oldest due work has waited
    outreach_send_latency_seconds             histogram of sent_at - due_at over every sent delivery
    outreach_suppressions{reason}             suppressed addresses by reason
    outreach_reader_pacing_total{action}      pace changes readers made from emails and their preferences page
    outreach_reader_cta_clicks_total          clicks on the call to action, through our redirect
    outreach_useful_answers{answer}           "was this useful?" answers kept (the last per reader and email:
                                              a gauge, as a reader may change theirs)
    outreach_contacts{channel}                imported contacts (a gauge: erasing a person removes theirs)
    outreach_contacts_attributed              of those, put down to the lesson that came last before
    outreach_metrics_age_seconds              how old these figures are

Who may read it: a request with `Authorization: Bearer <OUTREACH_METRICS_TOKEN>`, or from an address in
OUTREACH_METRICS_ALLOW; anyone else gets 401/403 (the totals say how much mail goes out and how much bounces).

What it costs: the figures take a few aggregate queries over every delivery (about a second and a half with a
million on PostgreSQL here), so they are computed at most once per FRESH_SECONDS per process and kept: a scrape
gets the kept figures at once, and one that finds them older starts a refresh in the background (four scrapers at
once cost one computation, never four).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db.models import Delivery, Event
from campaigns.delivery import state as ds
from campaigns.insight import activity
from campaigns.insight import stats as st
from campaigns.insight.learning import LearningTotals, learning_totals
from campaigns.settings import Settings, split_list
from web.guards import client_address
from web.runtime import sessions_of, settings_of

log = logging.getLogger(__name__)
FRESH_SECONDS = 15.0

#: Seconds between due time and sending: from "on time" to "a day late".
LATENCY_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600]
STATUSES = sorted(ds.TRANSITIONS)

router = APIRouter()


@dataclass(frozen=True)
class Figures:
    """Everything /metrics reports, read in one go."""

    by_status: dict[str, int]
    events: dict[str, int]
    unprocessed: int
    unmatched: int
    set_aside: int
    queue: st.QueueHealth
    latency: tuple[list[int], float, int]
    suppressions: dict[str, int]
    at: datetime
    learning: LearningTotals


def read_figures(factory: sessionmaker[Session], at: datetime) -> Figures:
    with factory() as s:
        return Figures(
            by_status=dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()),
            events=st.event_totals(s),
            unprocessed=s.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None))) or 0,
            unmatched=st.unmatched_events(s),
            set_aside=activity.set_aside_count(s),
            queue=st.queue_health(s, at),
            latency=st.send_latency_buckets(s, [float(b) for b in LATENCY_BUCKETS]),
            suppressions=st.suppression_totals(s),
            at=at,
            learning=learning_totals(s),
        )


class FiguresCache:
    """The last figures read, and when; `get` never waits for a refresh once there are figures to give."""

    def __init__(self, read: Callable[[], Figures], fresh_seconds: float = FRESH_SECONDS, clock=time.monotonic) -> None:
        self.read, self.fresh_seconds, self.clock = read, fresh_seconds, clock
        self._figures: Figures | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()  # guards the fields below
        self._reading = threading.Lock()  # one read of the database at a time

    def get(self) -> tuple[Figures, float]:
        """(figures, their age in seconds). The first call reads them; later ones start a background refresh
        when they are older than `fresh_seconds` and give the kept ones meanwhile."""
        with self._lock:
            figures, age = self._figures, self.clock() - self._read_at
        if figures is None:
            with self._reading:  # concurrent first scrapes wait for one read instead of making their own
                if self._figures is None:
                    self._refresh()
            with self._lock:
                assert self._figures is not None
                return self._figures, self.clock() - self._read_at
        if age >= self.fresh_seconds and self._reading.acquire(blocking=False):
            threading.Thread(target=self._refresh_and_release, name="metrics-refresh", daemon=True).start()
        return figures, age

    def _refresh(self) -> None:
        figures = self.read()
        with self._lock:
            self._figures, self._read_at = figures, self.clock()

    def _refresh_and_release(self) -> None:
        try:
            self._refresh()
        except Exception:  # the kept figures stay; the next scrape tries again
            log.exception("could not refresh the /metrics figures")
        finally:
            self._reading.release()


class OutreachCollector:
    """The kept figures as Prometheus metric families."""

    def __init__(self, figures: Figures, age: float) -> None:
        self.f, self.age = figures, age

    def collect(self) -> Iterator:
        f = self.f
        g = GaugeMetricFamily("outreach_deliveries", "Deliveries by status", labels=["status"])
        for status in STATUSES:
            g.add_metric([status], f.by_status.get(status, 0))
        yield g
        c = CounterMetricFamily("outreach_events", "Provider events stored, by kind", labels=["kind"])
        for kind in sorted(f.events):
            c.add_metric([kind], f.events[kind])
        yield c
        yield GaugeMetricFamily(
            "outreach_events_unprocessed", "Stored events whose reactions have not run yet", value=f.unprocessed
        )
        yield GaugeMetricFamily(
            "outreach_events_unmatched", "Stored events that matched no delivery", value=f.unmatched
        )
        yield GaugeMetricFamily(
            "outreach_events_set_aside", "Webhook items that could not be read, kept raw", value=f.set_aside
        )
        yield GaugeMetricFamily("outreach_queue_depth", "Deliveries queued to send", value=f.queue.queued)
        yield GaugeMetricFamily(
            "outreach_queue_due",
            "Due work: queued deliveries due plus due enrollments",
            value=f.queue.queued_due + f.queue.due_enrollments,
        )
        yield GaugeMetricFamily(
            "outreach_queue_oldest_due_seconds", "Age of the oldest due work", value=f.queue.oldest_due_seconds(f.at)
        )
        buckets, total, count = f.latency
        yield HistogramMetricFamily(
            "outreach_send_latency_seconds",
            "Seconds from a delivery's due time to its sending",
            buckets=[(str(float(b)), n) for b, n in zip(LATENCY_BUCKETS, buckets, strict=True)] + [("+Inf", count)],
            sum_value=max(total, 0.0),
        )
        s_ = GaugeMetricFamily("outreach_suppressions", "Suppressed addresses by reason", labels=["reason"])
        for reason, n in sorted(f.suppressions.items()):
            s_.add_metric([reason], n)
        yield s_
        learned = f.learning
        pacing = CounterMetricFamily(
            "outreach_reader_pacing", "Pace changes readers made, by what they asked", labels=["action"]
        )
        for action, n in sorted(learned.pacing.items()):
            pacing.add_metric([action], n)
        yield pacing
        yield CounterMetricFamily(
            "outreach_reader_cta_clicks", "Clicks on the call to action, through our redirect", value=learned.cta_clicks
        )
        useful = GaugeMetricFamily("outreach_useful_answers", '"Was this useful?" answers kept', labels=["answer"])
        for answer, n in sorted(learned.useful.items()):
            useful.add_metric([answer], n)
        yield useful
        contacts = GaugeMetricFamily("outreach_contacts", "Imported contacts, by channel", labels=["channel"])
        for channel, n in sorted(learned.contacts.items()):
            contacts.add_metric([channel], n)
        yield contacts
        yield GaugeMetricFamily(
            "outreach_contacts_attributed",
            "Imported contacts put down to the lesson that came last before",
            value=learned.contacts_attributed,
        )
        yield GaugeMetricFamily("outreach_metrics_age_seconds", "Seconds since these figures were read", value=self.age)


def refusal(request: Request, settings: Settings) -> Response | None:
    """Why this request may not read the metrics (401 or 403), or None when it may."""
    given = request.headers.get("authorization", "")
    if settings.metrics_token and hmac.compare_digest(
        given.encode("utf-8", "replace"), f"Bearer {settings.metrics_token}".encode()
    ):
        return None
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        ip = None
    allowed = [ipaddress.ip_network(n, strict=False) for n in split_list(settings.metrics_allow)]
    if ip is not None and any(ip in network for network in allowed):
        return None
    if settings.metrics_token:
        return PlainTextResponse(
            "A bearer token is needed to read the metrics.\n", 401, headers={"WWW-Authenticate": "Bearer"}
        )
    return PlainTextResponse(
        "The metrics are closed: set OUTREACH_METRICS_TOKEN or OUTREACH_METRICS_ALLOW to open them.\n", 403
    )


def _cache(request: Request) -> FiguresCache:
    state = request.app.state
    if getattr(state, "metrics_figures", None) is None:
        factory, clock = sessions_of(request), state.clock
        state.metrics_figures = FiguresCache(lambda: read_figures(factory, clock()))
    return state.metrics_figures


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    refused = refusal(request, settings_of(request))
    if refused is not None:
        return refused
    figures, age = _cache(request).get()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutreachCollector(figures, age))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
