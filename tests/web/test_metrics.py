"""GET /metrics: Prometheus text with deliveries, events, queue, latency and suppressions from the database."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from campaigns.insight.events import from_sendgrid
from campaigns.insight.reactions import record_events
from tests.builders import START
from tests.insight.support import sent_campaign, sg_event
from tests.web.admin_support import admin_app


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_report_the_database(db_url, session_factory, tmp_path):
    _, d = sent_campaign(session_factory, 4)
    with session_factory.begin() as s:
        record_events(
            s,
            [
                from_sendgrid(e, START)
                for e in (
                    sg_event("delivered", 0, d[(0, 1)], START),
                    sg_event("delivered", 1, d[(1, 1)], START),
                    sg_event("bounce", 2, d[(2, 1)], START, type="bounce"),
                    sg_event("open", 9, None, START),
                )
            ],
            START,
            soft_bounce_limit=3,
        )
    app = admin_app(db_url, session_factory, tmp_path, clock=lambda: START + timedelta(hours=1))
    response = TestClient(app).get("/metrics")  # no login: counts only, for the Prometheus scraper
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    m = samples(response.text)
    assert m[("outreach_deliveries", (("status", "delivered"),))] == 2
    assert m[("outreach_deliveries", (("status", "bounced"),))] == 1
    assert m[("outreach_deliveries", (("status", "accepted"),))] == 1
    assert m[("outreach_events_total", (("kind", "delivered"),))] == 2
    assert m[("outreach_events_unmatched", ())] == 1 and m[("outreach_events_unprocessed", ())] == 0
    assert m[("outreach_suppressions", (("reason", "hard_bounce"),))] == 1
    # Every delivery left one minute after it was due (tests.insight.support).
    assert m[("outreach_send_latency_seconds_count", ())] == 4
    assert m[("outreach_send_latency_seconds_bucket", (("le", "30.0"),))] == 0
    assert m[("outreach_send_latency_seconds_bucket", (("le", "120.0"),))] == 4
    assert abs(m[("outreach_send_latency_seconds_sum", ())] - 240) < 0.5
    assert m[("outreach_queue_depth", ())] == 0 and m[("outreach_queue_oldest_due_seconds", ())] == 0
