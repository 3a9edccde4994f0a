"""A local SendGrid v3 `/v3/mail/send` server for tests and the benchmark.

It checks requests the way the real API does, from SendGrid's published reference (Mail Send overview, its
"Errors" and "Limitations" pages, the Personalizations and Substitution Tags guides):
Bearer authorization, JSON body, required fields, at most 1000 personalizations and 1000 recipients in all,
categories (at most 10, each at most 255 characters), custom_args (string values, under 10,000 bytes per email),
substitutions (strings, at most 50,000 bytes per personalization), headers that may not override reserved ones,
send_at at most 72 hours ahead, a body under 30 MB. Answers: 202 with an empty body and an `X-Message-Id`
header; 200 in sandbox mode; 400 with `{"errors": [{"message", "field", "help"}], "id"}`; 401/403/413 likewise.

Faults on demand, each consuming the next N authorised requests: `rate_limit_next` (429 with Retry-After and
X-RateLimit-Reset), `fail_next` (500), `hang_next` (read the request, then answer nothing: the client times out,
or sees the connection closed when `seconds` is short). `reject_address` makes one address fail with a 400 that
names its personalization, as SendGrid does for an invalid address.

In a test:  `with SendGridServer() as sg: SendGridProvider("SG.test-key", host=sg.url) ... sg.sent`
As a process (fault tests, benchmark): `python -m tests.sendgrid_server --port 8025 [--api-key KEY]`, then control
it over HTTP: POST /_test/faults {"kind": "rate_limit"|"error"|"hang", "count": N, ...}, POST /_test/reject
{"email": ...}, POST /_test/reset, GET /_test/sent (one row per accepted email), GET /_test/requests,
GET /_test/count (requests answered, emails accepted), GET /_test/ids (which ids were accepted, and which more than
once: see `IdSet`). `--light` keeps no requests and no emails, only counts and the ids (the benchmark's millions).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

API_KEY = "SG.test-key"
MAX_BODY = 30 * 1024 * 1024
MAX_PERSONALIZATIONS = MAX_RECIPIENTS = 1000
MAX_CATEGORIES, MAX_CATEGORY_LEN = 10, 255
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SUBSTITUTION_BYTES = 50_000
MAX_SEND_AHEAD = 72 * 3600
# SendGrid's list of headers a request may not set (Mail Send reference, `headers`); compared case-insensitively.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    )
)
EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.{}"


def error(message: str, field: str | None = None) -> dict[str, Any]:
    """One entry of SendGrid's error list."""
    return {"message": message, "field": field, "help": HELP.format(field) if field else None}


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", list: "array", dict: "object", type(None): "null"}.get(
        type(value), "string"
    )


def _strings(obj: Any, where: str, errors: list) -> dict[str, str]:
    """An object whose values must all be strings (custom_args, substitutions, headers)."""
    if not isinstance(obj, dict):
        errors.append(error(f"Invalid type. Expected: object, given: {_type_name(obj)}.", where))
        return {}
    for key, value in obj.items():
        if not isinstance(value, str):
            errors.append(error(f"Invalid type. Expected: string, given: {_type_name(value)}.", f"{where}.{key}"))
    return {k: v for k, v in obj.items() if isinstance(v, str)}


def _address(obj: Any, where: str, errors: list, *, what: str) -> str | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("email"), str):
        errors.append(
            error(f"The {what} object must at least have an email address and may also contain a name.", where)
        )
        return None
    if not EMAIL.match(obj["email"]):
        errors.append(error("Does not contain a valid address.", f"{where}.email"))
    name = obj.get("name")
    if name is not None and (not isinstance(name, str) or ";" in name or "," in name):
        # Limitations page: to/cc/bcc names cannot include ';' or ','.
        errors.append(error("The name may not include the ; or , characters.", f"{where}.name"))
    return obj["email"]


def _headers(obj: Any, where: str, errors: list) -> None:
    for name in _strings(obj, where, errors):
        if name.lower() in RESERVED_HEADERS:
            errors.append(
                error(
                    f"The header {name!r} is reserved and may not be overwritten: x-sg-id, x-sg-eid, "
                    "received, dkim-signature, Content-Type, Content-Transfer-Encoding, To, From, "
                    "Subject, Reply-To, CC, BCC.",
                    f"{where}.{name}",
                )
            )


