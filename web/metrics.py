"""GET /metrics: Prometheus text, read from the database at each scrape (the database is the source of truth, and
the web process does not send mail, so counters kept in its memory would see nothing).

    outreach_deliveries{status}               deliveries by status
    outreach_events_total{kind}               provider events stored, by kind
    outreach_events_unprocessed               stored events whose reactions have not run yet
    outreach_events_unmatched                 events that matched no delivery
    outreach_queue_depth / _due               deliveries queued / work whose time has come
    outreach_queue_oldest_due_seconds         how long the oldest due work has waited
    outreach_send_latency_seconds             histogram of sent_at - due_at over every sent delivery
    outreach_suppressions{reason}             suppressed addresses by reason
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
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
from campaigns.insight import stats as st
from web.runtime import now_of, sessions_of

#: Seconds between due time and sending: from "on time" to "a day late".
LATENCY_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600]
STATUSES = sorted(ds.TRANSITIONS)

router = APIRouter()


class OutreachCollector:
    """Builds every metric from a few aggregate queries when Prometheus scrapes."""

    def __init__(self, factory: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.factory, self.now = factory, now

    def collect(self):
        at = self.now()
        with self.factory() as s:
            by_status = dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
            events = st.event_totals(s)
            unprocessed = s.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None)))
            unmatched = st.unmatched_events(s)
            queue = st.queue_health(s, at)
            buckets, total, count = st.send_latency_buckets(s, [float(b) for b in LATENCY_BUCKETS])
            suppressions = st.suppression_totals(s)
        g = GaugeMetricFamily("outreach_deliveries", "Deliveries by status", labels=["status"])
        for status in STATUSES:
            g.add_metric([status], by_status.get(status, 0))
        yield g
        c = CounterMetricFamily("outreach_events", "Provider events stored, by kind", labels=["kind"])
        for kind in sorted(events):
            c.add_metric([kind], events[kind])
        yield c
        yield GaugeMetricFamily(
            "outreach_events_unprocessed", "Stored events whose reactions have not run yet", value=unprocessed or 0
        )
        yield GaugeMetricFamily("outreach_events_unmatched", "Stored events that matched no delivery", value=unmatched)
        yield GaugeMetricFamily("outreach_queue_depth", "Deliveries queued to send", value=queue.queued)
        yield GaugeMetricFamily(
            "outreach_queue_due",
            "Due work: queued deliveries due plus due enrollments",
            value=queue.queued_due + queue.due_enrollments,
        )
        yield GaugeMetricFamily(
            "outreach_queue_oldest_due_seconds", "Age of the oldest due work", value=queue.oldest_due_seconds(at)
        )
        yield HistogramMetricFamily(
            "outreach_send_latency_seconds",
            "Seconds from a delivery's due time to its sending",
            buckets=[(str(float(b)), n) for b, n in zip(LATENCY_BUCKETS, buckets, strict=True)] + [("+Inf", count)],
            sum_value=max(total, 0.0),
        )
        s_ = GaugeMetricFamily("outreach_suppressions", "Suppressed addresses by reason", labels=["reason"])
        for reason, n in sorted(suppressions.items()):
            s_.add_metric([reason], n)
        yield s_


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutreachCollector(sessions_of(request), lambda: now_of(request)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
