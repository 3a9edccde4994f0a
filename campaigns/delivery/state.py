"""The delivery state machine: every status a delivery can have and the moves between them, in one place.

    queued ─claim─▶ sending ─submit─▶ submitting ─answer─▶ accepted ─events─▶ delivered / opened … / bounced
       ▲              │                    │                          └─▶ failed (rejected by the provider)
       └─lease expired┘                    └─lease expired or timeout─▶ unknown ─events─▶ accepted / delivered / …
    queued / sending ─▶ cancelled (subscriber left, campaign paused)

The leases are kept per batch of deliveries (send_batches), not per delivery: see campaigns/db/models.py.
`sending` means claimed by a worker but nothing has left yet, so a dead worker's claim can go back to `queued`.
`submitting` is written just before the provider call: from there we cannot know whether the email left, so an
expired lease turns it into `unknown` (settled later by provider events), never into a second send.
"""

from __future__ import annotations

from datetime import timedelta

QUEUED, SENDING, SUBMITTING = "queued", "sending", "submitting"
ACCEPTED, DELIVERED, BOUNCED, DROPPED = "accepted", "delivered", "bounced", "dropped"
FAILED, UNKNOWN, CANCELLED = "failed", "unknown", "cancelled"

_AFTER_SEND = {ACCEPTED, DELIVERED, BOUNCED, DROPPED}

TRANSITIONS: dict[str, set[str]] = {
    QUEUED: {SENDING, CANCELLED},
    SENDING: {SUBMITTING, QUEUED, CANCELLED},
    SUBMITTING: {ACCEPTED, FAILED, UNKNOWN, QUEUED},
    UNKNOWN: {ACCEPTED, DELIVERED, BOUNCED, DROPPED, FAILED},
    ACCEPTED: {DELIVERED, BOUNCED, DROPPED},
    DELIVERED: {BOUNCED},
    BOUNCED: set(),
    DROPPED: set(),
    FAILED: set(),
    CANCELLED: set(),
}

#: Statuses in which an email has (or may have) left: never send the same delivery again from these.
LEFT = _AFTER_SEND | {SUBMITTING, UNKNOWN}
#: Statuses that count as "sent" in stats.
SENT = _AFTER_SEND


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


def sources(target: str) -> tuple[str, ...]:
    """The statuses a bulk update may move rows from, to reach `target` (used in SQL WHERE clauses)."""
    return tuple(sorted(s for s, nexts in TRANSITIONS.items() if target in nexts))


# A send batch (campaigns.db.models.SendBatch): handed out, claimed by a worker, or finished with; or made ahead
# of its campaign's start and held until its emails fall due (`lease_until` holds that time).
BATCH_HELD, BATCH_QUEUED, BATCH_SENDING, BATCH_DONE = "held", "queued", "sending", "done"

# How long a row may stay in `queued` (handed out) or `sending` (claimed) before the tick takes it back.
QUEUE_LEASE = timedelta(minutes=10)  # a batch not claimed by a worker within this is handed out again
SEND_LEASE = timedelta(minutes=5)  # a claim not finished within this is taken back
