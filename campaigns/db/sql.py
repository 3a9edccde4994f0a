"""SQL that differs between SQLite and PostgreSQL, behind one function each."""
from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import JSON, ColumnElement, Table, any_, insert, literal
from sqlalchemy.types import ARRAY
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, unique: Sequence[str]):
    """INSERT … ON CONFLICT (unique) DO NOTHING, for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique))


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
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])


def is_in(session: Session, column, values: Sequence) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter instead of thousands (the
    thousands cost more to render and convert than the query takes to run). Keep `values` to a few thousand."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)
