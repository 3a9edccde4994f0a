"""GET /metrics: Prometheus text with deliveries, events, queue, latency and suppressions from the database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.builders import START
from tests.insight.support import sent_campaign, sg_event
from tests.web.admin_support import admin_app

TOKEN = "mT4kQ9vZ2xR7pN1wL8cB5hJ3fD6gS0aY"


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
    app = admin_app(db_url, session_factory, tmp_path, clock=lambda: START + timedelta(hours=1), metrics_token=TOKEN)
    response = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
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


# Issue 19, point 6: who may read the metrics, and what a scrape costs.


def test_metrics_are_closed_to_anyone_without_the_token_or_an_allowed_address(db_url, session_factory, tmp_path):
    open_to_nobody = TestClient(admin_app(db_url, session_factory, tmp_path))
    closed = open_to_nobody.get("/metrics")
    assert closed.status_code == 403 and "OUTREACH_METRICS_TOKEN" in closed.text
    assert "outreach_deliveries" not in closed.text
    with_token = TestClient(admin_app(db_url, session_factory, tmp_path, metrics_token=TOKEN))
    for given in ("", "Bearer", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN):
        refused = with_token.get("/metrics", headers={"Authorization": given} if given else {})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", given
    assert with_token.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_an_allowed_network_reads_the_metrics_without_a_token(db_url, session_factory, tmp_path):
    app = admin_app(db_url, session_factory, tmp_path, metrics_allow="10.1.0.0/16, 192.0.2.7")
    assert TestClient(app, client=("10.1.200.3", 9100)).get("/metrics").status_code == 200
    assert TestClient(app, client=("192.0.2.7", 9100)).get("/metrics").status_code == 200
    assert TestClient(app, client=("10.2.0.1", 9100)).get("/metrics").status_code == 403
    # Through the trusted proxy, the client it names counts, not the proxy.
    proxied = TestClient(app, client=("127.0.0.1", 9100))
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "10.1.0.9"}).status_code == 200
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_scrapes_share_one_reading_of_the_database(db_url, session_factory, tmp_path):
    _, d = sent_campaign(session_factory, 2)
    client = TestClient(admin_app(db_url, session_factory, tmp_path, metrics_token=TOKEN))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    statements: list[str] = []
    engine = session_factory.kw["bind"]
    listener = lambda conn, cursor, stmt, params, context, many: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = samples(client.get("/metrics", headers=auth).text)
        read_once = len(statements)
        for _ in range(5):
            again = samples(client.get("/metrics", headers=auth).text)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert read_once > 0 and len(statements) == read_once  # five more scrapes, no more queries
    assert (
        again[("outreach_deliveries", (("status", "accepted"),))]
        == first[("outreach_deliveries", (("status", "accepted"),))]
        == len(d)
    )
    assert ("outreach_metrics_age_seconds", ()) in again


def test_kept_figures_are_refreshed_in_the_background_once_stale():
    from web.metrics import FiguresCache

    now, reads, release = [0.0], [], threading.Event()

    def read():
        reads.append(now[0])
        if len(reads) > 1:
            release.wait(5)  # a slow database: the scrape must not wait for it
        return len(reads)

    cache = FiguresCache(read, fresh_seconds=15, clock=lambda: now[0])
    assert cache.get() == (1, 0.0)
    now[0] = 20.0
    assert cache.get() == (1, 20.0)  # stale: the kept figures at once, a refresh started
    assert cache.get() == (1, 20.0)  # a second stale scrape starts no second refresh
    release.set()
    deadline = time.monotonic() + 5
    while cache.get()[0] != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get() == (2, 0.0) and reads == [0.0, 20.0]
