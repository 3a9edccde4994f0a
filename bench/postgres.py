"""The bench's own PostgreSQL server, set up as a production server of this machine's size would be, and what it
reports about a run (WAL, row writes, the costliest statements).

shared_buffers is a server setting (it cannot be set per database), and the machine's server on 5432 is shared
with other engineers' tests, at Debian's 128 MB: so the bench starts a cluster of its own with initdb on a free
port (tests/postgres.py's throwaway cluster, with other settings). Durable as in production, unlike the tests'
cluster: fsync, synchronous_commit and full_page_writes stay on, because with them off a crash could lose a
recorded send and the product would send it again.
"""

from __future__ import annotations

import atexit
import subprocess
import time
from typing import Any

import psutil
import psycopg

from tests.postgres import ThrowawayCluster, _die_with_parent, admin_dsn, server_programs, why_not

GB = 2**30

# Read back from the server into the results, whatever server the run used.
STATED = (
    "server_version",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "wal_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_compression",
    "autovacuum",
    "autovacuum_naptime",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_analyze_scale_factor",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_vacuum_cost_limit",
    "max_connections",
    "random_page_cost",
    "huge_pages",
    "shared_preload_libraries",
)


def production_settings(ram: int | None = None) -> dict[str, str]:
    """PGTune's web-application profile for this machine's memory and SSD storage, durable, with autovacuum at
    PostgreSQL's own defaults (on, 1 min naptime, 20 % scale factors) and pg_stat_statements loaded, as managed
    PostgreSQL services have it."""
    ram = ram or psutil.virtual_memory().total
    mb = 2**20
    return {
        "shared_buffers": f"{min(ram // 4, 8 * GB) // mb}MB",  # a quarter of memory
        "effective_cache_size": f"{ram * 3 // 4 // mb}MB",
        "maintenance_work_mem": f"{min(ram // 16, 2 * GB) // mb}MB",
        "work_mem": "16MB",
        "wal_buffers": "16MB",
        "min_wal_size": "1GB",
        "max_wal_size": "4GB",
        "checkpoint_completion_target": "0.9",
        "checkpoint_timeout": "15min",
        "random_page_cost": "1.1",
        "effective_io_concurrency": "200",
        "default_statistics_target": "100",
        "max_connections": "100",
        "huge_pages": "try",
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
        "autovacuum": "on",
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.max": "1000",
        "track_io_timing": "on",
    }


class BenchCluster(ThrowawayCluster):
    """A cluster of the bench's own on a free port, with `production_settings`; stopped and deleted at the end."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        programs = server_programs()
        if programs is None:
            raise RuntimeError(
                "PostgreSQL's server programs are not installed (Debian: apt-get install postgresql), and the bench "
                "runs a PostgreSQL server of its own; or point it at a server with --pg-port"
            )
        super().__init__(programs)
        self.settings = settings or production_settings()

    def start(self) -> None:
        data, log = self.folder / "data", self.folder / "server.log"
        initdb = [self.programs / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        initdb.append("--locale=C.UTF-8")
        subprocess.run(initdb, check=True, capture_output=True, cwd=self.folder, **self._as_user())
        options = [arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}")]
        server = [self.programs / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(self.port), "-k", self.folder]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [*server, *options],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                preexec_fn=_die_with_parent,
                **self._as_user(),
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + 60
        while why_not(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bench's PostgreSQL did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        with psycopg.connect(admin_dsn(self.port), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def stated_settings(port: int) -> dict[str, str]:
    with psycopg.connect(admin_dsn(port), autocommit=True) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in STATED}


def has_statements(port: int) -> bool:
    """Whether pg_stat_statements can be read (always on the bench's cluster; maybe not on another server)."""
    with psycopg.connect(admin_dsn(port), autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone())


class ServerStats:
    """What PostgreSQL did for one run's database between `begin` and `end`: WAL written, transactions, rows
    inserted and updated (HOT or not) per table, and the statements that took the most time."""

    def __init__(self, port: int, database: str) -> None:
        self.port, self.database = port, database
        self.statements = has_statements(port)
        self._before: dict[str, Any] = {}

    def begin(self) -> None:
        with psycopg.connect(admin_dsn(self.port), autocommit=True) as conn:
            if self.statements:
                conn.execute("SELECT pg_stat_statements_reset()")
            self._before = self._counters(conn)
        self._tables_before = self._tables()

    def end(self, emails: int) -> dict[str, Any]:
        """Per email, except `statements`. Call it once the run's connections are closed: a backend sends its row
        counts to the statistics only now and then while it lives, and when it exits."""
        time.sleep(0.5)  # the exiting backends' last counts
        with psycopg.connect(admin_dsn(self.port), autocommit=True) as conn:
            after = self._counters(conn)
            statements = self._statements(conn) if self.statements else []
        tables = self._tables()
        per = max(emails, 1)
        delta = {k: after[k] - self._before[k] for k in after}
        rows = {
            table: {k: v - self._tables_before.get(table, {}).get(k, 0) for k, v in counts.items()}
            for table, counts in tables.items()
        }
        return {
            "wal_bytes_per_email": round(delta["wal_bytes"] / per),
            "wal_records_per_email": round(delta["wal_records"] / per, 1),
            "wal_full_page_images_per_email": round(delta["wal_fpi"] / per, 2),
            "commits_per_email": round(delta["xact_commit"] / per, 2),
            "blocks_written_per_email": round(delta["blocks_written"] / per, 2),
            "checkpoints": delta["checkpoints"],
            "rows_per_email": {
                table: {k: round(v / per, 2) for k, v in changed.items()}
                for table, changed in rows.items()
                if any(changed.values())
            },
            "statements": statements,
        }

    def _counters(self, conn: psycopg.Connection) -> dict[str, float]:
        wal = conn.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal").fetchone()
        commits = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.database,)
        ).fetchone()
        writer = conn.execute(
            "SELECT checkpoints_timed + checkpoints_req, buffers_checkpoint + buffers_clean + buffers_backend "
            "FROM pg_stat_bgwriter"
        ).fetchone()
        return {
            "wal_records": wal[0],
            "wal_fpi": wal[1],
            "wal_bytes": float(wal[2]),
            "xact_commit": commits[0] if commits else 0,
            "checkpoints": writer[0],
            "blocks_written": writer[1],
        }

    def _tables(self) -> dict[str, dict[str, int]]:
        with psycopg.connect(admin_dsn(self.port, self.database), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables"
            ).fetchall()
        return {r[0]: {"inserted": r[1], "updated": r[2], "hot_updated": r[3], "deleted": r[4]} for r in rows}

    def _statements(self, conn: psycopg.Connection, top: int = 12) -> list[dict[str, Any]]:
        rows = conn.execute(
            """SELECT calls, total_exec_time, rows, shared_blks_dirtied, wal_bytes, left(query, 300)
               FROM pg_stat_statements
               WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s)
               ORDER BY total_exec_time DESC LIMIT %s""",
            (self.database, top),
        ).fetchall()
        return [
            {
                "calls": calls,
                "total_ms": round(total, 1),
                "mean_ms": round(total / calls, 3) if calls else None,
                "rows": n,
                "blocks_dirtied": dirtied,
                "wal_bytes": int(wal),
                "query": " ".join(query.split()),
            }
            for calls, total, n, dirtied, wal, query in rows
        ]
