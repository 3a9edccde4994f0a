"""The SMTP provider against a real aiosmtpd server on loopback: refusals, dropped connections, STARTTLS, AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from campaigns.authoring.content import StepContent
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.delivery.providers.outbox import OutboxProvider
from campaigns.delivery.providers.smtp import SMTPProvider
from campaigns.errors import ProviderError
from tests.builders import BRAND
from tests.servers import free_port, refused_port

NOW = dt.datetime(2031, 6, 2, 13, 0, tzinfo=dt.UTC)
CONTENT = StepContent(
    subject="Baclofen, lesson 1",
    preheader="Why it matters",
    # A line starting with "." checks SMTP dot-stuffing round-trips.
    html='<p>Hi %%first_name%%,</p>\n.<p>Lesson text, é.</p><a href="%%unsubscribe_url%%">Unsubscribe</a>',
    text="Hi %%first_name%%,\n.\nLesson text, é.\nUnsubscribe: %%unsubscribe_url%%\n",
)
PASSWORD = "s3cret-pass-do-not-log"


def batch(n: int = 5, **kw) -> Batch:
    recipients = tuple(
        Recipient(
            i,
            f"reader{i}@mail.test",
            f"Reader {i}",
            {"first_name": f"R{i}", "unsubscribe_url": f"https://outreach.agape.test/u/t{i}"},
            message_token=f"{i:032x}",
        )
        for i in range(1, n + 1)
    )
    return Batch(CONTENT, BRAND, "baclofen", 1, recipients, **kw)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it received and misbehaves on request."""

    messages: list[tuple[tuple, str, list[str], bytes]] = field(default_factory=list)  # (peer, from, to, data)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply to its RCPT
    drop_in_data: int | None = None  # hang up on the Nth DATA (1-based) after reading it, without answering
    drop_in_mail: int | None = None  # hang up on the Nth MAIL FROM, before any data
    stop_listening_on_drop: bool = False
    controller: Controller | None = None
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    _mails: int = 0
    _datas: int = 0

    @property
    def connections(self) -> int:
        return len({peer for peer, *_ in self.messages})

    def _hang_up(self, server) -> None:
        if self.stop_listening_on_drop:
            self.controller.server.close()  # the listening socket: reconnects are refused from now on
        server.transport.close()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._mails += 1
        if self._mails == self.drop_in_mail:
            self._hang_up(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self._datas += 1
        if self._datas == self.drop_in_data:
            self._hang_up(server)  # the server may or may not have queued it: the client cannot know
            return "250 OK (never heard)"
        self.messages.append((session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers the client itself (535 on failure)
        return AuthResult(
            success=auth_data.login == b"relay" and auth_data.password == PASSWORD.encode(), handled=False
        )


@pytest.fixture
def start_server():
    controllers = []

    def start(recorder: Recorder | None = None, **smtp_kwargs) -> tuple[Recorder, int]:
        recorder = recorder or Recorder()
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **smtp_kwargs)
        recorder.controller = controller
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_tls(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_trusting(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def provider(port: int, **kw) -> SMTPProvider:
    kw.setdefault("security", "none")
    return SMTPProvider("127.0.0.1", port, timeout=10, clock=lambda: NOW, local_hostname="outreach.test", **kw)


def statuses(results) -> list[tuple[int, str]]:
    return [(r.delivery_id, r.status) for r in results]


def test_one_connection_per_batch_and_the_outbox_bytes_on_the_wire(start_server, tmp_path):
    server, port = start_server()
    smtp = provider(port)
    results = smtp.send_batch(batch(5))
    assert statuses(results) == [(i, "accepted") for i in range(1, 6)]
    assert server.connections == 1 and len(server.messages) == 5
    OutboxProvider(tmp_path, clock=lambda: NOW).send_batch(batch(5))
    for i, (_, mail_from, rcpt_tos, data) in enumerate(server.messages, start=1):
        assert mail_from == "learn@agape.test" and rcpt_tos == [f"reader{i}@mail.test"]
        assert data == (tmp_path / "baclofen" / "step-01" / f"{i}.eml").read_bytes()  # byte for byte
        assert f"<{results[i - 1].message_id}>".encode() in data
    smtp.send_batch(batch(2))
    assert server.connections == 2  # a second batch, a second connection


def test_a_refused_recipient_fails_alone(start_server):
    server, port = start_server(
        Recorder(
            refuse={
                "reader2@mail.test": "550 5.1.1 mailbox unavailable",
                "reader4@mail.test": "451 4.7.1 greylisted, try again",
            }
        )
    )
    results = provider(port).send_batch(batch(5))
    assert statuses(results) == [(1, "accepted"), (2, "failed"), (3, "accepted"), (4, "failed"), (5, "accepted")]
    assert results[1].error == "550 5.1.1 mailbox unavailable"
    assert results[3].error == "temporary, retry later: 451 4.7.1 greylisted, try again"
    assert [rcpt for _, _, rcpt, _ in server.messages] == [
        ["reader1@mail.test"],
        ["reader3@mail.test"],
        ["reader5@mail.test"],
    ]
    assert server.connections == 1  # a refusal does not cost the connection


def test_a_drop_after_the_data_leaves_that_one_unknown_and_the_rest_go_on_a_new_connection(start_server, caplog):
    server, port = start_server(Recorder(drop_in_data=3))
    with caplog.at_level(logging.DEBUG, logger="campaigns"):
        results = provider(port).send_batch(batch(5))
    assert statuses(results) == [(1, "accepted"), (2, "accepted"), (3, "unknown"), (4, "accepted"), (5, "accepted")]
    assert results[2].message_id  # kept, so a later reconciliation can look for it
    assert [rcpt for _, _, rcpt, _ in server.messages] == [[f"reader{i}@mail.test"] for i in (1, 2, 4, 5)]
    assert server.connections == 2
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("campaigns"))
    assert "reconnecting" in ours and "@mail.test" not in ours  # ids in our logs, never addresses


def test_a_drop_before_the_data_resends_that_one_on_the_new_connection(start_server):
    server, port = start_server(Recorder(drop_in_mail=3))
    results = provider(port).send_batch(batch(5))
    assert statuses(results) == [(i, "accepted") for i in range(1, 6)]
    assert [rcpt for _, _, rcpt, _ in server.messages] == [[f"reader{i}@mail.test"] for i in range(1, 6)]
    assert server.connections == 2


def test_when_the_server_stays_away_the_rest_fail_but_sent_ones_stay_accepted(start_server):
    server, port = start_server(Recorder(drop_in_data=3, stop_listening_on_drop=True))
    results = provider(port).send_batch(batch(5))
    # Not a ProviderError: two were sent, so retrying the whole batch would mail them twice.
    assert statuses(results) == [(1, "accepted"), (2, "accepted"), (3, "unknown"), (4, "failed"), (5, "failed")]
    assert all(r.error.startswith("connection lost") for r in results[3:])
    assert len(server.messages) == 2


def test_connection_refused_before_anything_was_sent_is_retryable():
    # (A port merely free once sent this test's email to another test's server, started on it meanwhile.)
    with refused_port() as port, pytest.raises(ProviderError, match=r"cannot connect") as err:
        provider(port).send_batch(batch(2))
    assert err.value.retryable and not err.value.fatal


def test_starttls_and_login(start_server, certificate, caplog):
    recorder = Recorder()
    server, port = start_server(
        recorder,
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=recorder.authenticate,
    )
    smtp = provider(
        port, security="starttls", user="relay", password=PASSWORD, ssl_context=client_trusting(certificate)
    )
    assert statuses(smtp.send_batch(batch(2))) == [(1, "accepted"), (2, "accepted")]
    assert server.logins == [(b"relay", PASSWORD.encode())]
    assert len(server.messages) == 2 and server.connections == 1

    refused = pytest.raises(ProviderError, match="login refused for user 'relay'")
    with caplog.at_level(logging.DEBUG, logger="campaigns"), refused as err:
        provider(
            port,
            security="starttls",
            user="relay",
            password="wrong-" + PASSWORD,
            ssl_context=client_trusting(certificate),
        ).send_batch(batch(1))
    assert err.value.fatal  # a wrong password will not fix itself: stop sending
    assert PASSWORD not in str(err.value) and PASSWORD not in caplog.text


def test_starttls_refuses_a_certificate_it_does_not_trust(start_server, certificate):
    server, port = start_server(tls_context=server_tls(certificate), require_starttls=True)
    with pytest.raises(ProviderError, match="certificate not trusted") as err:
        provider(port, security="starttls").send_batch(batch(1))  # system trust store: self-signed is refused
    assert err.value.fatal and server.messages == []


def test_starttls_required_but_not_offered_is_a_setting_error(start_server):
    server, port = start_server()
    with pytest.raises(ProviderError, match="STARTTLS") as err:
        provider(port, security="starttls").send_batch(batch(1))
    assert err.value.fatal and server.messages == []


def test_implicit_tls(start_server, certificate):
    server, port = start_server(ssl_context=server_tls(certificate))
    smtp = provider(port, security="tls", ssl_context=client_trusting(certificate))
    assert statuses(smtp.send_batch(batch(2))) == [(1, "accepted"), (2, "accepted")]
    assert len(server.messages) == 2
