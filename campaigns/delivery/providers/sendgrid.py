"""SendGrid provider: one `/v3/mail/send` request per batch, the content once, one personalization per recipient.

Per recipient the request carries only what differs: the address, the slot values (as substitutions), the
recipient's own headers (Message-ID, List-Unsubscribe) and `custom_args` holding our ids; the headers shared by the
batch (List-Id, List-Unsubscribe-Post, Precedence) go once at the top. Both sets come from campaigns.delivery.message,
so an email sent through SendGrid carries the same headers as one sent by SMTP or written to the outbox (Reply-To is
`reply_to` here: SendGrid reserves the header). SendGrid substitutes one key everywhere, but the HTML needs escaped
values and the text raw ones, so the text part's markers are renamed (`%%first_name%%` stays in the HTML,
`%%first_name.text%%` in the text and subject) and every personalization carries both values. The send path puts
the crisis lines in the content itself (one request per country's lines, campaigns/delivery/sending.py); where a
recipient carries a pre-rendered block (a test send, a confirmation), it goes in as its HTML and its text, a few
hundred bytes, far under SendGrid's 50,000 per personalization.

Retries live in campaigns.delivery.retrying, not here: this module only says what an answer means (`_OUTCOMES`).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import orjson
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from campaigns.authoring.content import SLOT, html_value, text_value
from campaigns.delivery.message import batch_headers, list_unsubscribe, recipient_headers
from campaigns.delivery.providers.base import Batch, Recipient, SendResult, SendStatus
from campaigns.errors import ConfigError, ProviderError

log = logging.getLogger(__name__)

DEFAULT_HOST = "https://api.sendgrid.com"  # the EU region is https://api.eu.sendgrid.com
MAX_PERSONALIZATIONS = 1000
MAX_CATEGORIES = 10
_JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}
_PERSONALIZATION = re.compile(r"^personalizations\.(\d+)(\.|$)")


class _DropClientDebug(logging.Filter):
    """python_http_client logs every request's headers (the API key) and payload (every address) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


logging.getLogger("python_http_client.client").addFilter(_DropClientDebug())


class Outcome(Enum):
    ACCEPTED = "accepted"  # queued by SendGrid
    REJECTED = "rejected"  # the request itself is wrong: these recipients failed, retrying would not help
    RETRY = "retry"  # SendGrid is busy or broken: the whole batch may be sent again later
    STOP = "stop"  # the key or host is wrong: every further batch would fail the same way


_OUTCOMES: dict[int, Outcome] = {
    200: Outcome.ACCEPTED,  # SendGrid returns 200, not 202, in sandbox mode (valid, but nothing is queued)
    202: Outcome.ACCEPTED,
    400: Outcome.REJECTED,
    413: Outcome.REJECTED,
    401: Outcome.STOP,
    403: Outcome.STOP,
    404: Outcome.STOP,
    429: Outcome.RETRY,
}
_STOP_REASONS = {
    401: "SendGrid rejected the API key: stop sending (check SENDGRID_API_KEY)",
    403: "SendGrid refused this API key or sender: stop sending (check the key's mail.send permission and the "
    "verified sender)",
    404: "SendGrid has no /v3/mail/send at this host: stop sending (check SENDGRID_API_HOST)",
}


def outcome_of(status: int) -> Outcome:
    return _OUTCOMES.get(status, Outcome.RETRY if status >= 500 else Outcome.REJECTED)


@dataclass(frozen=True)
class _Reply:
    status: int
    message_id: str | None = None
    errors: tuple[dict[str, Any], ...] = ()
    error_id: str | None = None


class _AnswerLost(Exception):
    """The request went out but no answer came back: SendGrid may or may not have queued it."""


