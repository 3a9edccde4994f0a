"""What the send path fills in per reader, on both databases: the greeting, the crisis lines of their country, the
day their next email comes (from their own schedule), and a Message-ID decided once per delivery."""

from __future__ import annotations

import contextvars
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update

from campaigns.authoring.render import crisis_block
from campaigns.db.models import Delivery, Enrollment, StepRow, Subscriber
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import Batch, RecordingProvider, SendResult
from campaigns.delivery.providers.outbox import OutboxProvider
from campaigns.delivery.schedule import zone
from campaigns.errors import ProviderError
from tests.builders import KEYS, LINKS, NO_WAIT, START, Clock, make_campaign

READERS = [  # email, name, first_name, time zone, country
    ("jane@mail.test", "Dr. Jane Smith", None, "America/New_York", None),
    ("tom@mail.test", "Becker, Tom", None, "Europe/Berlin", None),
    ("hannah@mail.test", "Hannah Wright", "Han", "UTC", "GB"),
    ("li@mail.test", "李小龙", None, "Asia/Tokyo", None),
]


def with_slots(factory, campaign_id: int) -> None:
    """The builder's steps, plus the next-day line and the crisis lines every real step carries."""
    with factory.begin() as s:
        for row in s.scalars(select(StepRow)):
            row.html += "<p>Next on %%next_day%%.</p><div>%%crisis%%</div>"
            row.text += "\nNext on %%next_day%%.\n%%crisis%%\n"


def add_readers(factory, campaign_id: int, readers=READERS) -> dict[str, int]:
    with factory.begin() as s:
        subs = [
            Subscriber(
                email=email,
                email_key=KEYS.of(email),
                name=name,
                first_name=first,
                timezone=tz,
                country=country,
                status="active",
                created_at=START,
            )
            for email, name, first, tz, country in readers
        ]
        s.add_all(subs)
        s.flush()
        s.add_all(
            Enrollment(campaign_id=campaign_id, subscriber_id=x.id, enrolled_at=START - timedelta(days=1)) for x in subs
        )
        return {x.email: x.id for x in subs}


def send_due(factory, provider, at, brand) -> None:
    batches: list[list[int]] = []
    drip.tick(factory, at, batches.append)
    for ids in batches:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, Clock(at), retry=NO_WAIT, cache=CACHE.get())


# The process-wide content cache keys steps by (campaign, version, step), which repeat from one test database to the
# next; these tests change their steps' content (with_slots), so each test gets a cache of its own.
CACHE: contextvars.ContextVar[sending.ContentCache] = contextvars.ContextVar("cache")


@pytest.fixture(autouse=True)
def own_cache():
    token = CACHE.set(sending.ContentCache())
    yield
    CACHE.reset(token)


def test_each_reader_gets_their_greeting_their_countrys_lines_and_their_own_next_day(session_factory, brand):
    cid = make_campaign(session_factory, window=(range(5), 9, 17))  # weekdays, 9 to 5 in the reader's zone
    with_slots(session_factory, cid)
    ids = add_readers(session_factory, cid)
    provider = RecordingProvider()
    # Monday 14:00 UTC is inside everyone's window only for New York; the others are sent when theirs opens.
    for hours in range(0, 72):
        send_due(session_factory, provider, START + timedelta(hours=hours), brand)
    firsts = {r.email: r for b in provider.batches if b.step == 1 for r in b.recipients}
    assert {e: r.values["first_name"] for e, r in firsts.items()} == {
        "jane@mail.test": "Jane",  # honorific skipped
        "tom@mail.test": "Tom",  # "Last, First"
        "hannah@mail.test": "Han",  # the first name given wins
        "li@mail.test": "there",  # no guessing at a CJK name
    }
    # The crisis lines are in the content of the request each reader went in: one request per country's lines.
    content_of = {r.email: b.content for b in provider.batches if b.step == 1 for r in b.recipients}
    for email, country in [
        ("jane@mail.test", "US"),
        ("tom@mail.test", "DE"),
        ("hannah@mail.test", "GB"),
        ("li@mail.test", None),
    ]:  # Berlin's zone; the country field beats UTC; Japan: fallback
        html, text = content_of[email].fill(firsts[email].values)
        assert crisis_block(country).html in html and crisis_block(country).text in text, email
        assert "crisis" not in firsts[email].values  # not carried per recipient
    # "Next on <day>" is the day the reader's next email really went, in their own zone.
    with session_factory() as s:
        sent_at = {
            (email, step): at
            for email, step, at in s.execute(
                select(Subscriber.email, Delivery.step_number, Delivery.sent_at)
                .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            )
        }
    for email, _, _, tz, _ in READERS:
        weekday = sent_at[(email, 2)].astimezone(zone(tz)).strftime("%A")
        assert firsts[email].values["next_day"] == weekday, email
    assert set(ids) == set(firsts)
    assert len({r.values["next_day"] for r in firsts.values()}) > 1  # not one day for everyone


def test_a_batch_goes_as_one_request_per_crisis_block_each_carrying_it_once(session_factory, brand):
    cid = make_campaign(session_factory)
    with_slots(session_factory, cid)
    zones = ("America/New_York", "America/Chicago", "Europe/Berlin", "Asia/Tokyo")
    add_readers(session_factory, cid, [(f"r{i}@mail.test", "Reader Name", None, zones[i % 4], None) for i in range(20)])
    provider = RecordingProvider()
    send_due(session_factory, provider, START, brand)
    # New York and Chicago share the US lines: three requests for four zones, each reader in exactly one.
    assert sorted(len(b.recipients) for b in provider.batches) == [5, 5, 10]
    for b in provider.batches:
        assert "%%crisis%%" not in b.content.html and b.content.html.count("Not in ") <= 1
    assert len({r.email for b in provider.batches for r in b.recipients}) == 20


