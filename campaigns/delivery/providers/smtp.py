"""SMTP relay provider: one connection per batch, one message per recipient, the same bytes the outbox writes."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from campaigns.delivery.message import build_message
from campaigns.delivery.providers.base import Batch, Recipient, SendResult
from campaigns.delivery.providers.outbox import utc_now
from campaigns.errors import ProviderError

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]


class _ConnectionLost(Exception):
    """The connection broke during one recipient's transaction; `maybe_sent` once the message data went out."""

    def __init__(self, reason: str, *, maybe_sent: bool) -> None:
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class SMTPProvider:
    """Sends through an SMTP server with STARTTLS (port 587), implicit TLS (465) or none (a local relay).

    `ssl_context` defaults to the system's trust store with host name checks; pass one to trust a private CA.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        security: Security = "starttls",
        user: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"SMTP security must be starttls, tls or none, not {security!r}")
        self.host, self.port, self.security = host, port, security
        self.user = user
        self._password = password  # never logged, never in an error message
        self.timeout = timeout
        self.clock = clock or utc_now
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname

    def __repr__(self) -> str:
        return f"SMTPProvider({self.host}:{self.port}, security={self.security}, user={self.user!r})"

    def send_batch(self, batch: Batch) -> list[SendResult]:
        now = self.clock()
        sender = batch.brand.sender_email
        recipients = batch.recipients
        results: list[SendResult] = []
        conn = self._connect()  # nothing sent yet: a failure here is a ProviderError the caller may retry
        reconnected = False
        try:
            i = 0
            while i < len(recipients):
                recipient = recipients[i]
                try:
                    message_id, data = self._message(batch, recipient, now)
                except ValueError as err:  # a recipient we cannot build a message for never blocks the rest
                    results.append(SendResult(recipient.delivery_id, "failed", error=f"cannot build message: {err}"))
                    i += 1
                    continue
                try:
                    refusal = _transact(conn, sender, recipient.email, data)
                except _ConnectionLost as lost:
                    if lost.maybe_sent:
                        # The data went out but no final reply came back: the server may have queued it. "unknown"
                        # is reconciled later; sending it again could deliver it twice.
                        results.append(
                            SendResult(
                                recipient.delivery_id,
                                "unknown",
                                message_id=message_id,
                                error=f"connection lost after the message was sent: {lost}",
                            )
                        )
                        i += 1
                    # else: the server dropped us before the message went out; this recipient is tried again.
                    log.warning(
                        "smtp %s:%s: connection lost mid-batch (campaign=%s step=%s, %d of %d done)%s",
                        self.host,
                        self.port,
                        batch.campaign,
                        batch.step,
                        i,
                        len(recipients),
                        "" if reconnected else "; reconnecting once",
                    )
                    fresh = None if reconnected else self._reconnect()
                    reconnected = True
                    if fresh is None:
                        # Not a ProviderError: some of this batch were already accepted, and retrying the whole
                        # batch would send those twice. The rest come back "failed" so the caller retries only them.
                        results += [
                            SendResult(r.delivery_id, "failed", error=f"connection lost: {lost}")
                            for r in recipients[i:]
                        ]
                        break
                    conn = fresh
                    continue
                if refusal is None:
                    results.append(SendResult(recipient.delivery_id, "accepted", message_id=message_id))
                else:
                    results.append(SendResult(recipient.delivery_id, "failed", error=refusal))
                i += 1
        finally:
            _quit(conn)  # after a lost connection this only closes the socket
        return results

    def _message(self, batch: Batch, recipient: Recipient, now: datetime) -> tuple[str, bytes]:
        html, text = batch.content.fill(recipient.values)
        msg = build_message(batch, recipient, now=now, html=html, text=text)
        return msg["Message-ID"].strip("<>"), msg.as_bytes()

    def _connect(self) -> smtplib.SMTP:
        """A ready connection (TLS and login done); ProviderError retryable on network trouble, fatal on config."""
        where = f"SMTP server {self.host}:{self.port}"
        context = self.ssl_context or ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context, local_hostname=self.local_hostname
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()  # RFC 3207: the server forgets what it said before TLS
            if self.user:
                conn.login(self.user, self._password or "")
            return conn
        except smtplib.SMTPAuthenticationError as err:
            _close(conn)
            reply = _reply(err.smtp_code, err.smtp_error)
            raise ProviderError(
                f"{where}: login refused for user {self.user!r}: {reply}", status=err.smtp_code, fatal=True
            ) from None
        except smtplib.SMTPNotSupportedError as err:  # no STARTTLS or no AUTH offered: a setting is wrong
            _close(conn)
            raise ProviderError(
                f"{where}: {err} (check OUTREACH_SMTP_SECURITY and OUTREACH_SMTP_USER)", fatal=True
            ) from None
        except ssl.SSLCertVerificationError as err:
            _close(conn)
            raise ProviderError(f"{where}: TLS certificate not trusted: {err.verify_message}", fatal=True) from None
        except (smtplib.SMTPException, OSError) as err:
            _close(conn)
            raise ProviderError(f"{where}: cannot connect: {err}", retryable=True) from None

    def _reconnect(self) -> smtplib.SMTP | None:
        try:
            return self._connect()
        except ProviderError as err:
            log.warning("smtp %s:%s: reconnect failed: %s", self.host, self.port, err)
            return None


def _transact(conn: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str | None:
    """One MAIL/RCPT/DATA transaction: None when accepted, else the server's refusal as text.

    Written out instead of `sendmail` to know how far a broken connection got: before DATA nothing was sent (safe
    to try again), after it the server may have queued the message.
    """
    maybe_sent = False
    reply: bytes | str
    try:
        code, reply = conn.mail(sender)
        if code == 250:
            code, reply = conn.rcpt(recipient)
            if code in (250, 251):
                maybe_sent = True
                code, reply = conn.data(data)
                if code == 250:
                    return None
    except smtplib.SMTPDataError as err:  # the server said no to DATA itself (no 354): nothing was sent
        code, reply = err.smtp_code, err.smtp_error
        maybe_sent = False
    except (smtplib.SMTPServerDisconnected, OSError) as err:
        raise _ConnectionLost(str(err) or "server disconnected", maybe_sent=maybe_sent) from None
    except UnicodeEncodeError:  # a non-ASCII address would need SMTPUTF8, which we do not speak
        code, reply = 553, b"address is not ASCII (SMTPUTF8 not supported)"
    if code == 421:  # "service closing": the server is going away and did not take this message
        _close(conn)
        raise _ConnectionLost(_reply(code, reply), maybe_sent=False)
    # End the refused transaction so the next recipient starts clean; after a drop, the next one reconnects.
    with contextlib.suppress(smtplib.SMTPServerDisconnected, OSError):
        conn.rset()
    # 4xx is temporary (greylisting, mailbox busy): worth trying again later; 5xx is final.
    return ("temporary, retry later: " if 400 <= code < 500 else "") + _reply(code, reply)


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        _close(conn)


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()