def check_mail(body: Any, now: float) -> list[dict[str, Any]]:
    """SendGrid's 400 errors for a /v3/mail/send body ([] when it would be accepted)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(body, dict):
        return [error("Invalid type. Expected: object.", None)]
    ps = body.get("personalizations")
    if not isinstance(ps, list) or not ps:
        errors.append(error("You must have at least one personalization.", "personalizations"))
        ps = []
    elif len(ps) > MAX_PERSONALIZATIONS:
        errors.append(
            error(
                f"The personalization block is limited to {MAX_PERSONALIZATIONS} personalizations per "
                f"API request. You have provided {len(ps)} personalizations. Please consider splitting "
                "this into multiple requests and resending your request.",
                "personalizations",
            )
        )
    has_template = isinstance(body.get("template_id"), str)
    top_args = _strings(body.get("custom_args", {}), "custom_args", errors)
    seen: set[str] = set()
    recipients = 0
    for i, p in enumerate(ps):
        where = f"personalizations.{i}"
        if not isinstance(p, dict):
            errors.append(error("Invalid type. Expected: object.", where))
            continue
        if not isinstance(p.get("to"), list) or not p["to"]:
            errors.append(error("The to parameter is required for all personalization objects.", f"{where}.to"))
        for kind in ("to", "cc", "bcc"):
            for j, rcpt in enumerate(p.get(kind) or []):
                email = _address(rcpt, f"{where}.{kind}.{j}", errors, what=kind)
                recipients += 1
                if email and email.lower() in seen:
                    errors.append(
                        error(
                            "Each unique email address in the personalizations array should only be "
                            f"included once. You have included {email} more than once.",
                            f"{where}.{kind}.{j}.email",
                        )
                    )
                seen.add((email or "").lower())
        if "subject" in p and (not isinstance(p["subject"], str) or not p["subject"]):
            errors.append(error("The subject must be a string at least one character in length.", f"{where}.subject"))
        if "headers" in p:
            _headers(p["headers"], f"{where}.headers", errors)
        subs = _strings(p.get("substitutions", {}), f"{where}.substitutions", errors)
        if sum(len(k.encode()) + len(v.encode()) for k, v in subs.items()) > MAX_SUBSTITUTION_BYTES:
            errors.append(
                error(
                    f"Substitutions are limited to {MAX_SUBSTITUTION_BYTES} bytes per personalization block.",
                    f"{where}.substitutions",
                )
            )
        args = {**top_args, **_strings(p.get("custom_args", {}), f"{where}.custom_args", errors)}
        if sum(len(k.encode()) + len(v.encode()) for k, v in args.items()) >= MAX_CUSTOM_ARGS_BYTES:
            errors.append(
                error(
                    f"The total length of custom arguments must be less than {MAX_CUSTOM_ARGS_BYTES} bytes.",
                    f"{where}.custom_args",
                )
            )
        _send_at(p.get("send_at"), f"{where}.send_at", now, errors)
    if recipients > MAX_RECIPIENTS:
        errors.append(
            error(
                f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) per request.",
                "personalizations",
            )
        )
    if "from" not in body:
        errors.append(
            error(
                "The from object must be provided for every email send. It is an object that requires "
                "the email parameter, but may also contain a name parameter.",
                "from",
            )
        )
    elif not isinstance(body["from"], dict) or not EMAIL.match(str(body["from"].get("email", ""))):
        errors.append(error("The from email does not contain a valid address.", "from.email"))
    if "reply_to" in body and (
        not isinstance(body["reply_to"], dict) or not EMAIL.match(str(body["reply_to"].get("email", "")))
    ):
        errors.append(error("The reply_to email does not contain a valid address.", "reply_to.email"))
    every_p_has_subject = bool(ps) and all(isinstance(p, dict) and p.get("subject") for p in ps)
    subject = body.get("subject")
    if subject is None and not (has_template or every_p_has_subject):
        errors.append(
            error(
                "The subject is required. You can get around this requirement if you use a template "
                "with a subject defined or if every single personalization has a subject defined.",
                "subject",
            )
        )
    elif subject is not None and (not isinstance(subject, str) or not subject):
        errors.append(error("The subject must be a string at least one character in length.", "subject"))
    _content(body.get("content"), has_template, errors)
    cats = body.get("categories", [])
    if not isinstance(cats, list) or len(cats) > MAX_CATEGORIES:
        errors.append(
            error(
                f"Too many categories on this message. The max number of categories is {MAX_CATEGORIES}.", "categories"
            )
        )
    else:
        for i, cat in enumerate(cats):
            if not isinstance(cat, str) or len(cat) > MAX_CATEGORY_LEN:
                errors.append(
                    error(f"A category must be a string of at most {MAX_CATEGORY_LEN} characters.", f"categories.{i}")
                )
    if "headers" in body:
        _headers(body["headers"], "headers", errors)
    _send_at(body.get("send_at"), "send_at", now, errors)
    return errors


def _content(content: Any, has_template: bool, errors: list) -> None:
    if content is None and has_template:
        return
    if not isinstance(content, list) or not content:
        errors.append(
            error(
                "Unless a valid template_id is provided, the content parameter is required. There must "
                "be at least one defined content block.",
                "content",
            )
        )
        return
    types = []
    for i, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not part["type"]:
            errors.append(
                error("The content type must be a string at least one character in length.", f"content.{i}.type")
            )
            continue
        types.append(part["type"])
        if not isinstance(part.get("value"), str) or not part["value"]:
            errors.append(
                error("The content value must be a string at least one character in length.", f"content.{i}.value")
            )
    order = [t for t in types if t in ("text/plain", "text/html")]
    if types[: len(order)] != order or order not in (["text/plain"], ["text/html"], ["text/plain", "text/html"]):
        errors.append(
            error(
                "If present, text/plain and text/html may only be provided in order, followed by any other content.",
                "content",
            )
        )


def _send_at(value: Any, where: str, now: float, errors: list) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value > now + MAX_SEND_AHEAD:
        errors.append(
            error("The send_at parameter must be a unix timestamp no more than 72 hours in the future.", where)
        )


class IdSet:
    """Which ids (non-negative integers) were seen, and which more than once: two bitmaps of one bit per id, so the
    benchmark's 1,000,000 delivery ids take 250 KB, and a duplicate or a missing email is found by id, not by count."""

    LIMIT = 1 << 27  # larger ids are refused rather than grow the bitmaps past 32 MB

    def __init__(self) -> None:
        self.seen = bytearray()
        self.again = bytearray()  # seen at least twice
        self.duplicates = 0  # every sighting after an id's first

    def add(self, n: int) -> bool:
        """Record one sighting; False (nothing recorded) for an id out of range."""
        if not 0 <= n < self.LIMIT:
            return False
        byte, bit = n >> 3, 1 << (n & 7)
        if byte >= len(self.seen):
            grow = max(byte + 1, 2 * len(self.seen)) - len(self.seen)
            self.seen.extend(bytes(grow))
            self.again.extend(bytes(grow))
        if self.seen[byte] & bit:
            self.again[byte] |= bit
            self.duplicates += 1
        else:
            self.seen[byte] |= bit
        return True

    def __contains__(self, n: int) -> bool:
        return 0 <= n >> 3 < len(self.seen) and bool(self.seen[n >> 3] & 1 << (n & 7))

    def __len__(self) -> int:
        return int.from_bytes(self.seen, "little").bit_count()

    def to_json(self) -> dict[str, Any]:
        """Both bitmaps, zlib-compressed and base64-encoded (bit n of the little-endian number is id n)."""
        return {"seen": _pack(self.seen), "again": _pack(self.again), "duplicates": self.duplicates}

    @staticmethod
    def bits(packed: str) -> int:
        """A bitmap from `to_json` as one integer: id n is in it when bit n is set."""
        return int.from_bytes(zlib.decompress(base64.b64decode(packed)), "little")


