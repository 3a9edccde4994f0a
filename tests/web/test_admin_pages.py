"""The admin pages show the numbers from campaigns.insight.stats, the thresholds, and no personal data."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from campaigns.insight.reactions import record_events
from campaigns.insight.sendgrid_events import from_sendgrid
from tests.builders import START
from tests.insight.support import address, sent_campaign, sg_event
from tests.web.admin_support import admin_app, signed_in_client


@pytest.fixture
def client(db_url, session_factory, tmp_path):
    _, d = sent_campaign(session_factory, 40, steps=(1, 2))
    events = [sg_event("delivered", i, d[(i, 1)], START) for i in range(40)]
    events += [sg_event("open", i, d[(i, 1)], START + timedelta(hours=2)) for i in range(10)]
    events += [sg_event("spamreport", 0, d[(0, 1)], START + timedelta(days=1))]
    events += [
        sg_event(
            "bounce",
            39,
            d[(39, 2)],
            START + timedelta(days=1),
            step=2,
            type="bounce",
            reason=f"550 5.1.1 <{address(39)}> unknown",
        )
    ]
    with session_factory.begin() as s:
        record_events(s, [from_sendgrid(e, START) for e in events], START, soft_bounce_limit=3)
    return signed_in_client(admin_app(db_url, session_factory, tmp_path, clock=lambda: START + timedelta(days=2)))


def chart_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)[1])


def test_overview_lists_campaigns_with_health(client):
    page = client.get("/admin")
    assert page.status_code == 200
    assert 'href="/admin/campaigns/test"' in page.text and "health: danger" in page.text
    # 1 complaint in 40 delivered = 2.50 %: far over the 0.3 % limit, and said so.
    assert "2.50 %" in page.text and "over the mailbox providers" in page.text
    # Scripts and styles are served from here, never from a CDN (a random CSRF token may spell "cdn": look at URLs).
    assert "/static/vendor/chart.umd.js" in page.text
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)


def test_campaign_page_has_steps_funnel_days_and_events(client):
    page = client.get("/admin/campaigns/test")
    assert page.status_code == 200
    data = chart_data(page.text)
    assert data["funnel"] == {"labels": ["enrolled", "step 1", "step 2", "step 3"], "values": [40, 40, 40, 0]}
    assert data["daily"]["labels"][0] == START.date().isoformat() and sum(data["daily"]["delivered"]) == 40
    assert sum(data["daily"]["opened"]) == 10 and sum(data["daily"]["complained"]) == 1
    assert "Opens are an upper bound" in page.text
    assert "550 5.1.1 &lt;&lt;address&gt;&gt; unknown" in page.text  # the reason, with the address masked


def test_no_page_shows_an_address(client):
    for url in ("/admin", "/admin/campaigns/test", "/admin/events", "/admin/suppressions", "/admin/queue"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "@example.com" not in page.text, url


def test_events_page_filters_by_kind(client):
    page = client.get("/admin/events", params={"kind": "complained"})
    assert page.text.count('class="kind complained"') == 1 and 'class="kind delivered"' not in page.text


def test_unknown_campaign_is_a_404(client):
    assert client.get("/admin/campaigns/nope").status_code == 404


def test_admin_pages_allow_only_own_scripts(client):
    csp = client.get("/admin").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert client.get("/static/vendor/chart.umd.js").status_code == 200
