"""The one interface every transport implements, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from campaigns.authoring.content import SlotValue, StepContent
from campaigns.brand import Brand

SendStatus = Literal["accepted", "failed", "unknown"]


@dataclass(frozen=True)
class Recipient:
    delivery_id: int  # our delivery row (0 for a test send)
    email: str
    name: str | None
    values: dict[str, SlotValue]  # slot values: first_name, unsubscribe_url, preferences_url, next_day, crisis
    # The random local part of this delivery's Message-ID, decided when the delivery was created and stored with it,
    # so every attempt at one delivery carries the same id. None: a test send or confirmation (random each time).
    message_token: str | None = None


@dataclass(frozen=True)
class Batch:
    """One step of one campaign to up to 1000 recipients: content once, recipients many."""

    content: StepContent
    brand: Brand
    campaign: str  # campaign slug (opaque to third parties: no personal data)
    step: int
    recipients: tuple[Recipient, ...]
    is_test: bool = False
    track_opens: bool = False
    track_clicks: bool = False

    @property
    def categories(self) -> list[str]:
        return [f"campaign-{self.campaign}", f"step-{self.step}"] + (["test"] if self.is_test else [])


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    status: SendStatus
    message_id: str | None = None
    error: str | None = None


class EmailProvider(Protocol):
    name: str

    def send_batch(self, batch: Batch) -> list[SendResult]:
        """Send every recipient of the batch; one result per recipient, in order.

        Raise ProviderError(retryable=True) for a whole-batch failure worth retrying (429, 5xx, connection
        refused before anything was sent); ProviderError(fatal=True) when sending must stop (bad credentials).
        A timeout after the request went out is reported as status "unknown", never retried blindly.
        """
        ...


@dataclass
class RecordingProvider:
    """A provider for unit tests: records each batch and accepts every recipient."""

    name: str = "recording"
    batches: list[Batch] = field(default_factory=list)

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.batches.append(batch)
        return [SendResult(r.delivery_id, "accepted", f"rec-{r.delivery_id}") for r in batch.recipients]
