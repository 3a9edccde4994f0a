"""Send one batch of deliveries: claim them, fill in each recipient's values, hand the batch to the provider once,
record each outcome and move each enrollment on to its next step.

Per-recipient work here is only what must differ (address, name, links); the content was compiled once per step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from campaigns.addresses import UNSUPPORTED_REASON, sendable_address
from campaigns.authoring.content import StepContent
from campaigns.brand import Brand
from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    StepRow,
    Subscriber,
)
from campaigns.db.sql import current_locked, is_in
from campaigns.delivery import state as ds
from campaigns.delivery.progress import advance_enrollments
from campaigns.delivery.providers.base import (
    Batch,
    EmailProvider,
    Recipient,
    SendResult,
)
from campaigns.delivery.state import SEND_LEASE
from campaigns.delivery.suppression import suppressed_keys
from campaigns.errors import ProviderError
from campaigns.tokens import Links

log = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    claimed: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0  # cancelled (subscriber left) or released (campaign paused) before sending


class ContentCache:
    """Compiled step content by (campaign, version, step); versions never change, so entries never go stale."""

    def __init__(self, size: int = 256) -> None:
        self._items: dict[tuple[int, int, int], StepContent] = {}
        self._size = size

    def get(self, s: Session, campaign_id: int, version: int, step: int) -> StepContent:
        key = (campaign_id, version, step)
        if key not in self._items:
            row = s.execute(
                select(StepRow)
                .join(CampaignVersion)
                .where(
                    CampaignVersion.campaign_id == campaign_id,
                    CampaignVersion.number == version,
                    StepRow.number == step,
                )
            ).scalar_one()
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = StepContent(row.subject, row.preheader, row.html, row.text)
        return self._items[key]


_CACHE = ContentCache()


def first_name(name: str | None) -> str:
    return name.split()[0] if name and name.split() else "there"


def send_deliveries(
    factory: sessionmaker[Session],
    provider: EmailProvider,
    links: Links,
    brand: Brand,
    delivery_ids: Iterable[int],
    now: Callable[[], datetime],
    *,
    retry=None,
    cache: ContentCache = _CACHE,
) -> BatchOutcome:
    """Send the given deliveries (one campaign step, up to 1000); a delivery not `queued` is left alone."""
    from campaigns.delivery.retrying import RetryPolicy, send_with_retry

    out = BatchOutcome()
    started = now()
    d = Delivery.__table__
    with factory.begin() as s:
        cur = current_locked(s, d, list(delivery_ids), d.c.status)
        claimed = sorted(
            s.scalars(
                update(d)
                .where(d.c.id == cur.c.id, cur.c.status == ds.QUEUED)
                .values(
                    status=ds.SENDING, lease_until=started + SEND_LEASE, attempts=d.c.attempts + 1, updated_at=started
                )
                .returning(d.c.id)
            )
        )
    out.claimed = len(claimed)
    if not claimed:
        return out
    with factory.begin() as s:
        rows = s.execute(
            select(
                Delivery.id,
                Delivery.enrollment_id,
                Delivery.campaign_id,
                Delivery.step_number,
                Subscriber.id.label("subscriber_id"),
                Subscriber.email,
                Subscriber.name,
                Subscriber.status.label("subscriber_status"),
                Subscriber.email_key,
                Campaign.status.label("campaign_status"),
                Campaign.current_version,
                Campaign.slug,
                Campaign.track_opens,
                Campaign.track_clicks,
            )
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            .join(Campaign, Campaign.id == Delivery.campaign_id)
            .where(is_in(s, Delivery.id, claimed))
            .order_by(Delivery.id)
        ).all()
        blocked = suppressed_keys(s, [r.email_key for r in rows])
        paused, gone, unsendable, ready = [], [], [], []
        to: dict[int, str] = {}  # delivery id -> the address as sent (an IDN domain in punycode)
        for r in rows:
            if r.campaign_status != "running":
                paused.append(r)
            elif r.subscriber_status != "active" or r.email_key in blocked:
                gone.append(r)
            elif (address := sendable_address(r.email)) is None:
                unsendable.append(r)
            else:
                to[r.id] = address
                ready.append(r)
        _release(s, paused)
        _cancel(s, gone, started, "subscriber left or is suppressed")
        # Imported before such addresses were refused at entry: no relay here can take them (campaigns.addresses).
        _cancel(s, unsendable, started, f"not sent: {UNSUPPORTED_REASON}")
        out.skipped = len(paused) + len(gone) + len(unsendable)
        if not ready:
            return out
        groups: dict[tuple[int, int, int], list] = {}
        for r in ready:
            groups.setdefault((r.campaign_id, r.current_version, r.step_number), []).append(r)
        for key, group in list(groups.items()):
            # Only rows still `sending` go out: an unsubscribe may have cancelled one since the claim.
            marked = set(
                s.scalars(
                    update(d)
                    .where(is_in(s, d.c.id, [r.id for r in group]), d.c.status == ds.SENDING)
                    .values(status=ds.SUBMITTING, version_number=key[1], provider=provider.name)
                    .returning(d.c.id)
                )
            )
            groups[key] = [r for r in group if r.id in marked]
            out.skipped += len(group) - len(groups[key])
            if not groups[key]:
                del groups[key]
        contents = {key: cache.get(s, *key) for key in groups}
    for key, group in groups.items():
        first = group[0]
        batch = Batch(
            content=contents[key],
            brand=brand,
            campaign=first.slug,
            step=first.step_number,
            track_opens=first.track_opens,
            track_clicks=first.track_clicks,
            recipients=tuple(
                Recipient(
                    r.id,
                    to[r.id],
                    r.name,
                    {
                        "first_name": first_name(r.name),
                        "unsubscribe_url": links.unsubscribe_url(r.subscriber_id, r.campaign_id),
                        "preferences_url": links.preferences_url(r.subscriber_id),
                    },
                )
                for r in group
            ),
        )
        try:
            results = send_with_retry(provider, batch, retry or RetryPolicy())
        except ProviderError as err:
            # Fatal (bad credentials): nothing left; give the batch back for after the fix, and stop this worker.
            with factory.begin() as s:
                s.execute(
                    update(Delivery)
                    .where(Delivery.id.in_([r.id for r in group]), Delivery.status == ds.SUBMITTING)
                    .values(status=ds.QUEUED, lease_until=None, last_error=str(err)[:500])
                )
            raise
        _record_outcome(record_results, factory, results, {r.id: r.enrollment_id for r in group}, now())
        lost = next((r.error for r in results if r.status == ds.UNKNOWN), None)
        if lost:  # the counts alone would not say why: the operator needs the reason (timeout, connection closed)
            from campaigns.redaction import mask_addresses

            log.warning("batch of %d: outcome unknown: %s", len(group), mask_addresses(lost))
        for res in results:
            setattr(out, res.status, getattr(out, res.status) + 1)
    log.info(
        "sent batch of %d: %d accepted, %d failed, %d unknown, %d skipped",
        out.claimed,
        out.accepted,
        out.failed,
        out.unknown,
        out.skipped,
    )
    return out


def _log_record_retry(state) -> None:
    log.warning(
        "database unavailable while recording a sent batch (%s); retrying", type(state.outcome.exception()).__name__
    )


# Once the provider has answered, the answer must be written down even if the database blinks (a restart, a
# failover): lost, the batch would turn `unknown` when its lease runs out. Keep trying well within that lease.
_record_outcome = Retrying(
    retry=retry_if_exception_type((OperationalError, InterfaceError)),
    stop=stop_after_delay(SEND_LEASE.total_seconds() / 3),
    wait=wait_exponential(multiplier=0.5, max=5),
    before_sleep=_log_record_retry,
    reraise=True,
)


def _release(s: Session, rows: list) -> None:
    """The campaign was paused after the batch was handed out: forget the deliveries, nothing was sent."""
    if rows:
        s.execute(delete(Delivery).where(Delivery.id.in_([r.id for r in rows]), Delivery.status == ds.SENDING))
        s.execute(
            update(Enrollment)
            .where(Enrollment.id.in_([r.enrollment_id for r in rows]), Enrollment.status == "sending")
            .values(status="active")
        )


def _cancel(s: Session, rows: list, at: datetime, reason: str) -> None:
    if rows:
        s.execute(
            update(Delivery)
            .where(Delivery.id.in_([r.id for r in rows]), Delivery.status == ds.SENDING)
            .values(status=ds.CANCELLED, updated_at=at, last_error=reason)
        )
        s.execute(update(Enrollment).where(Enrollment.id.in_([r.enrollment_id for r in rows])).values(status="stopped"))


def record_results(
    factory: sessionmaker[Session], results: list[SendResult], enrollment_of: dict[int, int], at: datetime
) -> None:
    """Store each outcome and move every settled enrollment on (accepted, failed and unknown all settle a step)."""
    t = Delivery.__table__
    # One statement per distinct outcome, not per row: a batch SendGrid accepted shares one message id.
    same: dict[tuple[str, str | None, str | None], list[int]] = {}
    for r in results:
        same.setdefault((r.status, r.message_id, (r.error or None) and r.error[:1000]), []).append(r.delivery_id)
    with factory.begin() as s:
        for (status, message_id, error), ids in same.items():
            s.execute(
                update(t)
                .where(is_in(s, t.c.id, ids), t.c.status.in_(ds.sources(status)))
                .values(
                    status=status,
                    provider_message_id=message_id,
                    last_error=error,
                    sent_at=at if status != ds.FAILED else None,
                    lease_until=None,
                    updated_at=at,
                )
            )
        advance_enrollments(s, [enrollment_of[r.delivery_id] for r in results], at)
