"""A small `make bench` end to end: the product and the naive drip on both databases, each email checked by id at
the SendGrid server, per-stage CPU and the PostgreSQL server's settings in the results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from tests.parts import require_part
from tests.postgres import server_programs
from tests.servers import redis_binary

pytestmark = pytest.mark.slow


def test_a_small_matrix_sends_each_email_once_and_says_where_the_time_went(tmp_path: Path) -> None:
    if redis_binary() is None:
        require_part("redis-server", "redis-server is not installed")
    if server_programs() is None:
        require_part("postgresql", "PostgreSQL's server programs (initdb, postgres) are not installed")
    argv = ["--sizes", "300", "--db", "sqlite,postgresql", "--workers", "1", "--naive-size", "40"]
    assert run.main([*argv, "--name", "small", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "small.json").read_text())

    # The bench's own PostgreSQL, durable and production-sized, as the results state.
    pg = results["machine"]["postgresql"]
    assert pg["own_server"] and (pg["fsync"], pg["synchronous_commit"], pg["autovacuum"]) == ("on", "on", "on")
    assert pg["shared_buffers"] != "128MB" and "pg_stat_statements" in pg["shared_preload_libraries"]
    assert results["machine"]["cpu"] and results["machine"]["cpus"]

    sqlite, postgresql = results["runs"]
    naive = results["naive"]
    for r, size, key in ((sqlite, 300, "delivery_id"), (postgresql, 300, "delivery_id"), (naive, 40, "enrollment_id")):
        assert r["ok"], r["error"]
        assert r["identity"] | {"examples": {}} == {
            "id": key,
            "expected": size,
            "received": size,
            "missing": 0,
            "unexpected": 0,
            "duplicated": 0,
            "extra_copies": 0,
            "unidentified": 0,
            "ok": True,
            "examples": {},
        }
        assert {"tick", "workers", "sendgrid", "redis", "bench", "other"} <= r["us_per_email"].keys()
        assert r["us_per_email"]["workers"] > 0 and r["us_per_email"]["tick"] > 0
        assert {"loadavg", "cores_other"} <= r["load"]["before"].keys()
        assert {"cores_busy", "cores_other", "other_programs"} <= r["load"]["during"].keys()
    assert "postgresql" not in sqlite["us_per_email"] and postgresql["us_per_email"]["postgresql"] > 0
    # Each first email was prepared before the clock (the tick does that while a campaign is scheduled), so the run
    # inserts no delivery row; the server's own account of it says so, with the statements that cost most.
    for r in (sqlite, postgresql):
        assert r["prepare"]["prepared"] == r["size"] and r["prepare"]["us_per_email"]["bench"] > 0
        assert r["prepare"]["seconds"] > 0
    assert naive["prepare"]["prepared"] == 0
    assert postgresql["postgresql"]["rows_per_email"]["deliveries"]["inserted"] == 0.0
    assert postgresql["postgresql"]["rows_per_email"]["deliveries"]["hot_updated"] > 0
    assert postgresql["postgresql"]["statements"]
    assert naive["postgresql"]["rows_per_email"]["deliveries"] == {
        "inserted": 1.0,
        "updated": 0.0,
        "hot_updated": 0.0,
        "deleted": 0.0,
    }
    assert "| naive (postgresql) | 40 | 2 |" in results["table"] and "| sqlite | 300 | 1 |" in results["table"]


def test_no_prepare_leaves_the_first_emails_to_the_tick_at_the_start_and_says_so() -> None:
    made_at_start = run.specs_of(run.parse_args(["--sizes", "300", "--db", "postgresql", "--no-prepare"]))
    assert [(s.prepared, s.label) for s in made_at_start] == [
        (False, "postgresql 300 x1 made at start"),
        (False, "postgresql 300 x2 made at start"),
    ]
    assert all(s.prepared for s in run.specs_of(run.parse_args(["--sizes", "300"])))
