"""The scheduler tick: find due enrollments, create their deliveries once, and hand out batches to send; and before
a campaign starts, prepare its first emails in batches held until they fall due, so the start only hands them out.

The database is the source of truth and the broker only carries work: every tick finds everything that is due or whose
lease ran out, so a lost task, a restarted broker or a dead worker delays an email but never loses it. A delivery is
unique per (enrollment, step), so creating it twice is a no-op, never a second email.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from campaigns.audit import audit
from campaigns.db.models import Campaign, Delivery, Enrollment, SendBatch, Subscriber, Suppression
from campaigns.db.sql import chunked, insert_ignore_many, is_in, rows_changed, update_each
from campaigns.delivery import state as ds
from campaigns.delivery.message import new_message_token
from campaigns.delivery.progress import advance_enrollments
from campaigns.delivery.schedule import first_due, window_of, zone

log = logging.getLogger(__name__)

PAGE = 5000  # rows per transaction when walking enrollments and deliveries


@dataclass
class TickReport:
    started: int = 0  # campaigns that moved from scheduled to running
    scheduled: int = 0  # new enrollments given their first due time
    prepared: int = 0  # first emails of scheduled campaigns created ahead, held until they fall due
    stopped: int = 0  # enrollments stopped because the subscriber left or is suppressed
    created: int = 0  # deliveries created
    requeued: int = 0  # claims taken back from dead workers
    unknown: int = 0  # submissions whose outcome is unknown (lease ran out mid-request)
    batches: int = 0
    queued: int = 0  # deliveries handed out in batches
    capped: dict[int, int] = field(default_factory=dict)  # campaign id -> due enrollments held back by the cap
    completed: list[str] = field(default_factory=list)  # campaigns that finished (nobody left to mail)


def tick(
    factory: sessionmaker[Session],
    now: datetime,
    emit: Callable[[list[int]], None],
    *,
    batch_size: int = 1000,
    page: int = PAGE,
    smallest: int | None = None,
) -> TickReport:
    """One pass of the scheduler; `emit` receives each batch of delivery ids (at most `batch_size`) to send.
    `smallest`: the first batches' size and the last ones' floor (default `smallest_batch`; `batch_size` for
    batches all of one size)."""
    report = TickReport()
    with factory.begin() as s:
        report.started = _start_campaigns(s, now)
        report.stopped = _stop_departed(s)
        report.requeued, report.unknown = _expire_leases(s, now)
        report.completed = complete_finished(s, now)
    report.scheduled = _schedule_new(factory, now, page)
    hand_out = _HandOut(factory, now, emit, batch_size, report, smallest or smallest_batch(batch_size))
    # First what waits already: prepared batches now due, requeued claims, batches whose queue lease ran out.
    hand_out()
    report.created = _create_due(factory, now, page, report, hand_out)
    # Last, as it is for later: a large campaign's preparation does not hold up what is due now.
    report.prepared = prepare_first_emails(factory, now, batch_size=batch_size, page=page)
    if report.created or report.prepared or report.batches or report.requeued or report.unknown or report.completed:
        log.info("tick: %s", report)
    return report


def sendable_now(now: datetime) -> list[ColumnElement[bool]]:
    """Which enrollments (joined with their subscriber) the tick makes a delivery for now, within a running
    campaign's daily cap; a subscriber who paused their emails waits. The queue's health counts by the same rule."""
    return [
        Enrollment.status == "active",
        Enrollment.next_due_at <= now,
        Subscriber.status == "active",
        or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now),
    ]


def cap_day_start(now: datetime) -> datetime:
    """A daily cap counts the deliveries created since this instant: midnight UTC."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _start_campaigns(s: Session, now: datetime) -> int:
    return rows_changed(
        s, update(Campaign).where(Campaign.status == "scheduled", Campaign.start_at <= now).values(status="running")
    )


def _stop_departed(s: Session) -> int:
    """Stop the enrollments of anyone who left, bounced, complained or is suppressed, before anything is created."""
    gone = select(Subscriber.id).where(
        or_(Subscriber.status.not_in(("active",)), Subscriber.email_key.in_(select(Suppression.email_key)))
    )
    stopped = rows_changed(
        s,
        update(Enrollment)
        .where(Enrollment.status.in_(("active", "sending")), Enrollment.subscriber_id.in_(gone))
        .values(status="stopped"),
    )
    if stopped:
        s.execute(
            update(Delivery)
            .where(
                Delivery.status == ds.QUEUED,
                Delivery.enrollment_id.in_(select(Enrollment.id).where(Enrollment.status == "stopped")),
            )
            .values(status=ds.CANCELLED)
        )
    return stopped


