"""Fixtures for the parsing tests: the seed article and the external unit check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .support import REPO

SHARED = Path("/work/shared")
SEED = next(
    (
        p
        for p in (REPO / "content" / "baclofen-misuse-article.txt", SHARED / "content" / "baclofen-misuse-article.txt")
        if p.exists()
    ),
    None,
)
CHECKS = SHARED / "checks"


@pytest.fixture
def seed_path() -> Path:
    if SEED is None:
        pytest.skip("the seed article is not in content/ or /work/shared/content")
    return SEED


@pytest.fixture
def article_units():
    """The external check's sentence finder (skipped where /work/shared/checks is absent)."""
    if not (CHECKS / "article_units.py").exists():
        pytest.skip("/work/shared/checks is absent")
    sys.path.insert(0, str(CHECKS))
    try:
        from article_units import article_units as units
    finally:
        sys.path.remove(str(CHECKS))
    return units
