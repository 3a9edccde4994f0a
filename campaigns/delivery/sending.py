"""Send one batch of deliveries: claim them, fill in each recipient's values, hand the batch to the provider once,
record each outcome and move each enrollment on to its next step.

Per-recipient work here is only what must differ: the address, the greeting name, three signed links (unsubscribe,
preferences, and the one token every reader link of the email shares) and the day the next email comes (worked out
once per time zone in a batch: everyone in one zone gets the next email on the same day). The content was compiled
once per step. The crisis lines differ by country, not by person: a batch is split by the block its readers get
(rendered once per country), and each part goes out as one provider request with the block already in its content,
so a SendGrid request carries it once, not once per recipient.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from campaigns.addresses import UNSUPPORTED_REASON, sendable_address
from campaigns.authoring.content import Block, StepContent
from campaigns.authoring.crisis import crisis_lines, reader_country
from campaigns.authoring.names import greeting_name
from campaigns.authoring.render import crisis_block
from campaigns.brand import Brand
from campaigns.db.models import (
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    SendBatch,
    StepRow,
    Subscriber,
)
from campaigns.db.sql import is_in
from campaigns.delivery import state as ds
from campaigns.delivery.pacing import spaced_delay
from campaigns.delivery.progress import advance_enrollments
from campaigns.delivery.providers.base import (
    Batch,
    EmailProvider,
    Recipient,
    SendResult,
)
from campaigns.delivery.schedule import SendingWindow, next_due, window_of, zone
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


@dataclass(frozen=True)
class CachedStep:
    content: StepContent
    next_delay: int | None  # days from this step to the next one (None: this is the last)


class ContentCache:
    """Compiled step content by (campaign, version, step), with the delay of the step after it; versions never
    change, so entries never go stale."""

    def __init__(self, size: int = 256) -> None:
        self._items: dict[tuple[int, int, int], CachedStep] = {}
        self._variants: dict[tuple[tuple[int, int, int], Block], StepContent] = {}
        self._size = size

    def get(self, s: Session, campaign_id: int, version: int, step: int) -> StepContent:
        return self.step(s, campaign_id, version, step).content

    def step(self, s: Session, campaign_id: int, version: int, step: int) -> CachedStep:
        key = (campaign_id, version, step)
        if key not in self._items:
            rows = {
                row.number: row
                for row in s.execute(
                    select(
                        StepRow.number,
                        StepRow.subject,
                        StepRow.preheader,
                        StepRow.html,
                        StepRow.text,
                        StepRow.delay_days,
                    )
                    .join(CampaignVersion)
                    .where(
                        CampaignVersion.campaign_id == campaign_id,
                        CampaignVersion.number == version,
                        StepRow.number.in_((step, step + 1)),
                    )
                )
            }
            row = rows[step]
            following = rows.get(step + 1)
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = CachedStep(
                StepContent(row.subject, row.preheader, row.html, row.text),
                following.delay_days if following is not None else None,
            )
        return self._items[key]

    def variant(self, key: tuple[int, int, int], content: StepContent, block: Block) -> StepContent:
        """The step's content with one country's crisis lines in it, made once per (step, block)."""
        found = self._variants.get((key, block))
        if found is None:
            if len(self._variants) >= self._size * 4:
                self._variants.pop(next(iter(self._variants)))
            found = self._variants[(key, block)] = content.with_filled({"crisis": block})
        return found


_CACHE = ContentCache()
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def day_phrase(due: datetime, sent: datetime, tz: ZoneInfo) -> str:
    """When the next email comes, as the reader's calendar says it: the weekday within a week ("Wednesday"), with
    the date beyond ("Wednesday, December 16"). English names, whatever the server's locale."""
    local, today = due.astimezone(tz), sent.astimezone(tz).date()
    name = _DAYS[local.weekday()]
    return name if local.date() - today < timedelta(days=7) else f"{name}, {_MONTHS[local.month - 1]} {local.day}"


class _NextDays:
    """The next email's day per (time zone, step), worked out once per batch: from the reader's own schedule (their
    zone, the campaign's sending window and the next step's delay), as the enrollment will be moved on."""

    def __init__(self, sent: datetime) -> None:
        self.sent = sent
        self._days: dict[tuple[str, int, int, int, int], str] = {}

    def get(self, tz: str, delay: int, window: SendingWindow, key: tuple[int, int, int]) -> str:
        found = self._days.get((tz, delay, *key))
        if found is None:
            zone_info = zone(tz)
            found = day_phrase(next_due(self.sent, delay, zone_info, window), self.sent, zone_info)
            self._days[(tz, delay, *key)] = found
        return found


