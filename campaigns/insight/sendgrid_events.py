"""Reading SendGrid's event webhook: a signed body in, normalised `DeliveryEvent`s and set-aside items out.

Each event is read on its own, validated and clipped, so that one strange event cannot fail the batch around it
(SendGrid would retry the whole batch for a day and then drop it, good events included): a field of the wrong type,
an id of a kilobyte, NUL, NaN or a number beyond any integer column is made harmless or dropped; an item that is not
an event at all (a number, an object nested beyond reason, text that is not JSON inside an array that is) is set aside,
stored raw for an admin, and counted. Only a body that is not JSON at all is refused (400).

The raw payload kept with each event holds no address, IP or user agent, and is clipped (depth, length, size).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.errors import OutreachError
from campaigns.insight.events import DeliveryEvent, EventKind
from campaigns.redaction import mask_addresses
from campaigns.text_input import clean_line, clean_text, is_slug

#: SendGrid's `event` names -> our kinds. A `bounce` is refined by its `type` (SENDGRID_BOUNCE_TYPES).
SENDGRID_KINDS: dict[str, EventKind] = {
    "processed": EventKind.PROCESSED,
    "deferred": EventKind.DEFERRED,
    "delivered": EventKind.DELIVERED,
    "bounce": EventKind.BOUNCED,
    "dropped": EventKind.DROPPED,
    "open": EventKind.OPENED,
    "click": EventKind.CLICKED,
    "spamreport": EventKind.COMPLAINED,
    "unsubscribe": EventKind.UNSUBSCRIBED,
    "group_unsubscribe": EventKind.UNSUBSCRIBED,
    "group_resubscribe": EventKind.RESUBSCRIBED,
}
#: A bounce event's `type`: "bounce" is permanent, "blocked" a refusal this time. No type reads as a hard bounce.
SENDGRID_BOUNCE_TYPES: dict[str, EventKind] = {"bounce": EventKind.BOUNCED, "blocked": EventKind.SOFT_BOUNCED}

# Fields with personal data that are kept out of the stored raw payload.
PERSONAL_FIELDS = frozenset({"email", "ip", "useragent"})
REASON_FIELDS = ("reason", "response", "status")

MAX_EVENT_ID = 100  # SendGrid's are ~22 characters; a longer one is kept as its hash (the column holds 200)
MAX_MESSAGE_ID = 200
MAX_REASON = 1000
MAX_ADDRESS = 320
MAX_ID = 2**31 - 1  # delivery ids and step numbers are integer columns
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# The stored raw payload: nested at most this deep, this many keys or items per level, strings this long.
RAW_DEPTH, RAW_ITEMS, RAW_STRING = 4, 60, 1000
SET_ASIDE_RAW = 16_000  # characters of a set-aside item kept for an admin to read


class EventFormatError(OutreachError):
    """A (correctly signed) webhook body is not JSON at all."""


@dataclass(frozen=True)
class SetAside:
    """An item of a batch that is no event we can store: why, its text (clipped, addresses out), its address."""

    reason: str
    raw: str
    address: str | None = None


@dataclass
class SendGridBatch:
    events: list[DeliveryEvent] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)


def read_sendgrid_batch(body: bytes, received_at: datetime) -> SendGridBatch:
    """Every event of a webhook body (call only after the signature verified); EventFormatError if it is not JSON."""
    batch = SendGridBatch()
    for item in _items(body):
        if isinstance(item, SetAside):
            batch.set_aside.append(item)
        elif not isinstance(item, dict):
            batch.set_aside.append(SetAside("not an event object", _clip_text(_dumps(_clip(item)))))
        else:
            batch.events.append(from_sendgrid(item, received_at))
    return batch


def _items(body: bytes) -> list[Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EventFormatError(f"webhook body is not UTF-8 JSON: {err}") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise EventFormatError(f"webhook body is not JSON: {err}") from None
    except (RecursionError, ValueError):
        # JSON that Python's parser will not take (nested deeper than it goes, a number of thousands of digits):
        # read the array's items one by one, so that only the item at fault is set aside.
        if not text.lstrip().startswith("["):
            return [SetAside("the body is not a JSON array of events", _clip_text(text))]
        return [_one_item(part) for part in _top_level_items(text)]
    if not isinstance(data, list):
        return [SetAside("the body is not a JSON array of events", _clip_text(_dumps(_clip(data))))]
    return data


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON (Python's parser takes them): read them as missing values."""
    return None