def _expire_leases(s: Session, now: datetime) -> tuple[int, int]:
    """Take back the batches whose lease ran out: a claim that never reached the provider goes back to `queued`,
    one in submission becomes `unknown`; the batch is handed out again (by _HandOut, in this tick)."""
    t = SendBatch.__table__
    expired = list(
        s.scalars(
            select(t.c.id)
            .where(t.c.status.in_((ds.BATCH_QUEUED, ds.BATCH_SENDING)), t.c.lease_until < now)
            .with_for_update(skip_locked=True)
        )
    )
    if not expired:
        return 0, 0
    requeued, lost = 0, 0
    for ids in chunked(expired):
        requeued += rows_changed(
            s,
            update(Delivery)
            .where(is_in(s, Delivery.batch_id, ids), Delivery.status == ds.SENDING)
            .values(status=ds.QUEUED, updated_at=now),
        )
        # From `submitting` we cannot know whether the email left: settle it as unknown and move the enrollment on.
        gone = s.execute(
            update(Delivery)
            .where(is_in(s, Delivery.batch_id, ids), Delivery.status == ds.SUBMITTING)
            .values(status=ds.UNKNOWN, last_error="lease expired during submission", updated_at=now)
            .returning(Delivery.enrollment_id)
        ).all()
        advance_enrollments(s, [e for (e,) in gone], now)
        lost += len(gone)
        s.execute(
            update(t).where(is_in(s, t.c.id, ids)).values(status=ds.BATCH_QUEUED, lease_until=None, updated_at=now)
        )
    if lost:
        log.warning("tick: %d deliveries left in submission by a dead worker are now 'unknown'", lost)
    return requeued, lost


def plan_first_emails(s: Session, campaign: Campaign) -> int:
    """Give a scheduled campaign's new enrollments (next_due_at NULL) their first due time, in the subscriber's own
    time zone; the number planned. Called when the campaign is scheduled, so this work is done long before its
    start and not in its send window; the tick calls it again for anyone enrolled since.

    Everyone enrolled before the start, in one zone, gets the same time: one UPDATE per zone, not one per row.
    Those enrolled after the start go from their own enrolment time, row by row (a few, as they come in)."""
    start = campaign.start_at
    if start is None:
        return 0
    window = window_of(campaign)
    unplanned = (
        Enrollment.campaign_id == campaign.id,
        Enrollment.status == "active",
        Enrollment.next_due_at.is_(None),
    )
    zones = s.scalars(
        select(Subscriber.timezone)
        .distinct()
        .join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
        .where(*unplanned, Enrollment.enrolled_at <= start)
    ).all()
    planned = 0
    for tz in zones:
        planned += rows_changed(
            s,
            update(Enrollment)
            .where(
                *unplanned,
                Enrollment.enrolled_at <= start,
                Enrollment.subscriber_id.in_(select(Subscriber.id).where(Subscriber.timezone == tz)),
            )
            .values(next_due_at=first_due(start, start, zone(tz), window)),
        )
    late = s.execute(
        select(Enrollment.id, Enrollment.enrolled_at, Subscriber.timezone)
        .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
        .where(*unplanned, Enrollment.enrolled_at > start)
    ).all()
    update_each(
        s, Enrollment.__table__.c.next_due_at, {eid: first_due(start, at, zone(tz), window) for eid, at, tz in late}
    )
    return planned + len(late)


def _schedule_new(factory: sessionmaker[Session], now: datetime, page: int) -> int:
    """Plan the first emails of anyone enrolled in a scheduled or running campaign since it was scheduled."""
    with factory() as s:
        waiting = s.scalars(
            select(Enrollment.campaign_id)
            .distinct()
            .where(Enrollment.status == "active", Enrollment.next_due_at.is_(None))
        ).all()
    total = 0
    for campaign_id in waiting:
        with factory.begin() as s:
            campaign = s.get(Campaign, campaign_id)
            if campaign is not None and campaign.status in ("scheduled", "running"):
                total += plan_first_emails(s, campaign)
    return total


