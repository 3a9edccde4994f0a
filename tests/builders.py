"""Builders for tests: a small campaign with compiled steps (no parsing or MJML) and enrolled subscribers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.addresses import AddressKey
from campaigns.brand import Brand
from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Enrollment,
    StepRow,
    Subscriber,
)
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.retrying import RetryPolicy
from campaigns.tokens import Links, Tokens

START = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
STEPS = 3
# OUTREACH_ADDRESS_KEY for the whole test run (tests/conftest.py puts it in the environment, so processes the tests
# start use it too), and its fingerprints, to make `email_key`s without a session.
TEST_ADDRESS_KEY = "tK4vR9xQ2mZ7pL1wN8cB5hJ3fD6gS0aYeU"
KEYS = AddressKey(TEST_ADDRESS_KEY)
LINKS = Links("https://outreach.test", Tokens("test-secret"))
NO_WAIT = RetryPolicy(max_attempts=1)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def subscriber(
    email: str, *, name: str | None = None, timezone: str = "UTC", created_at: datetime = START, status: str = "active"
) -> Subscriber:
    """A new Subscriber row (not yet added to a session) with its address fingerprint."""
    return Subscriber(
        email=email, email_key=KEYS.of(email), name=name, timezone=timezone, status=status, created_at=created_at
    )


def make_campaign(
    factory, *, status="scheduled", start=START, daily_cap=None, window=(range(7), 0, 24), slug="test", title="Test"
) -> int:
    """A campaign with STEPS small compiled steps (no parsing or MJML needed here), one day apart."""
    with factory.begin() as s:
        c = Campaign(
            slug=slug,
            title=title,
            status=status,
            start_at=start,
            created_at=start,
            window_days=list(window[0]),
            window_start_hour=window[1],
            window_end_hour=window[2],
            daily_cap=daily_cap,
            current_version=1,
        )
        s.add(c)
        s.flush()
        v = CampaignVersion(campaign_id=c.id, number=1, article_source="", article_format="text", created_at=start)
        s.add(v)
        s.flush()
        for n in range(1, STEPS + 1):
            s.add(
                StepRow(
                    version_id=v.id,
                    number=n,
                    kind="lesson",
                    subject=f"Step {n}",
                    preheader="p",
                    delay_days=0 if n == 1 else 1,
                    sections=[],
                    words=1,
                    html=f"<p>Hi %%first_name%%, step {n}</p><a href='%%unsubscribe_url%%'>Unsubscribe</a>",
                    text=f"Hi %%first_name%%, step {n}\nUnsubscribe: %%unsubscribe_url%%",
                )
            )
        return c.id


def enroll(
    factory, campaign_id: int, n: int, tz: str = "America/New_York", enrolled_at: datetime = START - timedelta(days=1)
) -> list[int]:
    with factory.begin() as s:
        subs = [
            Subscriber(
                email=f"person{i}@example.com",
                email_key=KEYS.of(f"person{i}@example.com"),
                name=f"Person {i}",
                timezone=tz,
                status="active",
                created_at=START,
            )
            for i in range(n)
        ]
        s.add_all(subs)
        s.flush()
        s.add_all(Enrollment(campaign_id=campaign_id, subscriber_id=x.id, enrolled_at=enrolled_at) for x in subs)
        return [x.id for x in subs]


# A full brand for tests that build messages without reading content/brand.toml.
BRAND = Brand(
    name="Agape Detox",
    legal_name="Agape Behavioral Healthcare",
    address="500 Harbor Road, Fort Lauderdale, FL 33301",
    phone="+1-954-555-0142",
    phone_display="(954) 555-0142",
    website="https://agape.test",
    cta_url="https://agape.test/c",
    sender_name="Agape Detox",
    sender_email="learn@agape.test",
    reply_to="",
    language="en",
    notice="This email is educational, not medical advice.",
    accent_color="#1f6f5c",
)


def tick_and_send(factory, provider, clock, brand) -> None:
    """One tick at the clock's time, then every batch it handed out sent in this process."""
    batches: list[list[int]] = []
    drip.tick(factory, clock(), batches.append)
    for ids in batches:
        sending.send_deliveries(factory, provider, LINKS, brand, ids, clock, retry=NO_WAIT)


def give_tags(s, subscriber_id: int, *names: str, at: datetime = START) -> None:
    """Put tags (made when new) on a subscriber, in the caller's transaction."""
    from campaigns.audience.tags import clean_tag, tag_ids, tag_subscribers

    s.flush()
    ids = tag_ids(s, [clean_tag(n) for n in names], at)
    tag_subscribers(s, [(subscriber_id, ids[clean_tag(n)]) for n in names])