def _one_item(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        return SetAside("nested too deeply to read", _clip_text(text))
    except json.JSONDecodeError as err:
        return SetAside(f"not JSON: {err.msg}", _clip_text(text))
    except ValueError:
        return SetAside("holds a number too long to read", _clip_text(text))


# Strings (with their escapes) and the characters that open, close or separate JSON values.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.S)


def _top_level_items(text: str) -> list[str]:
    """The texts of the items of a JSON array, split at its top-level commas (brackets inside strings ignored)."""
    start, depth, items = None, 0, []
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth == 1 and start is None:
                start = match.end()
        elif token in "]}":
            depth -= 1
            if depth == 0 and start is not None:
                items.append(text[start : match.start()])
                break
        elif token == "," and depth == 1 and start is not None:
            items.append(text[start : match.start()])
            start = match.end()
    return [t for t in items if t.strip()]


def from_sendgrid(item: dict[str, Any], received_at: datetime) -> DeliveryEvent:
    """One SendGrid event object as a `DeliveryEvent`, each field validated and clipped; unknown names become
    `unknown`, a field that makes no sense becomes missing, never an error."""
    name = item.get("event")
    name = clean_line(name)[:40] if isinstance(name, str) else ""
    kind = SENDGRID_KINDS.get(name, EventKind.UNKNOWN)
    if kind is EventKind.BOUNCED:
        bounce_type = item.get("type", "bounce")
        kind = SENDGRID_BOUNCE_TYPES.get(bounce_type if isinstance(bounce_type, str) else "", EventKind.BOUNCED)
    address = item.get("email")
    address = clean_line(address) if isinstance(address, str) else ""
    raw = _clip({k: v for k, v in item.items() if k not in PERSONAL_FIELDS})
    for name_ in REASON_FIELDS:
        if isinstance(raw.get(name_), str):
            raw[name_] = mask_addresses(raw[name_])
    reason = next((raw[f] for f in REASON_FIELDS if isinstance(raw.get(f), str) and raw[f]), None)
    message_id = _text(item.get("sg_message_id"), MAX_MESSAGE_ID)
    campaign = _text(item.get("campaign"), 80)
    return DeliveryEvent(
        kind=kind,
        provider_event_id=_event_id(item),
        occurred_at=_timestamp(item.get("timestamp"), received_at),
        address=address if address and len(address) <= MAX_ADDRESS else None,
        delivery_id=_small_int(item.get("delivery_id")),
        provider_message_id=message_id.split(".", 1)[0] or None if message_id else None,
        campaign=campaign if campaign and is_slug(campaign) else None,
        step=_small_int(item.get("step")),
        reason=reason[:MAX_REASON] if reason else None,
        raw=raw,
    )


def _event_id(item: dict[str, Any]) -> str:
    value = item.get("sg_event_id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        # Some events (old drops) carry no sg_event_id: the same payload posted again must still dedupe.
        return "fp:" + hashlib.sha256(_dumps(_clip(item, depth=8)).encode()).hexdigest()
    text = str(value)
    if text and len(text) <= MAX_EVENT_ID and clean_line(text) == text:
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()  # stable, so retries dedupe


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return clean_line(str(value))[:limit] or None


def _timestamp(value: Any, default: datetime) -> datetime:
    """SendGrid's seconds since 1970, when they name a plausible time (from 2000 to a day after receipt)."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 12:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    if not EARLIEST.timestamp() <= value <= (default + timedelta(days=1)).timestamp():
        return default
    return datetime.fromtimestamp(int(value), tz=UTC)


def _small_int(value: Any) -> int | None:
    """A positive id that fits an integer column, from a JSON number or a string of ASCII digits."""
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 10):
            return None
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None


def _clip(value: Any, depth: int = RAW_DEPTH) -> Any:
    """A copy of a JSON value that any database stores: strings cleaned of controls and clipped, numbers finite and
    within a double's exact range, nesting, keys and items limited."""
    if isinstance(value, dict):
        if depth <= 0:
            return "{…}"
        items = list(value.items())[:RAW_ITEMS]
        return {clean_line(str(k))[:100]: _clip(v, depth - 1) for k, v in items}
    if isinstance(value, list):
        if depth <= 0:
            return "[…]"
        return [_clip(v, depth - 1) for v in value[:RAW_ITEMS]]
    if isinstance(value, str):
        return clean_text(value)[:RAW_STRING]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)[:40]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)[:RAW_STRING]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _clip_text(text: str) -> str:
    """A set-aside item's text as kept: controls out, addresses masked, clipped."""
    return mask_addresses(clean_text(text[: SET_ASIDE_RAW * 2]))[:SET_ASIDE_RAW]