def _pack(bitmap: bytearray) -> str:
    return base64.b64encode(zlib.compress(bytes(bitmap))).decode("ascii")


@dataclass(frozen=True)
class Sent:
    """One accepted email: a personalization's recipient, its custom_args and the request's message id."""

    email: str
    custom_args: dict[str, str]
    message_id: str
    substitutions: dict[str, str]


@dataclass(frozen=True)
class Exchange:
    """One request the server answered (or hung on): status 0 means no answer was given."""

    status: int
    body: Any  # the request's JSON (None if it was not JSON or not read)
    reply: Any  # the JSON answered (SendGrid's error body), None for 200/202 and hangs


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    reply: Any = None
    request: Any = None
    hang: _Fault | None = None


@dataclass
class _Fault:
    status: int | None  # None: hang
    retry_after: int = 1
    seconds: float = 60.0  # how long a hang lasts before the connection is closed unanswered
    deliver: bool = False  # a hang that still sends the emails (the answer, not the send, was lost)


@dataclass
class SendGridServer:
    """The server, run in a background thread on 127.0.0.1 (a free port unless given)."""

    api_key: str = API_KEY
    port: int = 0
    forbidden_keys: frozenset[str] = frozenset()  # valid keys without the mail.send permission: 403
    clock: Any = time.time
    exchanges: list[Exchange] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)
    # For the benchmark: count requests and accepted emails instead of keeping them (`exchanges` and `sent` stay
    # empty); the ids are kept either way.
    light: bool = False
    # The custom_args key whose value identifies an email (the product sends its delivery id under this name).
    id_arg: str = "delivery_id"
    emails: int = 0
    requests: int = 0
    ids: IdSet = field(default_factory=IdSet)
    unidentified: int = 0  # accepted emails without a usable id under `id_arg`
    last_accepted: float | None = None  # when (unix time) the latest accepted email came in

    def __post_init__(self) -> None:
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> SendGridServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        # A short poll interval makes stop() quick (shutdown waits for the next poll).
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="sendgrid-server", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SendGridServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults ------------------------------------------------------------------------------------------------
    def rate_limit_next(self, n: int, retry_after: int = 1) -> None:
        """Answer the next n requests with 429, Retry-After and X-RateLimit-Reset."""
        self._add(n, _Fault(429, retry_after=retry_after))

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next n requests with a server error."""
        self._add(n, _Fault(status))

    def hang_next(self, n: int, seconds: float = 60.0, deliver: bool = False) -> None:
        """Read the next n requests and answer nothing for `seconds`, then close the connection.

        `deliver=True` records the emails as sent anyway: the worst case, where the send happened and only the
        answer was lost.
        """
        self._add(n, _Fault(None, seconds=seconds, deliver=deliver))

    def reject_address(self, email: str) -> None:
        """Answer 400 naming the personalization of this address, as for an invalid address."""
        with self._lock:
            self.rejected.add(email.lower())

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.exchanges.clear()
            self.sent.clear()
            self.rejected.clear()
            self.emails = self.requests = self.unidentified = 0
            self.ids = IdSet()
            self.last_accepted = None

    def _add(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    # -- what was received ------------------------------------------------------------------------------------
    @property
    def accepted(self) -> list[Any]:
        """Bodies of the requests answered 202."""
        return [x.body for x in self.exchanges if x.status == 202]

    def emails_per_recipient(self) -> Counter[str]:
        return Counter(s.email for s in self.sent)

    # -- one request -------------------------------------------------------------------------------------------
    def answer(self, auth: str | None, raw: bytes) -> _Answer:
        """What to answer to one POST /v3/mail/send."""
        key = auth[len("Bearer ") :] if auth and auth.startswith("Bearer ") else None
        if key is None:
            return _Answer(401, reply=_errors([error("authorization required")]))
        if key in self.forbidden_keys:
            return _Answer(403, reply=_errors([error("access forbidden")]))
        if key != self.api_key:
            return _Answer(
                401, reply=_errors([error("The provided authorization grant is invalid, expired, or revoked")])
            )
        if len(raw) > MAX_BODY:
            return _Answer(
                413, reply=_errors([error("The JSON payload you have included in your request is too large.")])
            )
        try:
            body = orjson.loads(raw)  # SendGrid's parsing is not ours to measure: the bench runs this on the same cores
        except ValueError:
            return _Answer(400, reply=_errors([error("Bad Request")]))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault and fault.status == 429:
            reset = int(self.clock()) + fault.retry_after
            return _Answer(
                429,
                {
                    "Retry-After": str(fault.retry_after),
                    "X-RateLimit-Limit": "600",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                },
                _errors([error("too many requests")]),
                body,
            )
        if fault and fault.status:
            return _Answer(fault.status, reply=_errors([error("Internal server error")]), request=body)
        problems = check_mail(body, self.clock()) + self._rejections(body)
        if problems:
            return _Answer(400, reply=_errors(problems), request=body)
        if fault:  # a hang, on a request that would otherwise be accepted
            return _Answer(0, request=body, hang=fault)
        if ((body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"):
            return _Answer(200, request=body)
        return _Answer(202, {"X-Message-Id": self.record(body)}, request=body)

    def _rejections(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The 400 errors for addresses told to fail, reported with any other errors, as SendGrid does."""
        ps = body.get("personalizations") if isinstance(body, dict) else None
        with self._lock:
            return [
                error("Does not contain a valid address.", f"personalizations.{i}.to.{j}.email")
                for i, p in enumerate(ps if isinstance(ps, list) else [])
                for j, to in enumerate(p.get("to") or [] if isinstance(p, dict) else [])
                if isinstance(to, dict) and str(to.get("email")).lower() in self.rejected
            ]

    def record(self, body: dict[str, Any]) -> str:
        """Keep an accepted request and its emails; returns its message id (22 characters, like SendGrid's)."""
        message_id = secrets.token_urlsafe(16)
        top = body.get("custom_args") or {}
        with self._lock:
            self.last_accepted = time.time()
            for p in body["personalizations"]:
                args = {**top, **p["custom_args"]} if "custom_args" in p else top
                self.emails += len(p["to"])
                self._identify(args.get(self.id_arg), len(p["to"]))
                if not self.light:
                    self.sent.extend(Sent(to["email"], args, message_id, p.get("substitutions", {})) for to in p["to"])
        return message_id

    def _identify(self, value: Any, emails: int) -> None:
        """Record an accepted personalization's id once per email it holds (the caller holds the lock)."""
        for _ in range(emails):
            if not (isinstance(value, str) and value.isascii() and value.isdigit() and self.ids.add(int(value))):
                self.unidentified += 1


