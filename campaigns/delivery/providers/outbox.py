"""The embedded default provider: every email becomes an RFC 5322 `.eml` file in a folder (the demo's "inbox")."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from campaigns.delivery.message import build_message
from campaigns.delivery.providers.base import Batch, Recipient, SendResult

Clock = Callable[[], datetime]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxProvider:
    """Writes `<dir>/<campaign>/step-<NN>/<delivery_id>.eml` (test sends under `<dir>/tests/`).

    `clock` stamps the Date header, so a drip played on a simulated clock carries the simulated send times.
    """

    name = "outbox"

    def __init__(self, directory: Path, clock: Clock | None = None) -> None:
        self.directory = Path(directory)
        self.clock = clock or utc_now

    def send_batch(self, batch: Batch) -> list[SendResult]:
        now = self.clock()
        results = []
        for recipient in batch.recipients:
            html, text = batch.content.fill(recipient.values)
            try:
                msg = build_message(batch, recipient, now=now, html=html, text=text)
            except ValueError as err:  # e.g. no unsubscribe link: this one fails, the rest go on
                results.append(SendResult(recipient.delivery_id, "failed", error=f"cannot build message: {err}"))
                continue
            message_id = msg["Message-ID"].strip("<>")
            try:
                _write_atomically(self.path_for(batch, recipient, message_id), msg.as_bytes())
            except OSError as err:
                # A full disk or a read-only folder: this one failed; the rest are tried (and likely fail the same).
                results.append(SendResult(recipient.delivery_id, "failed", error=f"outbox write failed: {err}"))
                continue
            results.append(SendResult(recipient.delivery_id, "accepted", message_id=message_id))
        return results

    def path_for(self, batch: Batch, recipient: Recipient, message_id: str) -> Path:
        """Where a recipient's email goes: one file per delivery, so sending a delivery again overwrites it."""
        if batch.is_test or recipient.delivery_id <= 0:
            # Test sends have no delivery row; the (random) Message-ID keeps each one apart.
            local = message_id.partition("@")[0].replace("/", "-")
            return self.directory / "tests" / f"{_safe(batch.campaign)}.step-{batch.step:02d}.{_safe(local)}.eml"
        return self.directory / _safe(batch.campaign) / f"step-{batch.step:02d}" / f"{recipient.delivery_id}.eml"


def _safe(name: str) -> str:
    """A file-name-safe form of a slug: no path separators, no leading dots."""
    return _UNSAFE.sub("-", name).lstrip(".") or "-"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and os.replace, so a crash never leaves half an email.

    No fsync: this is the demo's outbox, and fsync per file would dominate the send benchmark. A process crash still
    leaves either the old file or the new one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
