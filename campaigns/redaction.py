"""Keeping personal data out of what we log and store: addresses masked in free text."""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+\.[A-Za-z]{2,}")


def mask_email(address: str | None) -> str:
    """m***@example.com: enough to recognise one's own address, not enough to read someone else's."""
    if not address or "@" not in address:
        return ""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_addresses(text: str) -> str:
    """Bounce texts often quote the address ("550 <ann@x.org>: no such user"); keep the text, not the address."""
    return _ADDRESS.sub("<address>", text)
