"""Values handed to PostgreSQL as one array parameter (campaigns.db.sql: is_in, insert_ignore_many, update_each) come
back exactly as they went in, odd strings and NULLs included; on SQLite the same calls take the plain path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from campaigns.db.models import Suppression
from campaigns.db.sql import insert_ignore_many, is_in, update_each

ODD = ["plain", 'with "quotes"', "back\\slash", "comma, {braces}", "NULL", " spaced ", "", "ünïcode ✓"]
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_odd_strings_and_nulls_round_trip(session_factory):
    rows = [
        {"email_key": key, "reason": "manual", "source": None if i % 2 else key, "created_at": AT}
        for i, key in enumerate(ODD)
    ]
    with session_factory.begin() as s:
        inserted = insert_ignore_many(s, Suppression.__table__, ["email_key"], rows, returning=("email_key",))
        again = insert_ignore_many(s, Suppression.__table__, ["email_key"], rows, returning=("email_key",))
    assert sorted(k for (k,) in inserted) == sorted(ODD) and again == []  # the second time, every row conflicts
    with session_factory() as s:
        found = s.execute(
            select(Suppression.email_key, Suppression.source).where(is_in(s, Suppression.email_key, [*ODD, "absent"]))
        ).all()
    assert sorted(found, key=str) == sorted(((r["email_key"], r["source"]) for r in rows), key=str)


def test_update_each_sets_each_row_its_own_time(session_factory):
    with session_factory.begin() as s:
        insert_ignore_many(
            s,
            Suppression.__table__,
            ["email_key"],
            [{"email_key": k, "reason": "manual", "created_at": AT} for k in ("a", "b", "c")],
        )
    with session_factory.begin() as s:
        ids = dict(s.execute(select(Suppression.email_key, Suppression.id)).all())
        update_each(
            s,
            Suppression.__table__.c.created_at,
            {ids["a"]: AT + timedelta(days=1), ids["b"]: AT + timedelta(microseconds=7)},
        )
    with session_factory() as s:
        got = dict(s.execute(select(Suppression.email_key, Suppression.created_at)).all())
    assert got == {"a": AT + timedelta(days=1), "b": AT + timedelta(microseconds=7), "c": AT}
