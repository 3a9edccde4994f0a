"""Exactly once, by identity: each email the database recorded as accepted reached the SendGrid server once, and
nothing else reached it.

The server keeps a bitmap of the ids it accepted and one of the ids it saw again (tests/sendgrid_server.py, IdSet);
here the database's accepted ids become a bitmap too, and the three are compared as integers (bit n = id n): a
count that matches can still hide one email sent twice and another never sent, a bitmap cannot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from campaigns.db.models import Delivery
from campaigns.db.session import make_engine
from campaigns.delivery import state as ds
from tests.sendgrid_server import IdSet

EXAMPLES = 5  # ids named per kind of mismatch


def accepted_ids(url: str, key: str = "id") -> int:
    """The bitmap of the accepted deliveries' `key` column (the delivery id; the enrollment id for the naive drip)."""
    column = getattr(Delivery, key)
    bitmap = bytearray()
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execution_options(yield_per=20_000).execute(select(column).where(Delivery.status == ds.ACCEPTED))
            for (n,) in rows:
                if n >> 3 >= len(bitmap):
                    bitmap.extend(bytes(max((n >> 3) + 1, 2 * len(bitmap)) - len(bitmap)))
                bitmap[n >> 3] |= 1 << (n & 7)
    finally:
        engine.dispose()
    return int.from_bytes(bitmap, "little")


def compare(expected: int, received: dict[str, Any], size: int) -> dict[str, Any]:
    """Compare the database's bitmap with the server's answer to GET /_test/ids; `ok` only if each of the `size`
    emails was received exactly once and nothing else was."""
    seen, again = IdSet.bits(received["seen"]), IdSet.bits(received["again"])
    missing, unexpected = expected & ~seen, seen & ~expected
    report: dict[str, Any] = {
        "id": received["arg"],
        "expected": expected.bit_count(),
        "received": seen.bit_count(),
        "missing": missing.bit_count(),
        "unexpected": unexpected.bit_count(),
        "duplicated": again.bit_count(),
        "extra_copies": received["duplicates"],
        "unidentified": received["unidentified"],
    }
    report["ok"] = (
        report["expected"] == report["received"] == size
        and not (missing or unexpected or again)
        and report["unidentified"] == 0
    )
    report["examples"] = {
        name: lowest(bits)
        for name, bits in (("missing", missing), ("unexpected", unexpected), ("duplicated", again))
        if bits
    }
    return report


def lowest(bits: int, n: int = EXAMPLES) -> list[int]:
    """The n smallest ids in a bitmap."""
    out = []
    while bits and len(out) < n:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def describe(report: dict[str, Any], size: int) -> str | None:
    """One line saying what is wrong, or None when every email was received exactly once."""
    if report["ok"]:
        return None
    parts = [f"{report['expected']:,} accepted in the database of {size:,}", f"{report['received']:,} received"]
    for name in ("missing", "unexpected", "duplicated", "unidentified"):
        if report[name]:
            example = report["examples"].get(name)
            named = f" ({report['id']} {', '.join(map(str, example))}{', …' if report[name] > len(example) else ''})"
            parts.append(f"{report[name]:,} {name}" + (named if example else ""))
    return "identity check failed: " + ", ".join(parts)
