"""A stored step as a sample subscriber sees it, and test sends of it to staff addresses.

A test send goes through the configured provider like a real one, but marked as a test: "[Test]" before the
subject, Batch.is_test (an X-Outreach-Test header, a "test" category), delivery id 0, addressed to the staff address
alone (no made-up name), and links for the sample subscriber, which open a page saying the email was a test. It
touches no enrollment, delivery or statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.addresses import AddressError, normalize_address, sendable_address
from campaigns.audit import audit
from campaigns.authoring.content import StepContent
from campaigns.authoring.names import greeting_name
from campaigns.brand import Brand
from campaigns.db.models import StepRow
from campaigns.delivery.providers.base import (
    Batch,
    EmailProvider,
    Recipient,
    SendResult,
)
from campaigns.errors import NotFound, StateError
from campaigns.management.checks import sample_values
from campaigns.management.records import get_campaign, version_steps
from campaigns.settings import Settings
from campaigns.text_input import clean_line

MAX_TEST_ADDRESSES = 20
TEST_PREFIX = "[Test]"


@dataclass(frozen=True)
class Rendered:
    step: StepRow
    html: str
    text: str


def stored_step(s: Session, slug: str, number: int, version: int | None = None) -> StepRow:
    """Step `number` of the campaign's current version (or of `version`)."""
    campaign = get_campaign(s, slug)
    rows = version_steps(s, campaign, version or campaign.current_version)
    if not 1 <= number <= len(rows):
        raise NotFound(f"campaign {slug!r} has no step {number}: its steps are 1 to {len(rows)}")
    return rows[number - 1]


def render_step(row: StepRow, settings: Settings | None, country: str | None = "US") -> Rendered:
    """The step filled with a sample subscriber's values (a reader in `country`: the brand's own)."""
    html, text = content_of(row).fill(sample_values(settings, country))
    return Rendered(row, html, text)


def content_of(row: StepRow) -> StepContent:
    return StepContent(row.subject, row.preheader, row.html, row.text)


def send_test(
    s: Session,
    slug: str,
    number: int,
    addresses: list[str],
    provider: EmailProvider,
    brand: Brand,
    settings: Settings,
    now: datetime,
    *,
    actor: str,
) -> list[SendResult]:
    """Send step `number` of the current version to staff `addresses`, as a test.

    Only an audit entry is written (how many addresses, not which): no enrollment, delivery or event.
    """
    if not addresses:
        raise StateError("give at least one address to send the test to", field="addresses")
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise StateError(
            f"a test goes to at most {MAX_TEST_ADDRESSES} addresses, not {len(addresses)}", field="addresses"
        )
    clean = []
    for address in addresses:
        try:
            clean.append(sendable_address(normalize_address(address)) or address)
        except AddressError as err:
            raise StateError(f"test address {clean_line(address)!r}: {err}", field="addresses") from None
    campaign = get_campaign(s, slug)
    row = stored_step(s, slug, number)
    # The greeting a subscriber without a name gets: the staff member is not "Sam", and the To line shows only
    # their own address. The crisis lines are the brand's own country's.
    values = {**sample_values(settings, brand.country), "first_name": greeting_name(None)}
    content = content_of(row)
    batch = Batch(
        content=replace(content, subject=f"{TEST_PREFIX} {content.subject}"),
        brand=brand,
        campaign=campaign.slug,
        step=row.number,
        is_test=True,
        recipients=tuple(Recipient(0, a, None, dict(values)) for a in dict.fromkeys(clean)),
    )
    results = provider.send_batch(batch)
    ok = sum(r.status == "accepted" for r in results)
    audit(
        s,
        campaign,
        actor,
        "test sent",
        f"step {row.number} (version {campaign.current_version}) to "
        f"{len(batch.recipients)} staff address(es), {ok} accepted",
        now,
    )
    return results