def _create_due(
    factory: sessionmaker[Session], now: datetime, page: int, report: TickReport, hand_out: _HandOut
) -> int:
    """Create one delivery per due enrollment (a no-op if it exists), within each campaign's daily cap, and hand
    out each page as soon as it is committed, so workers start on it while the next is being created."""
    created = 0
    with factory() as s:
        campaigns = s.execute(select(Campaign.id, Campaign.daily_cap).where(Campaign.status == "running")).all()
    day_start = cap_day_start(now)
    # Pages start at two small batches and double: a worker starts within milliseconds of the tick, while the tick
    # makes the larger pages after it.
    size = min(page, 2 * hand_out.smallest)
    for campaign_id, cap in campaigns:
        while True:
            with factory.begin() as s:
                room, size = size, min(page, 2 * size)
                if cap is not None:
                    used = s.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(Delivery.campaign_id == campaign_id, Delivery.created_at >= day_start)
                    )
                    room = min(room, max(0, cap - (used or 0)))
                due = (
                    select(Enrollment.id, Enrollment.next_step, Enrollment.next_due_at)
                    .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
                    .where(Enrollment.campaign_id == campaign_id, *sendable_now(now))
                    # Due time alone, which the (status, next_due_at) index gives in order, so a page reads a
                    # page; with `id` after it, everyone due at the same moment (a campaign's start) would be read
                    # and sorted for every page.
                    .order_by(Enrollment.next_due_at)
                )
                if room == 0:
                    held = s.scalar(select(func.count()).select_from(due.subquery()))
                    if held:
                        report.capped[campaign_id] = held
                    break
                rows = s.execute(due.limit(room)).all()
                if not rows:
                    break
                # Fewer due than asked: the last page of this campaign, whose batches shrink (see batch_sizes).
                sizes = partial(
                    batch_sizes, batch_size=hand_out.batch_size, last=len(rows) < room, smallest=hand_out.smallest
                )
                new, made = _create_page(s, campaign_id, rows, sizes, now, held=False)
                created += made
            hand_out.emit_batches(new)
    return created


def prepare_first_emails(factory: sessionmaker[Session], now: datetime, *, batch_size: int, page: int = PAGE) -> int:
    """Create the planned emails of scheduled campaigns ahead of their start, in batches held until they fall due;
    the number created. At the start the tick only hands them out, instead of creating them while workers send.

    A campaign with a daily cap is left to the tick, which counts the cap as it creates. Each page locks its
    campaign row, as `release_prepared` does, so a pause or a new start and a tick preparing cannot interleave; a
    second tick finding it locked leaves the campaign to the first (preparing a million takes longer than the
    30 s between ticks), rather than doing the same work beside it."""
    preparable = (Campaign.status == "scheduled", Campaign.daily_cap.is_(None), Campaign.start_at.is_not(None))
    with factory() as s:
        waiting = s.scalars(select(Campaign.id).where(*preparable)).all()
    prepared = 0
    sizes = partial(batch_sizes, batch_size=batch_size, smallest=smallest_batch(batch_size))
    for campaign_id in waiting:
        last = False
        while not last:
            with factory.begin() as s:
                still = s.scalar(
                    select(Campaign.id).where(Campaign.id == campaign_id, *preparable).with_for_update(skip_locked=True)
                )
                if still is None:
                    break
                rows = s.execute(
                    select(Enrollment.id, Enrollment.next_step, Enrollment.next_due_at)
                    .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
                    .where(
                        Enrollment.campaign_id == campaign_id,
                        Enrollment.status == "active",
                        Enrollment.next_due_at.is_not(None),
                        Subscriber.status == "active",
                        # Paused past the due time: the tick creates it when the pause ends, as for anyone else.
                        or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= Enrollment.next_due_at),
                    )
                    .order_by(Enrollment.next_due_at)
                    .limit(page + 1)  # one more than a page: whether this page is the last
                ).all()
                if not rows:
                    break
                last = len(rows) <= page
                _, made = _create_page(s, campaign_id, rows[:page], partial(sizes, last=last), now, held=True)
                prepared += made
                if not made:  # a racing tick made this page: it goes on with the rest
                    break
    return prepared


