"""The tick as a process of its own: import and connect first, say `ready`, run one tick on `go` (stdin), print its
report as JSON, with the CPU seconds it took. It runs the real Celery task body (`workers.tasks.tick`), which queues
batches on Redis."""

from __future__ import annotations

import json
import sys
import time

from workers import tasks


def main() -> None:
    tasks.warm_up()  # connected and warmed before the clock starts, as the tick's long-running worker process is
    tasks.send_batch.app.connection_for_write().ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    began, cpu = time.perf_counter(), time.process_time()
    report = tasks.tick()
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    print(json.dumps({**report, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3)}), flush=True)


if __name__ == "__main__":
    main()
