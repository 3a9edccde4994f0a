"""SQL that differs between SQLite and PostgreSQL, behind one function each."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    CTE,
    JSON,
    Column,
    ColumnElement,
    Table,
    any_,
    bindparam,
    cast,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.types import ARRAY, NullType

T = TypeVar("T")

# Bound parameters per IN (...) query: well under SQLite's 32,766 and PostgreSQL's 65,535.
IN_CHUNK = 5000


def rows_changed(session: Session, statement: Executable, params: Sequence[dict] | None = None) -> int:
    """Run an UPDATE or DELETE (once, or once per dict of `params`) in the session's transaction; rows it changed."""
    result = session.execute(statement, params)
    assert isinstance(result, CursorResult)  # DML always gives a cursor result
    return result.rowcount


def insert_ignore(session: Session, table: Table, unique: Sequence[str]):
    """INSERT … ON CONFLICT (unique) DO NOTHING, for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique))


def bulk_insert(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """Insert many rows (all with the same keys) in the session's transaction: COPY on PostgreSQL, executemany else.

    COPY skips column types' Python-side processing, so values must already be what the column stores (aware
    datetimes, JSON as Python lists/dicts); it is ~10x faster than multi-row INSERTs through psycopg here.
    """
    if not rows:
        return
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    psycopg_connection = connection.connection.driver_connection
    assert psycopg_connection is not None  # a live connection: the session just flushed on it
    with (
        psycopg_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])


def is_in(session: Session, column, values: Sequence) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter instead of thousands (the
    thousands cost more to render and convert than the query takes to run). Keep `values` to a few thousand."""
    if session.get_bind().dialect.name == "postgresql":
        # An untyped parameter: PostgreSQL reads it as the array when binding and plans with the values; given as
        # VARCHAR, the cast would run for every row of a sequential scan.
        return column == any_(cast(literal(pg_array(values), NullType()), ARRAY(column.type)))
    return column.in_(values)


def pg_array(values: Sequence) -> str:
    """PostgreSQL's text form of a one-dimensional array (ints, strings, aware datetimes, None), to be CAST to the
    array type. psycopg's own list dumper runs two regular expressions per element: 5 ms for 5,000 ids here against
    1 ms for this, paid several times per batch of the send path."""
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(_array_element(v) for v in values) + "}"


def _array_element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'  # quoted, with \ and " escaped


def insert_ignore_many(
    session: Session, table: Table, unique: Sequence[str], rows: Sequence[dict], returning: Sequence[str] = ()
) -> list[tuple]:
    """insert_ignore for many rows (all with the same keys): on PostgreSQL one statement over arrays (unnest), which
    costs a few parameters instead of one per value; executemany elsewhere. Returns the `returning` columns of the
    rows actually inserted (in no particular order)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        statement = insert_ignore(session, table, unique)
        if not returning:
            session.execute(statement, list(rows))
            return []
        return [tuple(r) for r in session.execute(statement.returning(*(table.c[c] for c in returning)), list(rows))]
    columns = list(rows[0])
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
    result = session.execute(
        text(
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(unique)}) DO NOTHING"
            + (f" RETURNING {', '.join(returning)}" if returning else "")
        ),
        {c: pg_array([row[c] for row in rows]) for c in columns},
    )
    return [tuple(r) for r in result] if returning else []


def update_each(session: Session, column: Column, values: dict) -> None:
    """Set `column` to a value of its own on each row, by primary key `id` ({id: value}): on PostgreSQL one
    statement joining arrays (unnest), executemany elsewhere."""
    if not values:
        return
    table, dialect = column.table, session.get_bind().dialect
    if dialect.name != "postgresql":
        session.connection().execute(
            update(table).where(table.c.id == bindparam("k")).values({column.name: bindparam("v")}),
            [{"k": k, "v": v} for k, v in values.items()],
        )
        return
    kind = column.type.compile(dialect=dialect)
    session.execute(
        text(
            f"UPDATE {table.name} AS t SET {column.name} = v.value "
            f"FROM unnest(CAST(:keys AS BIGINT[]), CAST(:values AS {kind}[])) AS v(key, value) "
            f"WHERE t.id = v.key"
        ),
        {"keys": pg_array(list(values)), "values": pg_array(list(values.values()))},
    )


def current_locked(s: Session, table: Table, ids: Sequence[int], *columns: ColumnElement) -> CTE:
    """These rows' current values, locked (FOR UPDATE on PostgreSQL), for an UPDATE to test instead of the table.

    Given `table.status = 'x'` next to the ids, PostgreSQL picks the status index whenever its statistics are
    behind (a new step's million rows still counted as rare, most enrollments `sending` during a big send) and walks
    every such row for each batch; a test on this CTE keeps it on the primary key, and is as safe."""
    return select(table.c.id, *columns).where(is_in(s, table.c.id, ids)).with_for_update().cte("cur")


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items, for IN (...) lists that must stay under the driver's limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