def release_prepared(s: Session, campaign_id: int) -> int:
    """Forget a campaign's prepared emails that are still held (the campaign is paused, archived, given a new start
    or window): their enrollments wait again, and the tick plans and prepares them anew. The number released."""
    s.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())  # see prepare_first_emails
    held = select(SendBatch.id).where(SendBatch.campaign_id == campaign_id, SendBatch.status == ds.BATCH_HELD)
    gone = s.scalars(
        delete(Delivery)
        .where(Delivery.batch_id.in_(held), Delivery.status == ds.QUEUED)
        .returning(Delivery.enrollment_id)
    ).all()
    for ids in chunked(gone):
        s.execute(
            update(Enrollment)
            .where(is_in(s, Enrollment.id, ids), Enrollment.status == "sending")
            .values(status="active")
        )
    s.execute(delete(SendBatch).where(SendBatch.campaign_id == campaign_id, SendBatch.status == ds.BATCH_HELD))
    return len(gone)


def _create_page(
    s: Session,
    campaign_id: int,
    rows: Sequence[Row],
    sizes: Callable[[int], list[int]],
    now: datetime,
    *,
    held: bool,
) -> tuple[list[tuple], int]:
    """One delivery per enrollment row (id, step, due) in new send batches, each a no-op if it exists; the
    enrollments made move to `sending`. ((delivery id, batch id) of those made, how many enrollments moved)."""
    # In enrollment order: two racing ticks may read the same due rows in different orders (ties in due time, pages
    # of different sizes), and inserting the same keys in different orders deadlocks on the unique index.
    rows = sorted(rows, key=lambda r: r[0])
    # The batches first: leased for the queue (this tick hands them out itself, with no second write to lease
    # them, and a racing tick leaves them alone), or held until their due time.
    batch_of = _new_batches(s, campaign_id, rows, sizes, now, held=held)
    new = insert_ignore_many(
        s,
        Delivery.__table__,
        ("enrollment_id", "step_number"),
        [
            {
                "enrollment_id": eid,
                "campaign_id": campaign_id,
                "batch_id": batch_of[eid],
                "step_number": step,
                "due_at": due_at,
                "status": ds.QUEUED,
                "attempts": 0,
                "created_at": now,
                # Random, and decided here once: every attempt at this email carries the same id.
                "message_token": new_message_token(),
            }
            for eid, step, due_at in rows
        ],
        returning=("id", "batch_id"),
    )
    # A racing tick made some (or all) of them first: its batches hold those, these stay empty.
    empty = set(batch_of.values()) - {b for _, b in new}
    if empty:
        s.execute(delete(SendBatch).where(SendBatch.id.in_(empty)))
    # Only enrollments still active at the step read: a racing tick may have created, sent and moved some on
    # since, and marking those `sending` would stall them at a step with no delivery for good. Those this tick
    # created are the ones it moves (a racing tick's are `sending` already).
    by_step: dict[int, list[int]] = {}
    for eid, step, _ in rows:
        by_step.setdefault(step, []).append(eid)
    moved = 0
    for step, eids in by_step.items():
        moved += rows_changed(
            s,
            update(Enrollment.__table__)
            .where(is_in(s, Enrollment.id, eids), Enrollment.next_step == step, Enrollment.status == "active")
            .values(status="sending"),
        )
    return new, moved


