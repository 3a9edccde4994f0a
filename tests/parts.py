"""The system parts some tests need, from Debian's packages (`make test` installs them as root: tests/system_parts.sh).

`require_part` skips the calling test or fixture when its part is missing, naming the command that installs it.
Under CI=true it fails instead: CI must not pass with part of the suite never run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")


def require_part(name: str, reason: str) -> NoReturn:
    """Stop here because part `name` (a Debian package) is missing, `reason` saying how: skip, or fail under CI."""
    message = f"{reason} (Debian: apt-get install {name}; `make test` as root installs it)"
    if CI:
        pytest.fail(f"CI=true and a system part is missing: {message}", pytrace=False)
    pytest.skip(message)


def require_program(name: str) -> str:
    """The path of program `name` on the PATH, else require_part."""
    path = shutil.which(name)
    if path is None:
        require_part(name, f"{name} is not installed")
    return path
