"""Send one batch of deliveries: claim them, fill in each recipient's values, hand the batch to the provider once,
record each outcome and move each enrollment on to its next step.

Per-recipient work here is only what must differ (address, name, links); the content was compiled once per step.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CTE, Column, Table, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from campaigns import delivery_state as ds
from campaigns.brand import Brand
from campaigns.content import StepContent
from campaigns.db.models import Campaign, CampaignVersion, Delivery, Enrollment, StepRow, Subscriber
from campaigns.db.sql import is_in
from campaigns.drip import SEND_LEASE
from campaigns.errors import ProviderError
from campaigns.providers.base import Batch, EmailProvider, Recipient, SendResult
from campaigns.schedule import next_due, window_of, zone
from campaigns.suppression import chunked, suppressed_keys
from campaigns.tokens import Links

log = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    claimed: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0   # cancelled (subscriber left) or released (campaign paused) before sending


class ContentCache:
    """Compiled step content by (campaign, version, step); versions never change, so entries never go stale."""

    def __init__(self, size: int = 256) -> None:
        self._items: dict[tuple[int, int, int], StepContent] = {}
        self._size = size

    def get(self, s: Session, campaign_id: int, version: int, step: int) -> StepContent:
        key = (campaign_id, version, step)
        if key not in self._items:
            row = s.execute(select(StepRow).join(CampaignVersion).where(
                CampaignVersion.campaign_id == campaign_id, CampaignVersion.number == version,
                StepRow.number == step)).scalar_one()
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = StepContent(row.subject, row.preheader, row.html, row.text)
        return self._items[key]


_CACHE = ContentCache()


def first_name(name: str | None) -> str:
    return name.split()[0] if name and name.split() else "there"


def send_deliveries(factory: sessionmaker[Session], provider: EmailProvider, links: Links, brand: Brand,
                    delivery_ids: Iterable[int], now: Callable[[], datetime], *,
                    retry=None, cache: ContentCache = _CACHE) -> BatchOutcome:
    """Send the given deliveries (one campaign step, up to 1000); a delivery not `queued` is left alone."""
    from campaigns.retrying import RetryPolicy, send_with_retry

    out = BatchOutcome()
    started = now()
    d = Delivery.__table__
    with factory.begin() as s:
        cur = _current(s, d, list(delivery_ids), d.c.status)
        claimed = sorted(s.scalars(update(d).where(d.c.id == cur.c.id, cur.c.status == ds.QUEUED)
                                   .values(status=ds.SENDING, lease_until=started + SEND_LEASE,
                                           attempts=d.c.attempts + 1, updated_at=started)
                                   .returning(d.c.id)))
    out.claimed = len(claimed)
    if not claimed:
        return out
    with factory.begin() as s:
        rows = s.execute(
            select(Delivery.id, Delivery.enrollment_id, Delivery.campaign_id, Delivery.step_number,
                   Subscriber.id.label("subscriber_id"), Subscriber.email, Subscriber.name,
                   Subscriber.status.label("subscriber_status"), Subscriber.email_key,
                   Campaign.status.label("campaign_status"), Campaign.current_version, Campaign.slug,
                   Campaign.track_opens, Campaign.track_clicks)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            .join(Campaign, Campaign.id == Delivery.campaign_id)
            .where(is_in(s, Delivery.id, claimed)).order_by(Delivery.id)).all()
        blocked = suppressed_keys(s, [r.email_key for r in rows])
        paused, gone, ready = [], [], []
        for r in rows:
            if r.campaign_status != "running":
                paused.append(r)
            elif r.subscriber_status != "active" or r.email_key in blocked:
                gone.append(r)
            else:
                ready.append(r)
        _release(s, paused)
        _cancel(s, gone, started)
        out.skipped = len(paused) + len(gone)
        if not ready:
            return out
        groups: dict[tuple[int, int, int], list] = {}
        for r in ready:
            groups.setdefault((r.campaign_id, r.current_version, r.step_number), []).append(r)
        for key, group in list(groups.items()):
            # Only rows still `sending` go out: an unsubscribe may have cancelled one since the claim.
            marked = set(s.scalars(update(d).where(is_in(s, d.c.id, [r.id for r in group]), d.c.status == ds.SENDING)
                                   .values(status=ds.SUBMITTING, version_number=key[1], provider=provider.name)
                                   .returning(d.c.id)))
            groups[key] = [r for r in group if r.id in marked]
            out.skipped += len(group) - len(groups[key])
            if not groups[key]:
                del groups[key]
        contents = {key: cache.get(s, *key) for key in groups}
    for key, group in groups.items():
        first = group[0]
        batch = Batch(content=contents[key], brand=brand, campaign=first.slug, step=first.step_number,
                      track_opens=first.track_opens, track_clicks=first.track_clicks,
                      recipients=tuple(Recipient(r.id, r.email, r.name, {
                          "first_name": first_name(r.name),
                          "unsubscribe_url": links.unsubscribe_url(r.subscriber_id, r.campaign_id),
                          "preferences_url": links.preferences_url(r.subscriber_id)}) for r in group))
        try:
            results = send_with_retry(provider, batch, retry or RetryPolicy())
        except ProviderError as err:
            # Fatal (bad credentials): nothing left; give the batch back for after the fix, and stop this worker.
            with factory.begin() as s:
                s.execute(update(Delivery).where(Delivery.id.in_([r.id for r in group]),
                                                 Delivery.status == ds.SUBMITTING)
                          .values(status=ds.QUEUED, lease_until=None, last_error=str(err)[:500]))
            raise
        _record_outcome(record_results, factory, results, {r.id: r.enrollment_id for r in group}, now())
        lost = next((r.error for r in results if r.status == ds.UNKNOWN), None)
        if lost:   # the counts alone would not say why: the operator needs the reason (timeout, connection closed)
            from campaigns.events import mask_addresses

            log.warning("batch of %d: outcome unknown: %s", len(group), mask_addresses(lost))
        for res in results:
            setattr(out, res.status, getattr(out, res.status) + 1)
    log.info("sent batch of %d: %d accepted, %d failed, %d unknown, %d skipped", out.claimed, out.accepted,
             out.failed, out.unknown, out.skipped)
    return out


def _log_record_retry(state) -> None:
    log.warning("database unavailable while recording a sent batch (%s); retrying",
                type(state.outcome.exception()).__name__)


# Once the provider has answered, the answer must be written down even if the database blinks (a restart, a
# failover): lost, the batch would turn `unknown` when its lease runs out. Keep trying well within that lease.
_record_outcome = Retrying(retry=retry_if_exception_type((OperationalError, InterfaceError)),
                           stop=stop_after_delay(SEND_LEASE.total_seconds() / 3),
                           wait=wait_exponential(multiplier=0.5, max=5), before_sleep=_log_record_retry, reraise=True)


def _release(s: Session, rows: list) -> None:
    """The campaign was paused after the batch was handed out: forget the deliveries, nothing was sent."""
    if rows:
        s.execute(delete(Delivery).where(Delivery.id.in_([r.id for r in rows]), Delivery.status == ds.SENDING))
        s.execute(update(Enrollment).where(Enrollment.id.in_([r.enrollment_id for r in rows]),
                                           Enrollment.status == "sending").values(status="active"))


def _cancel(s: Session, rows: list, at: datetime) -> None:
    if rows:
        s.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]), Delivery.status == ds.SENDING)
                  .values(status=ds.CANCELLED, updated_at=at, last_error="subscriber left or is suppressed"))
        s.execute(update(Enrollment).where(Enrollment.id.in_([r.enrollment_id for r in rows]))
                  .values(status="stopped"))


def record_results(factory: sessionmaker[Session], results: list[SendResult], enrollment_of: dict[int, int],
                   at: datetime) -> None:
    """Store each outcome and move every settled enrollment on (accepted, failed and unknown all settle a step)."""
    t = Delivery.__table__
    # One statement per distinct outcome, not per row: a batch SendGrid accepted shares one message id.
    same: dict[tuple[str, str | None, str | None], list[int]] = {}
    for r in results:
        same.setdefault((r.status, r.message_id, (r.error or None) and r.error[:1000]), []).append(r.delivery_id)
    with factory.begin() as s:
        for (status, message_id, error), ids in same.items():
            s.execute(update(t).where(is_in(s, t.c.id, ids), t.c.status.in_(ds.sources(status)))
                      .values(status=status, provider_message_id=message_id, last_error=error,
                              sent_at=at if status != ds.FAILED else None, lease_until=None, updated_at=at))
        advance_enrollments(s, [enrollment_of[r.delivery_id] for r in results], at)


def advance_enrollments(s: Session, enrollment_ids: list[int], at: datetime) -> None:
    """Move each enrollment past the step it was sending; idempotent (only moves those still `sending`)."""
    if not enrollment_ids:
        return
    rows = []
    for part in chunked(list(dict.fromkeys(enrollment_ids))):
        # By id alone, `sending` tested below (see _current): while a big send is out, most enrollments are.
        rows += s.execute(
            select(Enrollment.id, Enrollment.next_step, Enrollment.status, Subscriber.timezone, Enrollment.campaign_id)
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id).where(is_in(s, Enrollment.id, part))).all()
    rows = [r for r in rows if r.status == "sending"]
    campaigns = {c.id: c for c in s.scalars(select(Campaign).where(Campaign.id.in_({r.campaign_id for r in rows})))}
    delays = {c.id: list(s.scalars(select(StepRow.delay_days).join(CampaignVersion).where(
        CampaignVersion.campaign_id == c.id, CampaignVersion.number == c.current_version).order_by(StepRow.number)))
        for c in campaigns.values()}
    # Everyone at the same step in the same zone moves to the same time: one computation and one UPDATE for them.
    moves: dict[tuple[int, datetime | None, str], list[int]] = {}
    due_at: dict[tuple[int, str, int], datetime] = {}
    for eid, step, _, tz, cid in rows:
        steps = delays[cid]
        if step >= len(steps):
            moves.setdefault((step, None, "completed"), []).append(eid)
            continue
        if (cid, tz, step) not in due_at:
            due_at[cid, tz, step] = next_due(at, steps[step], zone(tz), window_of(campaigns[cid]))
        moves.setdefault((step, due_at[cid, tz, step], "active"), []).append(eid)
    t = Enrollment.__table__
    for (step, due, status), ids in moves.items():
        for part in chunked(ids):
            cur = _current(s, t, part, t.c.status, t.c.next_step)
            s.execute(update(t).where(t.c.id == cur.c.id, cur.c.status == "sending", cur.c.next_step == step)
                      .values(next_step=step + 1, next_due_at=due, status=status, last_sent_at=at))


def _current(s: Session, table: Table, ids: list[int], *columns: Column) -> CTE:
    """These rows' current values, locked (FOR UPDATE on PostgreSQL), for an UPDATE to test instead of the table.

    Given `table.status = 'x'` next to the ids, PostgreSQL picks the status index whenever its statistics are
    behind (a new step's million rows still counted as rare, most enrollments `sending` during a big send) and walks
    every such row for each batch; a test on this CTE keeps it on the primary key, and is as safe."""
    return select(table.c.id, *columns).where(is_in(s, table.c.id, ids)).with_for_update().cte("cur")
