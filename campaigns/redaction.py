"""Keeping personal data out of what we log and store: addresses masked in free text."""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+\.[A-Za-z]{2,}")


def mask_addresses(text: str) -> str:
    """Bounce texts often quote the address ("550 <ann@x.org>: no such user"); keep the text, not the address."""
    return _ADDRESS.sub("<address>", text)
