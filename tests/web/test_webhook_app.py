"""The webhook inside the real app (web.app.create_app): signed events in, reactions applied, stats updated."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from campaigns.insight.stats import campaign_stats
from tests.builders import START
from tests.insight.support import sent_campaign, sg_event
from tests.web.admin_support import admin_app
from tests.web.signing import Signer


def test_create_app_serves_the_signed_webhook(db_url, session_factory, tmp_path):
    signer = Signer()
    _, d = sent_campaign(session_factory, 2)
    app = admin_app(
        db_url, session_factory, tmp_path, sendgrid_webhook_public_key=signer.public_key, events_inline=True
    )
    body = json.dumps([sg_event("delivered", 0, d[(0, 1)], START), sg_event("click", 0, d[(0, 1)], START)]).encode()
    client = TestClient(app)
    assert (
        client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body, int(START.timestamp()))).json()[
            "stored"
        ]
        == 2
    )
    refused = client.post("/webhooks/sendgrid", content=body, headers=Signer().headers(body, int(START.timestamp())))
    assert refused.status_code == 403
    with session_factory() as s:
        (stats,) = campaign_stats(s)
    assert (stats.total.delivered, stats.total.clicked) == (1, 1)
