"""What a run did, read from the database once it is over: outcomes, time from due to accepted, size on disk."""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import func, select, text

from campaigns.db.models import Delivery
from campaigns.db.session import make_engine
from campaigns.delivery import state as ds


def outcome(url: str, started: datetime) -> dict:
    """Counts by status and attempts, the last acceptance, due-to-accepted percentiles, database size."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            by_status = dict(c.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
            attempts = dict(c.execute(select(Delivery.attempts, func.count()).group_by(Delivery.attempts)).all())
            accepted = by_status.get(ds.ACCEPTED, 0)
            last = c.scalar(select(func.max(Delivery.sent_at)))
            due_min, due_max = c.execute(select(func.min(Delivery.due_at), func.max(Delivery.due_at))).one()

            def lag_at(q: float) -> float | None:
                if not accepted:
                    return None
                sent, due_at = c.execute(
                    select(Delivery.sent_at, Delivery.due_at)
                    .where(Delivery.status == ds.ACCEPTED)
                    .order_by(Delivery.sent_at)
                    .limit(1)
                    .offset(min(accepted - 1, int(q * accepted)))
                ).one()
                return (sent - due_at).total_seconds()

            p50, p95 = lag_at(0.5), lag_at(0.95)
            errors = list(
                c.scalars(select(Delivery.last_error).where(Delivery.last_error.is_not(None)).distinct().limit(3))
            )
            if engine.dialect.name == "postgresql":
                size = c.scalar(text("SELECT pg_database_size(current_database())"))
            else:
                path = engine.url.database
                size = sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
    finally:
        engine.dispose()
    return {
        "by_status": by_status,
        "attempts": {str(k): v for k, v in attempts.items()},
        "errors": errors,
        "seconds": (last - started).total_seconds() if last else None,
        "due_spread": (due_max - due_min).total_seconds() if due_min else None,
        "lag_p50": p50,
        "lag_p95": p95,
        "db_bytes": size,
    }