def _errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": errors, "id": secrets.token_hex(16)}


class _Handler(BaseHTTPRequestHandler):
    owner: SendGridServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet: tests read `exchanges`, not stderr
        pass

    def _read(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, headers: dict[str, str], body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self._read()
        if self.path.startswith("/_test/"):
            return self._control(raw)
        if self.path != "/v3/mail/send":
            return self._reply(404, {}, _errors([error("not found")]))
        owner = self.owner
        answer = owner.answer(self.headers.get("Authorization"), raw)
        with owner._lock:
            owner.requests += 1
            if not owner.light:
                owner.exchanges.append(Exchange(answer.status, answer.request, answer.reply))
        if answer.hang:
            if answer.hang.deliver:
                owner.record(answer.request)
            owner._stopping.wait(answer.hang.seconds)
            self.close_connection = True  # no answer at all: the client sees a timeout or a closed connection
            return
        self._reply(answer.status, answer.headers, answer.reply)

    def do_GET(self) -> None:
        self._control(b"")

    def _control(self, raw: bytes) -> None:
        """Test-only endpoints, so a server in another process can be steered and read."""
        o, path = self.owner, self.path
        data = json.loads(raw or b"{}")
        if path == "/_test/faults" and self.command == "POST":
            n = int(data.get("count", 1))
            kind = data.get("kind")
            if kind == "rate_limit":
                o.rate_limit_next(n, int(data.get("retry_after", 1)))
            elif kind == "error":
                o.fail_next(n, int(data.get("status", 500)))
            elif kind == "hang":
                o.hang_next(n, float(data.get("seconds", 60)), bool(data.get("deliver", False)))
            else:
                return self._reply(400, {}, {"error": f"unknown fault kind {kind!r}"})
        elif path == "/_test/reject" and self.command == "POST":
            o.reject_address(data["email"])
        elif path == "/_test/reset" and self.command == "POST":
            o.reset()
        elif path == "/_test/sent":
            with o._lock:
                return self._reply(200, {}, [asdict(s) for s in o.sent])
        elif path == "/_test/count":
            with o._lock:
                return self._reply(
                    200, {}, {"requests": o.requests, "emails": o.emails, "last_accepted": o.last_accepted}
                )
        elif path == "/_test/ids":
            with o._lock:
                return self._reply(
                    200,
                    {},
                    {"arg": o.id_arg, "emails": o.emails, "unidentified": o.unidentified, **o.ids.to_json()},
                )
        elif path == "/_test/requests":
            with o._lock:
                return self._reply(200, {}, [{"status": x.status} for x in o.exchanges])
        else:
            return self._reply(404, {}, {"error": "unknown control path"})
        self._reply(200, {}, {"ok": True})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SendGrid v3 mail/send server for tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--light", action="store_true", help="keep counts and ids, not requests (benchmark)")
    parser.add_argument("--id-arg", default="delivery_id", help="the custom_args key that identifies an email")
    args = parser.parse_args(argv)
    server = SendGridServer(api_key=args.api_key, port=args.port, light=args.light, id_arg=args.id_arg).start()
    print(f"listening on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
