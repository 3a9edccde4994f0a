"""POST /webhooks/sendgrid through the real route: signed batches are stored once, anything else stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.db.models import Event, SetAsideEvent, Suppression
from campaigns.settings import load_settings
from tests.builders import START, Clock
from tests.insight.support import sent_campaign, sg_event
from tests.web.signing import Signer
from web.webhooks import make_webhook_router

URL = "/webhooks/sendgrid"


@pytest.fixture
def signer() -> Signer:
    return Signer()


def client_for(session_factory, db_url, signer, *, inline=True, dispatch=None, clock=None) -> TestClient:
    app = FastAPI()
    app.state.settings = load_settings(
        database_url=db_url,
        sendgrid_webhook_public_key=signer.public_key,
        webhook_max_age_seconds=600,
        events_inline=inline,
        soft_bounce_limit=3,
    )
    app.state.session_factory = session_factory
    app.state.clock = clock or Clock(START)
    app.include_router(make_webhook_router(dispatch or (lambda: None)))
    return TestClient(app)


def stored(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Event))


def batch(deliveries) -> bytes:
    return json.dumps(
        [sg_event("delivered", 0, deliveries[(0, 1)], START), sg_event("spamreport", 1, deliveries[(1, 1)], START)]
    ).encode()


def test_signed_batch_is_stored_once_and_applied(session_factory, db_url, signer):
    _, d = sent_campaign(session_factory, 2)
    client = client_for(session_factory, db_url, signer)
    body = batch(d)
    ts = int(START.timestamp())
    first = client.post(URL, content=body, headers=signer.headers(body, ts))
    again = client.post(URL, content=body, headers=signer.headers(body, ts + 30))  # SendGrid's retry
    assert first.status_code == 200
    assert first.json() == {"received": 2, "stored": 2, "duplicates": 0, "unmatched": 0, "set_aside": 0}
    assert again.status_code == 200 and again.json()["duplicates"] == 2
    assert stored(session_factory) == 2
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Suppression)) == 1  # the complaint, applied inline


def refused(client, factory, body, headers) -> str:
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 403, response.text
    assert stored(factory) == 0
    return response.json()["error"]


def test_altered_body_is_refused(session_factory, db_url, signer):
    _, d = sent_campaign(session_factory, 2)
    body = batch(d)
    headers = signer.headers(body, int(START.timestamp()))
    error = refused(
        client_for(session_factory, db_url, signer), session_factory, body.replace(b"delivered", b"bounce"), headers
    )
    assert "does not verify" in error


def test_wrong_key_is_refused(session_factory, db_url, signer):
    _, d = sent_campaign(session_factory, 2)
    body = batch(d)
    assert "does not verify" in refused(
        client_for(session_factory, db_url, signer),
        session_factory,
        body,
        Signer().headers(body, int(START.timestamp())),
    )


def test_timestamp_is_part_of_what_is_signed(session_factory, db_url, signer):
    _, d = sent_campaign(session_factory, 2)
    body = batch(d)
    headers = signer.headers(body, int(START.timestamp()) - 5)
    headers["X-Twilio-Email-Event-Webhook-Timestamp"] = str(int(START.timestamp()))
    refused(client_for(session_factory, db_url, signer), session_factory, body, headers)


@pytest.mark.parametrize("offset, words", [(-601, "old"), (+600, "future")])
def test_stale_or_future_timestamp_is_refused(session_factory, db_url, signer, offset, words):
    _, d = sent_campaign(session_factory, 2)
    body = batch(d)
    error = refused(
        client_for(session_factory, db_url, signer),
        session_factory,
        body,
        signer.headers(body, int((START + timedelta(seconds=offset)).timestamp())),
    )
    assert words in error


@pytest.mark.parametrize("drop", ["X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"])
def test_missing_header_is_refused(session_factory, db_url, signer, drop):
    _, d = sent_campaign(session_factory, 2)
    body = batch(d)
    headers = signer.headers(body, int(START.timestamp()))
    del headers[drop]
    assert "missing" in refused(client_for(session_factory, db_url, signer), session_factory, body, headers)


def test_a_signed_body_that_is_not_json_is_a_400(session_factory, db_url, signer):
    body = b'[{"event": "open"'
    response = client_for(session_factory, db_url, signer).post(
        URL, content=body, headers=signer.headers(body, int(START.timestamp()))
    )
    assert response.status_code == 400 and "not JSON" in response.json()["error"]
    assert stored(session_factory) == 0


def test_without_a_configured_key_nothing_is_accepted(session_factory, db_url, signer):
    app = FastAPI()
    app.state.settings = load_settings(database_url=db_url, sendgrid_webhook_public_key=None)
    app.state.session_factory, app.state.clock = session_factory, Clock(START)
    app.include_router(make_webhook_router(lambda: None))
    response = TestClient(app).post(URL, content=b"[]")
    assert response.status_code == 503 and "SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["error"]


def test_queued_mode_stores_now_and_hands_the_reactions_to_the_task(session_factory, db_url, signer):
    _, d = sent_campaign(session_factory, 2)
    calls: list[int] = []
    client = client_for(session_factory, db_url, signer, inline=False, dispatch=lambda: calls.append(1))
    body = batch(d)
    assert client.post(URL, content=body, headers=signer.headers(body, int(START.timestamp()))).status_code == 200
    assert calls == [1]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None))) == 2
        assert s.scalar(select(func.count()).select_from(Suppression)) == 0  # not yet: the task does it
    from campaigns.insight.reactions import process_pending

    with session_factory.begin() as s:
        assert process_pending(s, START, 3) == 2
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Suppression)) == 1


def test_a_broken_broker_still_answers_200_with_events_stored(session_factory, db_url, signer):
    def broker_down() -> None:
        raise ConnectionError("redis is gone")

    _, d = sent_campaign(session_factory, 2)
    client = client_for(session_factory, db_url, signer, inline=False, dispatch=broker_down)
    body = batch(d)
    assert client.post(URL, content=body, headers=signer.headers(body, int(START.timestamp()))).status_code == 200
    assert stored(session_factory) == 2


def test_an_oversized_body_is_refused_before_anything_else(session_factory, db_url, signer, monkeypatch):
    import web.webhooks

    monkeypatch.setattr(web.webhooks, "MAX_BODY_BYTES", 100)
    body = json.dumps([sg_event("delivered", 0, 1, START)] * 5).encode()
    response = client_for(session_factory, db_url, signer).post(
        URL, content=body, headers=signer.headers(body, int(START.timestamp()))
    )
    assert response.status_code == 413 and stored(session_factory) == 0


def test_a_malformed_public_key_is_a_503_naming_the_setting(session_factory, db_url, signer):
    app = FastAPI()
    app.state.settings = load_settings(database_url=db_url, sendgrid_webhook_public_key="bm90IGEga2V5")
    app.state.session_factory, app.state.clock = session_factory, Clock(START)
    app.include_router(make_webhook_router(lambda: None))
    body = b"[]"
    response = TestClient(app).post(URL, content=body, headers=signer.headers(body, int(START.timestamp())))
    assert response.status_code == 503 and "SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["error"]


# Issue 19, point 7: one bad event failed its whole signed batch with a 500 (and SendGrid then dropped the good ones).

HOSTILE: dict[str, bytes] = {
    "an sg_event_id of 300 characters": b'{"event": "open", "sg_event_id": "' + b"x" * 300 + b'"}',
    "a NUL in the reason": b'{"event": "bounce", "sg_event_id": "nul-1", "reason": "550 \\u0000 no"}',
    "NaN for a timestamp": b'{"event": "open", "sg_event_id": "nan-1", "timestamp": NaN}',
    "Infinity for a delivery id": b'{"event": "open", "sg_event_id": "inf-1", "delivery_id": Infinity}',
    "10^30 for a delivery id": b'{"event": "open", "sg_event_id": "big-1", "delivery_id": 1' + b"0" * 30 + b"}",
    "a lone surrogate": b'{"event": "open", "sg_event_id": "sur-1", "campaign": "\\ud800"}',
    "deep nesting": b'{"event": "open", "sg_event_id": "deep-1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a number of 5000 digits": b'{"event": "open", "sg_event_id": "long-1", "x": ' + b"7" * 5000 + b"}",
    "not an object": b'"delivered"',
}


@pytest.mark.parametrize("what", list(HOSTILE))
def test_one_bad_event_does_not_fail_its_batch(session_factory, db_url, signer, what):
    _, d = sent_campaign(session_factory, 2)
    good = [json.dumps(sg_event("delivered", i, d[(i, 1)], START)).encode() for i in range(2)]
    body = b"[" + b", ".join([good[0], HOSTILE[what], good[1]]) + b"]"
    response = client_for(session_factory, db_url, signer).post(
        URL, content=body, headers=signer.headers(body, int(START.timestamp()))
    )
    assert response.status_code == 200, response.text
    with session_factory() as s:
        delivered = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "delivered"))
        kept = s.scalar(select(func.count()).select_from(SetAsideEvent))
    assert delivered == 2  # both good events stored (and applied)
    assert response.json()["stored"] + response.json()["set_aside"] == 3 and kept == response.json()["set_aside"]