def smallest_batch(batch_size: int) -> int:
    """The size of the first batches and the floor of the last ones: a quarter of a full batch. Smaller would start
    sooner still, but each batch costs about 10 ms of CPU whatever its size (measured: three transactions, one
    request), which smaller batches would spend more often."""
    return max(1, batch_size // 4)


def batch_sizes(n: int, batch_size: int, *, last: bool, smallest: int | None = None) -> list[int]:
    """How `n` deliveries of one step are cut into batches of at most `batch_size`.

    A page with more to come: in equal batches, at least two, so two workers share even a small first page. The
    last page: each batch half of what is left (within a full batch and `smallest_batch`), so the queue ends in
    small batches and the workers finish together, instead of one sending a full batch while the others idle."""
    if n <= 0:
        return []
    if not last:
        count = max(min(2, n), -(-n // batch_size))
        return [n // count + (1 if i < n % count else 0) for i in range(count)]
    sizes, left = [], n
    while left:
        size = min(left, batch_size, max(smallest or smallest_batch(batch_size), -(-left // 2)))
        sizes.append(size)
        left -= size
    return sizes


def _new_batches(
    s: Session,
    campaign_id: int,
    rows: Sequence[Row],
    sizes: Callable[[int], list[int]],
    now: datetime,
    *,
    held: bool,
) -> dict[int, int]:
    """Send batches for one page of enrollments (id, step, due): of one step each, cut by `sizes` (see
    `batch_sizes`), leased for the queue, or `held` until their due time (one due time each); {enrollment id:
    batch id}."""
    by_key: dict[tuple[int, datetime | None], list[int]] = {}
    for eid, step, due in rows:
        by_key.setdefault((step, due if held else None), []).append(eid)
    parts = []
    for key, eids in by_key.items():
        at = 0
        for size in sizes(len(eids)):
            parts.append((key, eids[at : at + size]))
            at += size
    t = SendBatch.__table__
    ids = s.scalars(
        insert(t).returning(t.c.id, sort_by_parameter_order=True),
        [
            {
                "campaign_id": campaign_id,
                "step_number": step,
                "status": ds.BATCH_HELD if held else ds.BATCH_QUEUED,
                "lease_until": due if held else now + ds.QUEUE_LEASE,
                "created_at": now,
            }
            for (step, due), _ in parts
        ],
    ).all()
    return {eid: batch_id for batch_id, (_, eids) in zip(ids, parts, strict=True) for eid in eids}


@dataclass
class _HandOut:
    """Emits leased deliveries in batches of one campaign step each."""

    factory: sessionmaker[Session]
    now: datetime
    emit: Callable[[list[int]], None]
    batch_size: int
    report: TickReport
    smallest: int  # the first batches' size, the last ones' floor

    def __call__(self) -> None:
        """Lease and emit every queued batch without a live lease, and every held one now due of a running
        campaign, walking by id cursor."""
        t = SendBatch.__table__
        running = select(Campaign.id).where(Campaign.status == "running")
        after = 0
        while True:
            with self.factory.begin() as s:
                ids = list(
                    s.scalars(
                        select(t.c.id)
                        .where(
                            t.c.id > after,
                            or_(
                                and_(
                                    t.c.status == ds.BATCH_QUEUED,
                                    or_(t.c.lease_until.is_(None), t.c.lease_until < self.now),
                                ),
                                and_(
                                    t.c.status == ds.BATCH_HELD,
                                    t.c.lease_until <= self.now,
                                    t.c.campaign_id.in_(running),
                                ),
                            ),
                        )
                        .order_by(t.c.id)
                        .limit(max(1, PAGE // self.batch_size))
                        .with_for_update(skip_locked=True)
                    )
                )
                if not ids:
                    return
                s.execute(
                    update(t)
                    .where(is_in(s, t.c.id, ids))
                    .values(status=ds.BATCH_QUEUED, lease_until=self.now + ds.QUEUE_LEASE)
                )
                rows = s.execute(
                    select(Delivery.id, Delivery.batch_id)
                    .where(is_in(s, Delivery.batch_id, ids), Delivery.status == ds.QUEUED)
                    .order_by(Delivery.id)
                ).all()
                # Nothing left to send in these (cancelled, or sent by a task the broker gave twice): done.
                idle = set(ids) - {b for _, b in rows}
                if idle:
                    s.execute(
                        update(t).where(is_in(s, t.c.id, list(idle))).values(status=ds.BATCH_DONE, lease_until=None)
                    )
            after = ids[-1]
            self.emit_batches(rows)

    def emit_batches(self, rows: Sequence[Row] | Sequence[tuple]) -> None:
        """Emit (delivery id, batch id) rows, already leased, a batch at a time (in parts of at most batch_size)."""
        groups: dict[int, list[int]] = {}
        for did, batch_id in sorted(rows):
            groups.setdefault(batch_id, []).append(did)
        for group in groups.values():
            for i in range(0, len(group), self.batch_size):
                self.emit(group[i : i + self.batch_size])
                self.report.batches += 1
                self.report.queued += len(group[i : i + self.batch_size])


def complete_finished(s: Session, now: datetime) -> list[str]:
    """Mark running campaigns with no enrollment left to mail (none active or sending) completed; for the tick.

    Returns the slugs completed. Idempotent: a second call finds nothing.
    """
    pending = (
        select(Enrollment.id)
        .where(Enrollment.campaign_id == Campaign.id, Enrollment.status.in_(("active", "sending")))
        .exists()
    )
    done = list(
        s.scalars(select(Campaign).where(Campaign.status == "running", ~pending).with_for_update(skip_locked=True))
    )
    for campaign in done:
        campaign.status = "completed"
        audit(s, campaign, "system", "completed", "every subscriber has had the whole series or left", now)
    return [c.slug for c in done]