class FailsOnSecondPart:
    """Accepts the first request, then refuses as if the credentials were wrong."""

    name = "fails-second"

    def __init__(self) -> None:
        self.calls = 0

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.calls += 1
        if self.calls == 2:
            raise ProviderError("credentials refused", fatal=True)
        return [SendResult(r.delivery_id, "accepted", "m1") for r in batch.recipients]


def test_a_fatal_error_mid_batch_records_what_went_and_gives_back_the_rest(session_factory, brand):
    cid = make_campaign(session_factory)
    with_slots(session_factory, cid)
    add_readers(
        session_factory,
        cid,
        [
            (f"r{i}@mail.test", "Reader Name", None, ("America/New_York", "Europe/Berlin", "Asia/Tokyo")[i % 3], None)
            for i in range(9)
        ],
    )
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with pytest.raises(ProviderError):
        sending.send_deliveries(
            session_factory,
            FailsOnSecondPart(),
            LINKS,
            brand,
            emitted[0],
            Clock(START),
            retry=NO_WAIT,
            cache=CACHE.get(),
        )
    with session_factory() as s:
        statuses = sorted(s.scalars(select(Delivery.status)))
    # The first part went and is recorded; the two parts not sent are queued again, none left `submitting` to
    # turn `unknown` (which would mean never sent and never retried).
    assert statuses == ["accepted"] * 3 + ["queued"] * 6


def test_the_next_day_is_worked_out_once_per_zone_in_a_batch(session_factory, brand, monkeypatch):
    cid = make_campaign(session_factory)
    with_slots(session_factory, cid)
    readers = [
        (f"r{i}@mail.test", "Reader Number", None, ("America/New_York", "Europe/Berlin")[i % 2], None)
        for i in range(40)
    ]
    add_readers(session_factory, cid, readers)
    calls = []
    real = sending.next_due
    monkeypatch.setattr(sending, "next_due", lambda *a: calls.append(a[2]) or real(*a))
    provider = RecordingProvider()
    send_due(session_factory, provider, START, brand)
    assert sum(len(b.recipients) for b in provider.batches) == 40
    assert len(calls) == 2  # one per zone, not one per reader


def test_the_last_step_has_no_next_day(session_factory, brand):
    cid = make_campaign(session_factory)
    with_slots(session_factory, cid)
    add_readers(session_factory, cid, READERS[:1])
    provider = RecordingProvider()
    for days in range(4):
        send_due(session_factory, provider, START + timedelta(days=days), brand)
    by_step = {b.step: b.recipients[0] for b in provider.batches}
    assert sorted(by_step) == [1, 2, 3]
    assert "next_day" in by_step[2].values and "next_day" not in by_step[3].values


class FailsOnce:
    """Refuses the first batch as if the credentials were wrong (the batch goes back to the queue), then writes
    to the outbox; records each attempt's Message-ID tokens."""

    name = "fails-once"

    def __init__(self, outbox: OutboxProvider) -> None:
        self.outbox, self.attempts = outbox, []

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.attempts.append([r.message_token for r in batch.recipients])
        if len(self.attempts) == 1:
            raise ProviderError("credentials refused", fatal=True)
        return self.outbox.send_batch(batch)


def test_the_message_id_is_random_decided_once_and_the_same_on_every_attempt(session_factory, brand, tmp_path):
    cid = make_campaign(session_factory)
    add_readers(session_factory, cid, [READERS[0], ("kim@mail.test", "Kim Lee", None, "America/Chicago", None)])
    provider = FailsOnce(OutboxProvider(tmp_path, clock=Clock(START)))
    emitted: list[list[int]] = []
    drip.tick(session_factory, START, emitted.append)
    with session_factory() as s:
        stored = dict(s.execute(select(Delivery.id, Delivery.message_token)).all())
    assert all(len(t) == 32 and int(t, 16) for t in stored.values()) and len(set(stored.values())) == 2
    with pytest.raises(ProviderError):
        sending.send_deliveries(
            session_factory, provider, LINKS, brand, emitted[0], Clock(START), retry=NO_WAIT, cache=CACHE.get()
        )
    with session_factory.begin() as s:  # the batch is queued again; its queue lease runs out
        s.execute(update(Delivery).values(lease_until=None))
    send_due(session_factory, provider, START + timedelta(minutes=5), brand)
    assert provider.attempts[0] == provider.attempts[1] == [stored[i] for i in sorted(stored)]
    for path in sorted(tmp_path.rglob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        delivery = int(msg["X-Outreach-Delivery"])
        assert msg["Message-ID"] == f"<{stored[delivery]}@{brand.sender_email.rpartition('@')[2]}>"


def test_the_day_is_the_readers_weekday_and_the_date_once_it_is_a_week_or_more_away():
    sent = START  # Monday 2027-01-04 14:00 UTC
    berlin, honolulu = zone("Europe/Berlin"), zone("Pacific/Honolulu")
    assert sending.day_phrase(START + timedelta(days=2), sent, berlin) == "Wednesday"
    # Wednesday 01:00 in Berlin is still Tuesday afternoon in Honolulu: the reader's own calendar counts.
    assert sending.day_phrase(START + timedelta(days=1, hours=10), sent, honolulu) == "Tuesday"
    assert sending.day_phrase(START + timedelta(days=9), sent, berlin) == "Wednesday, January 13"