class SendGridProvider:
    """Sends batches through SendGrid's v3 Mail Send API with the official `sendgrid` client."""

    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        host: str = DEFAULT_HOST,
        sandbox: bool = False,
        timeout: float = 30,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ConfigError("SENDGRID_API_KEY is empty: set it to send through SendGrid")
        self.host = host.rstrip("/")
        self.sandbox = sandbox
        self.timeout = timeout
        self.clock = clock
        self._client = SendGridAPIClient(api_key=api_key, host=self.host)  # the key stays inside the client

    def __repr__(self) -> str:
        return f"SendGridProvider(host={self.host!r}, sandbox={self.sandbox})"

    def send_batch(self, batch: Batch) -> list[SendResult]:
        if not batch.recipients:
            return []
        if len(batch.recipients) > MAX_PERSONALIZATIONS:
            raise ValueError(
                f"a SendGrid batch holds at most {MAX_PERSONALIZATIONS} recipients, not {len(batch.recipients)}"
            )
        recipients, refused = [], []
        for r in batch.recipients:
            try:
                list_unsubscribe(r)
                recipients.append(r)
            except ValueError as err:  # no one-click unsubscribe, no email: this one fails, the rest go on
                refused.append(SendResult(r.delivery_id, "failed", error=f"cannot build message: {err}"))
        if refused:
            sent = self.send_batch(replace(batch, recipients=tuple(recipients))) if recipients else []
            by_id = {res.delivery_id: res for res in [*sent, *refused]}
            return [by_id[r.delivery_id] for r in batch.recipients]
        body = mail_body(batch, sandbox=self.sandbox)
        try:
            reply = self._post(body)
        except _AnswerLost as lost:
            return _all(recipients, "unknown", error=str(lost))
        if reply.status != 400:
            return self._settle(reply, recipients)
        bad = _rejected_personalizations(reply.errors, len(recipients))
        if not bad or len(bad) == len(recipients):
            return self._settle(reply, recipients)
        # One bad address must not block the batch: fail the named ones, send the rest once more.
        keep = [i for i in range(len(recipients)) if i not in bad]
        log.warning(
            "SendGrid answered 400 (error id %s): %d of %d recipients rejected, re-sending %d",
            reply.error_id,
            len(bad),
            len(recipients),
            len(keep),
        )
        retry_body = {**body, "personalizations": [body["personalizations"][i] for i in keep]}
        rest = [recipients[i] for i in keep]
        try:
            settled = self._settle(self._post(retry_body), rest)
        except _AnswerLost as lost:
            settled = _all(rest, "unknown", error=str(lost))
        results = dict(zip(keep, settled, strict=True))
        results.update(
            {i: SendResult(recipients[i].delivery_id, "failed", error="; ".join(msgs)) for i, msgs in bad.items()}
        )
        return [results[i] for i in range(len(recipients))]

    def _post(self, body: dict[str, Any]) -> _Reply:
        """POST one request; returns the answer for ACCEPTED/REJECTED, raises ProviderError for RETRY/STOP."""
        try:
            # Serialised here with orjson (a 1,000-recipient body in a tenth of json.dumps' time); a content type
            # other than the bare "application/json" is what makes python_http_client send the string as it is.
            response = self._client.client.mail.send.post(
                request_body=orjson.dumps(body).decode(), request_headers=_JSON_UTF8, timeout=self.timeout
            )
            status, headers, raw = response.status_code, response.headers, response.body
        except HTTPError as err:  # python_http_client turns every non-2xx answer into one of these
            status, headers, raw = err.status_code, err.headers, err.body
        except urllib.error.URLError as err:
            # urllib wraps only errors raised while connecting and writing the request: SendGrid has not got it.
            raise ProviderError(f"could not reach SendGrid at {self.host}: {err.reason}", retryable=True) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as err:
            # Raised while waiting for or reading the answer: the request went out and may have been queued.
            raise _AnswerLost(
                f"no answer from SendGrid after the request was sent ({type(err).__name__}); "
                "not re-sent, to be reconciled from events"
            ) from None
        errors, error_id = _parse_errors(raw)
        outcome = outcome_of(status)
        if outcome is Outcome.ACCEPTED:
            return _Reply(status, message_id=headers.get("X-Message-Id"))
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        if outcome is Outcome.RETRY:
            log.warning("SendGrid answered %d (error id %s); the batch will be retried", status, error_id)
            raise ProviderError(
                f"SendGrid answered {status}: {_describe(errors) or 'no details'}",
                status=status,
                body=text,
                retryable=True,
                retry_after=_retry_after(headers, self.clock()),
            )
        if outcome is Outcome.STOP:
            log.error("SendGrid answered %d (error id %s): stopping", status, error_id)
            reason = _STOP_REASONS.get(status, f"SendGrid answered {status}: stop sending")
            detail = _describe(errors)
            raise ProviderError(f"{reason}: {detail}" if detail else reason, status=status, body=text, fatal=True)
        return _Reply(status, errors=tuple(errors) or ({"message": f"SendGrid answered {status}"},), error_id=error_id)

    def _settle(self, reply: _Reply, recipients: Sequence[Recipient]) -> list[SendResult]:
        if outcome_of(reply.status) is Outcome.ACCEPTED:
            return _all(recipients, "accepted", message_id=reply.message_id)
        log.error(
            "SendGrid answered %d (error id %s): %d recipients failed", reply.status, reply.error_id, len(recipients)
        )
        return _all(recipients, "failed", error=f"SendGrid {reply.status}: {_describe(reply.errors)}")


