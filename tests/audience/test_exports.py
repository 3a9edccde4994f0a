"""Exports on both databases: every subscriber once, in id order, a page at a time (memory does not grow with the
list), with consent fields, tags and campaigns; formula cells neutralised; events name people by id."""

from __future__ import annotations

import csv
import io
import tracemalloc

from campaigns.audience.directory import SubscriberFilter
from campaigns.audience.exports import SUBSCRIBER_COLUMNS, subscriber_rows
from campaigns.csv_output import cell, csv_chunks
from campaigns.db.models import Subscriber
from campaigns.db.sql import bulk_insert
from tests.builders import KEYS, START, give_tags


def add_people(factory, n: int, start: int = 0) -> None:
    with factory.begin() as s:
        bulk_insert(
            s,
            Subscriber.__table__,
            [
                {
                    "email": f"p{i}@example.org",
                    "email_key": KEYS.of(f"p{i}@example.org"),
                    "name": f"Person {i}",
                    "timezone": "UTC",
                    "status": "active",
                    "consent_source": "import",
                    "created_at": START,
                }
                for i in range(start, start + n)
            ],
        )


def peak_bytes(factory, page: int) -> tuple[int, int]:
    """(rows written, peak bytes allocated) for exporting everyone through the CSV writer, consumed as it comes."""
    tracemalloc.start()
    try:
        rows = 0
        for chunk in csv_chunks(SUBSCRIBER_COLUMNS, subscriber_rows(factory, page=page)):
            rows += chunk.count("\r\n")
        return rows - 1, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_export_walks_by_id_a_page_at_a_time_in_flat_memory(session_factory):
    add_people(session_factory, 2_000)
    small_rows, small_peak = peak_bytes(session_factory, page=500)
    add_people(session_factory, 18_000, start=2_000)
    big_rows, big_peak = peak_bytes(session_factory, page=500)
    assert (small_rows, big_rows) == (2_000, 20_000)
    # Ten times the rows, about the same memory: a page of rows and a chunk of text at a time, never the list.
    assert big_peak < 1.5 * small_peak, (small_peak, big_peak)


def test_the_subscriber_export_has_consent_tags_and_filters(session_factory):
    add_people(session_factory, 3)
    with session_factory.begin() as s:
        give_tags(s, 2, "donors")
    text = "".join(csv_chunks(SUBSCRIBER_COLUMNS, subscriber_rows(session_factory, SubscriberFilter(tag="Donors"))))
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["id"], row["email"], row["tags"], row["consent_source"]) == ("2", "p1@example.org", "donors", "import")


def test_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_stay_numbers():
    assert [cell(v) for v in ("=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "plain", 7, None, ["a", "=b"])] == [
        "'=1+1",
        "'+33 1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        7,
        "",
        "a;=b",
    ]
