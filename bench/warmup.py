"""Worker start-up happens before the clock: each pool process first does what a long-running worker has done
already (imports, its database connection, its provider client), then leaves a mark that the bench waits for."""

from __future__ import annotations

import os
from pathlib import Path

WARM_DIR = "OUTREACH_BENCH_WARM_DIR"  # where each warmed pool process leaves a file named for its pid


def mark_warm() -> None:
    Path(os.environ[WARM_DIR], str(os.getpid())).touch()


def warmed(folder: Path) -> int:
    """How many pool processes are warm."""
    return sum(1 for _ in folder.iterdir())