def mail_body(batch: Batch, *, sandbox: bool = False) -> dict[str, Any]:
    """The /v3/mail/send JSON for a batch: content once, one personalization per recipient."""
    content, brand = batch.content, batch.brand
    slots = sorted(content.slots | set(SLOT.findall(content.subject)))
    body: dict[str, Any] = {
        "personalizations": [_personalization(batch, r, slots) for r in batch.recipients],
        "from": {"email": brand.sender_email, "name": brand.sender_name},
        "subject": _text_markers(content.subject),
        # text/plain first, then text/html: SendGrid requires this order.
        "content": [
            {"type": "text/plain", "value": _text_markers(content.text)},
            {"type": "text/html", "value": content.html},
        ],
        "headers": batch_headers(batch),
        "categories": batch.categories[:MAX_CATEGORIES],
        "tracking_settings": {
            "click_tracking": {"enable": batch.track_clicks, "enable_text": False},
            "open_tracking": {"enable": batch.track_opens},
            # We add our own signed unsubscribe links; SendGrid's would be a second, untracked opt-out.
            "subscription_tracking": {"enable": False},
        },
        "mail_settings": {"sandbox_mode": {"enable": sandbox}},
    }
    if brand.reply_to:  # an empty reply_to is a 400 ("does not contain a valid address"), as in message.py
        body["reply_to"] = {"email": brand.reply_to}
    return body


def _personalization(batch: Batch, r: Recipient, slots: list[str]) -> dict[str, Any]:
    to: dict[str, str] = {"email": r.email}
    if r.name:
        # SendGrid refuses ';' and ',' in a recipient's name.
        to["name"] = r.name.replace(";", " ").replace(",", " ").strip()
    subs: dict[str, str] = {}
    for slot in slots:
        value = r.values.get(slot, "")
        subs[f"%%{slot}%%"] = html_value(value)
        subs[_text_key(slot)] = text_value(value)
    return {
        "to": [to],
        "substitutions": subs,
        "headers": recipient_headers(batch, r),
        # Ids only: SendGrid keeps custom_args as non-personal data, and the topic is sensitive.
        "custom_args": {"delivery_id": str(r.delivery_id), "campaign": batch.campaign, "step": str(batch.step)},
    }


def _text_key(slot: str) -> str:
    return f"%%{slot}.text%%"


def _text_markers(text: str) -> str:
    return SLOT.sub(lambda m: _text_key(m.group(1)), text)


def _all(
    recipients: Sequence[Recipient], status: SendStatus, *, message_id: str | None = None, error: str | None = None
) -> list[SendResult]:
    return [SendResult(r.delivery_id, status, message_id=message_id, error=error) for r in recipients]


def _parse_errors(raw: bytes | str | None) -> tuple[list[dict[str, Any]], str | None]:
    """SendGrid's {"errors": [{"message", "field", "help"}], "id"}, or nothing when the body is something else."""
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        return [], None
    if not isinstance(data, dict):
        return [], None
    errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
    return errors, data.get("id")


def _describe(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{e['field']}: {e.get('message')}" if e.get("field") else str(e.get("message")) for e in errors)


def _rejected_personalizations(errors: Sequence[Mapping[str, Any]], count: int) -> dict[int, list[str]]:
    """Personalization index -> messages, when every error names one personalization; {} otherwise."""
    bad: dict[int, list[str]] = {}
    for e in errors:
        match = _PERSONALIZATION.match(str(e.get("field") or ""))
        if not match or int(match.group(1)) >= count:
            return {}  # an error about the whole request: no recipient can be sent as it stands
        bad.setdefault(int(match.group(1)), []).append(f"{e['field']}: {e.get('message')}")
    return bad


def _retry_after(headers: Any, now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date), else from X-RateLimit-Reset (a unix time)."""
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return None
