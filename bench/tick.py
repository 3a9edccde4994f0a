"""The tick as a process of its own: import and connect first, say `ready`, run one tick on `go` (stdin), print its
report as JSON. It runs the real Celery task body (`workers.tasks.tick`), which queues batches on Redis."""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import text

from outreach.bootstrap import get_session_factory
from workers import tasks


def main() -> None:
    with get_session_factory()() as s:  # connect before the clock starts, as a long-running beat worker would be
        s.execute(text("SELECT 1"))
    tasks.send_batch.app.connection_for_write().ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    began = time.perf_counter()
    report = tasks.tick()
    print(json.dumps({**report, "seconds": round(time.perf_counter() - began, 3)}), flush=True)


if __name__ == "__main__":
    main()
