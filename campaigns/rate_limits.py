"""Rate limits shared by every process: the hits of each limited thing, kept in the database.

A `Limit` is a name and rules like "1 per hour and 3 per day"; a bucket is one limited thing under it (an address's
key, a client network, a login source). `hit` reserves a place before the work it limits (so twenty requests that
arrive at once get five places, not twenty), `refund` hands a place back, `clear` forgets a bucket (a login that
succeeded). One row per bucket holds the times of its recent hits (a sliding window, exact at any instant).

Why the database, not Redis: the web processes already share it, it needs no other service on SQLite or PostgreSQL,
and a limit decided in the same transaction as the sign-up it guards cannot drift from it. The cost is one small
locked row per limited request, nothing on the send path.

Concurrency: the first statement writes (an insert that does nothing when the row exists), which takes SQLite's
write lock before anything is read; the row is then read FOR UPDATE, which PostgreSQL locks until commit. Either way
two processes hitting one bucket take turns, and each sees the other's hit.

Client addresses are counted by network, not by address: an IPv6 host is given a whole /64 (and can use any address
in it), so `client_bucket` counts IPv6 by /64 and IPv4 by address.
"""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.db.models import RateLimit
from campaigns.db.sql import insert_ignore
from campaigns.errors import RateLimited

# One hit in this many also deletes every expired bucket, so the table stays as small as the traffic of one day.
_SWEEP_ONE_IN = 50


@dataclass(frozen=True)
class Limit:
    """At most `hits` per `seconds`, for every (hits, seconds) in `rules`."""

    name: str
    rules: tuple[tuple[int, int], ...]

    @property
    def longest(self) -> int:
        return max(seconds for _, seconds in self.rules)


def client_bucket(address: str | None) -> str:
    """The network a client address is counted by: IPv4 by address, IPv6 by /64 (IPv4-mapped as IPv4)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return f"other:{(address or 'unknown')[:60]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def wait_seconds(limit: Limit, hits: list[float], at: float) -> int:
    """Seconds until one more hit fits every rule (0: it fits now)."""
    wait = 0.0
    for allowed, seconds in limit.rules:
        recent = [t for t in hits if t > at - seconds]
        if len(recent) >= allowed:
            # The hit that must leave the window first is the one `allowed` places from the newest.
            wait = max(wait, recent[-allowed] + seconds - at)
    return math.ceil(wait) if wait > 0 else 0


def _bucket(limit: Limit, key: str) -> str:
    return f"{limit.name}:{key}"[:200]


def _locked_hits(session: Session, bucket: str, now: datetime) -> list[float]:
    expires = now + timedelta(days=1)
    session.execute(
        insert_ignore(session, RateLimit.__table__, ["bucket"]).values(bucket=bucket, hits=[], expires_at=expires)
    )
    hits = session.scalar(select(RateLimit.hits).where(RateLimit.bucket == bucket).with_for_update())
    return [float(t) for t in (hits or []) if isinstance(t, int | float)]


def try_hit(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """Reserve a place for one more hit of `key`: 0 when it was taken, else the seconds to wait (nothing changed).

    Runs in the caller's transaction; the place is taken when it commits."""
    bucket, at = _bucket(limit, key), now.timestamp()
    hits = [t for t in _locked_hits(session, bucket, now) if t > at - limit.longest]
    wait = wait_seconds(limit, hits, at)
    if not wait:
        hits.append(at)
    session.execute(
        update(RateLimit)
        .where(RateLimit.bucket == bucket)
        .values(hits=hits, expires_at=now + timedelta(seconds=limit.longest))
    )
    if random.randrange(_SWEEP_ONE_IN) == 0:
        session.execute(delete(RateLimit).where(RateLimit.expires_at < now))
    return wait


def hit(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """As `try_hit`, raising RateLimited (with the seconds to wait) when there is no place."""
    wait = try_hit(session, limit, key, now)
    if wait:
        raise RateLimited(wait)


def locked_for(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """Seconds until `key` may hit again, without hitting (0: it may now)."""
    hits = session.scalar(select(RateLimit.hits).where(RateLimit.bucket == _bucket(limit, key)))
    return wait_seconds(limit, [float(t) for t in hits or []], now.timestamp())


def refund(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """Give back the newest place `key` took (the work it reserved for did not count)."""
    bucket = _bucket(limit, key)
    hits = _locked_hits(session, bucket, now)
    if hits:
        session.execute(update(RateLimit).where(RateLimit.bucket == bucket).values(hits=hits[:-1]))


def clear(session: Session, limit: Limit, key: str) -> None:
    """Forget every hit of `key` (a sign-in that succeeded ends the count of its failures)."""
    session.execute(delete(RateLimit).where(RateLimit.bucket == _bucket(limit, key)))