def warm_up() -> None:
    """Do once when a sending process starts what its first batch would otherwise pay for (about 60 ms of CPU,
    measured): the ORM's mappers configured, the modules imported on first use, the crisis lines and time zone
    tables read, and every country's crisis block rendered (Jinja compiles its templates on first use)."""
    from campaigns.delivery import retrying  # noqa: F401 (imported on first use below)
    from campaigns.delivery.providers import factory  # noqa: F401

    configure_mappers()
    crisis_block(None)
    for country in crisis_lines().by_country:
        crisis_block(country)


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
        # By primary key with the status tested on each row: no index covers the status (HOT updates).
        got = s.execute(
            update(d)
            .where(is_in(s, d.c.id, list(delivery_ids)), d.c.status == ds.QUEUED)
            .values(status=ds.SENDING, attempts=d.c.attempts + 1, updated_at=started)
            .returning(d.c.id, d.c.batch_id)
        ).all()
        batches = sorted({b for _, b in got if b is not None})
        if batches:  # the claim's lease, on the batch: taken back by the tick if this worker dies before the end
            s.execute(
                update(SendBatch)
                .where(SendBatch.id.in_(batches))
                .values(status=ds.BATCH_SENDING, lease_until=started + SEND_LEASE, updated_at=started)
            )
    claimed = sorted(i for i, _ in got)
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
                Subscriber.first_name,
                Subscriber.timezone,
                Subscriber.country,
                Subscriber.status.label("subscriber_status"),
                Subscriber.email_key,
                Campaign.status.label("campaign_status"),
                Campaign.current_version,
                Campaign.slug,
                Campaign.track_opens,
                Campaign.track_clicks,
                Delivery.message_token,
                Enrollment.pace,
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
            settle_batches(s, batches, started)
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
        steps = {key: cache.step(s, *key) for key in groups}
        # The sending window once per campaign, not once per row (it is a JSON column).
        windows = {
            c.id: window_of(c) for c in s.scalars(select(Campaign).where(Campaign.id.in_({k[0] for k in groups})))
        }
    parts = [(key, block, rows) for key, group in groups.items() for block, rows in _by_crisis_block(group).items()]
    next_days = _NextDays(started)
    sent: list[SendResult] = []
    enrollment_of = {r.id: r.enrollment_id for _, _, group in parts for r in group}
    try:
        for i, (key, block, group) in enumerate(parts):
            following = steps[key].next_delay
            content = cache.variant(key, steps[key].content, block)
            batch = _batch(group, to, content, brand, links, following, windows[key[0]], key, next_days)
            try:
                results = send_with_retry(provider, batch, retry or RetryPolicy())
            except ProviderError as err:
                # Fatal (bad credentials): give this part and every part not yet sent back for after the fix (left
                # `submitting`, they would turn `unknown` and never go), and stop this worker.
                with factory.begin() as s:
                    s.execute(
                        update(Delivery)
                        .where(
                            Delivery.id.in_([r.id for _, _, rest in parts[i:] for r in rest]),
                            Delivery.status == ds.SUBMITTING,
                        )
                        .values(status=ds.QUEUED, last_error=str(err)[:500])
                    )
                    # Handed out again by the next tick (after the fix, they fail the same way until then).
                    s.execute(
                        update(SendBatch)
                        .where(SendBatch.id.in_(batches))
                        .values(status=ds.BATCH_QUEUED, lease_until=None, updated_at=now())
                    )
                raise
            sent += results
            lost = next((r.error for r in results if r.status == ds.UNKNOWN), None)
            if lost:  # the counts alone would not say why: the operator needs the reason (timeout, connection closed)
                from campaigns.redaction import mask_addresses

                log.warning("batch of %d: outcome unknown: %s", len(group), mask_addresses(lost))
    finally:
        # Every answer, once, in one transaction: also when a later part failed (the earlier ones did go out).
        if sent:
            _record_outcome(record_results, factory, sent, enrollment_of, now(), batches)
    for res in sent:
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


def _batch(
    group: list,
    to: dict[int, str],
    content: StepContent,
    brand: Brand,
    links: Links,
    following: int | None,
    window: SendingWindow,
    key: tuple[int, int, int],
    next_days: _NextDays,
) -> Batch:
    """One part of a batch as the provider gets it: the content once, each recipient's own values."""
    first = group[0]
    # The one signed token of an email's reader links (pace, "was this useful?", the call to action), where the
    # step has any: the welcome and lessons have pacing links, the last email its button.
    reader = "reader_url" in content.slots
    return Batch(
        content=content,
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
                _values(
                    r,
                    links,
                    next_days.get(r.timezone, spaced_delay(r.pace, following), window, key) if following else None,
                    reader,
                ),
                message_token=r.message_token,
            )
            for r in group
        ),
    )


def _by_crisis_block(rows: list) -> dict[Block, list]:
    """Rows by the crisis lines their readers get: their country field, else their time zone's country."""
    parts: dict[Block, list] = {}
    for r in rows:
        parts.setdefault(crisis_block(reader_country(r.country, r.timezone)), []).append(r)
    return parts


def _values(r: Row, links: Links, next_day: str | None, reader: bool = False) -> dict[str, str | Block]:
    """One recipient's slot values (the crisis lines are in the content of their part already)."""
    values: dict[str, str | Block] = {
        "first_name": greeting_name(r.name, r.first_name),
        "unsubscribe_url": links.unsubscribe_url(r.subscriber_id, r.campaign_id),
        "preferences_url": links.preferences_url(r.subscriber_id),
    }
    if reader:
        values["reader_url"] = links.reader_url(r.subscriber_id, r.campaign_id, r.step_number)
    if next_day is not None:
        values["next_day"] = next_day
    return values


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
    factory: sessionmaker[Session],
    results: list[SendResult],
    enrollment_of: dict[int, int],
    at: datetime,
    batches: Sequence[int] = (),
) -> None:
    """Store each outcome and move every settled enrollment on (accepted, failed and unknown all settle a step);
    the `batches` they came in are done once nothing in them is left to send."""
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
        settle_batches(s, batches, at)


def settle_batches(s: Session, batches: Sequence[int], at: datetime) -> None:
    """Mark these batches done if none of their deliveries is still queued, claimed or in submission."""
    if not batches:
        return
    t = SendBatch.__table__
    pending = (
        select(Delivery.id)
        .where(Delivery.batch_id == t.c.id, Delivery.status.in_((ds.QUEUED, ds.SENDING, ds.SUBMITTING)))
        .exists()
    )
    s.execute(
        update(t).where(t.c.id.in_(batches), ~pending).values(status=ds.BATCH_DONE, lease_until=None, updated_at=at)
    )
