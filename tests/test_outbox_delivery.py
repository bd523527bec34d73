"""Outbox delivery to a real SMTP server on loopback: once, with back-off, never twice, audited."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import logging
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from sqlmodel import col, select

from gateway.audit.checkpoint import generate_signer
from gateway.audit.events import pseudonym
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.cli import main
from gateway.db import Database
from gateway.models import AuditEntry, OutboxMessage
from gateway.notify import delivery
from gateway.notify.delivery import MAX_RETRY_SECONDS, deliver_due, retry_delay, run_worker
from gateway.notify.outbox import enqueue
from gateway.settings import Settings, load_settings
from gateway.testing import ConfigFolder, migrate
from tests.guichet_commands import WAIT, guichet

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
BODY = "Bonjour Camille,\n\nVotre demande n° 2026-000042 a été acceptée : 12,50 € à régler.\n\n— La mairie"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Handler:
    """Collects what the server accepts; can refuse recipients or run code while receiving."""

    received: list[Any] = field(default_factory=list)
    refuse_rcpt: str | None = None
    during_data: Callable[[], None] | None = None
    delay: float = 0.0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.during_data is not None:
            self.during_data()
        if self.delay:
            time.sleep(self.delay)
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [
            str(email.message_from_bytes(item.content, policy=email.policy.default)["Message-ID"])
            for item in self.received
        ]


class SmtpServer:
    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@dataclass
class Outbox:
    """A migrated database, its settings pointing at an SMTP port, and helpers to look at the rows."""

    config: ConfigFolder
    db: Database
    url: str

    def settings(self, **sections: dict[str, Any]) -> Settings:
        self.config.set_gateway(**sections)
        return load_settings(self.config.path)

    def add(
        self,
        number: int = 1,
        *,
        recipient: str = "camille.martin@example.org",
        commune: str | None = None,
        now: datetime = NOW,
    ) -> int:
        with self.db.session() as session:
            message = enqueue(
                session,
                kind="test.notice",
                dedupe_key=f"test:{number}",
                recipient=recipient,
                subject="Votre demande a été acceptée",
                body=BODY,
                commune=commune,
                now=now,
                domain="guichet.example",
            )
        assert message.id is not None
        return message.id

    def rows(self) -> list[OutboxMessage]:
        with self.db.session() as session:
            return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))

    def row(self, message_id: int) -> OutboxMessage:
        with self.db.session() as session:
            found = session.get(OutboxMessage, message_id)
            assert found is not None
            return found

    def audit(self) -> list[AuditEntry]:
        with self.db.session() as session:
            return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))))

    def update(self, message_id: int, **values: Any) -> None:
        with self.db.session() as session:
            row = session.get(OutboxMessage, message_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)


@pytest.fixture
def outbox(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Outbox]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    db = Database(guichet_database_url)
    yield Outbox(guichet_config, db, guichet_database_url)
    db.dispose()


def smtp_settings(outbox: Outbox, port: int, **smtp: Any) -> Settings:
    return outbox.settings(smtp={"host": "127.0.0.1", "port": port, "timeout_seconds": 20, **smtp})


# Delivery --------------------------------------------------------------------------------------


def test_due_message_is_delivered_once_with_its_headers_and_utf8_body(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [envelope] = smtp.handler.received
    assert envelope.mail_from == "ne-pas-repondre@guichet.example"
    assert envelope.rcpt_tos == ["camille.martin@example.org"]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    row = outbox.row(message_id)
    [sender] = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Guichet (démonstration)", "ne-pas-repondre@guichet.example")
    assert received["To"] == "camille.martin@example.org"
    assert received["Subject"] == "Votre demande a été acceptée"
    assert received["Message-ID"] == row.message_id
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"].datetime == NOW
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert received.get_content().replace("\r\n", "\n").rstrip("\n") == BODY
    assert envelope.content.isascii()  # 7-bit clean on the wire (quoted-printable, RFC 2047)


def test_delivered_message_is_marked_sent_and_unclaimed(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    row = outbox.row(message_id)
    assert row.sent_at is not None and row.failed_at is None
    assert (row.claimed_by, row.claimed_until, row.attempts, row.last_error) == (None, None, 0, None)


def test_second_pass_sends_nothing(outbox: Outbox, smtp: SmtpServer) -> None:
    outbox.add()
    settings = smtp_settings(outbox, smtp.port)
    deliver_due(outbox.db, settings, now=NOW)
    report = deliver_due(outbox.db, settings, now=NOW + timedelta(hours=1))
    assert (report.sent, report.retried, report.failed) == (0, 0, 0)
    assert len(smtp.handler.received) == 1


def test_message_not_yet_due_is_left_alone(outbox: Outbox, smtp: SmtpServer) -> None:
    outbox.add()
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW - timedelta(seconds=1))
    assert report.handled == 0 and smtp.handler.received == []


def test_two_concurrent_workers_send_each_message_exactly_once(outbox: Outbox, smtp: SmtpServer) -> None:
    ids = [outbox.add(number) for number in range(24)]
    settings = smtp_settings(outbox, smtp.port)
    smtp.handler.delay = 0.005
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        db = Database(outbox.url)  # an engine of its own, as another process would have
        try:
            start.wait()
            while deliver_due(db, settings, now=NOW, limit=3).handled:
                pass
        except BaseException as error:
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent_ids = smtp.handler.message_ids()
    assert sorted(sent_ids) == sorted(row.message_id for row in outbox.rows())
    assert len(set(sent_ids)) == len(ids)
    assert all(row.sent_at is not None for row in outbox.rows())
    assert len([entry for entry in outbox.audit() if entry.action == "outbox.sent"]) == len(ids)


@pytest.mark.parametrize("guichet_database_url", ["postgresql"], indirect=True)
def test_row_locked_by_another_claimer_is_skipped_not_waited_for(outbox: Outbox, smtp: SmtpServer) -> None:
    locked, free = outbox.add(1), outbox.add(2)
    settings = smtp_settings(outbox, smtp.port)
    with outbox.db.engine.connect() as other:
        transaction = other.begin()
        other.execute(text("SELECT id FROM outbox_message WHERE id = :id FOR UPDATE"), {"id": locked})
        started = time.monotonic()
        report = deliver_due(outbox.db, settings, now=NOW)
        transaction.rollback()
    assert time.monotonic() - started < 5
    assert report.sent == 1
    assert outbox.row(free).sent_at is not None and outbox.row(locked).sent_at is None


def test_message_claimed_by_a_live_worker_is_not_touched(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    outbox.update(message_id, claimed_by="other-host:1:abcd", claimed_until=NOW + timedelta(minutes=2))
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert report.handled == 0 and smtp.handler.received == []
    assert outbox.row(message_id).claimed_by == "other-host:1:abcd"


def test_expired_claim_of_a_dead_worker_is_taken_over(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    outbox.update(message_id, claimed_by="dead-host:1:abcd", claimed_until=NOW - timedelta(seconds=1))
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert report.sent == 1 and len(smtp.handler.received) == 1
    row = outbox.row(message_id)
    assert row.sent_at is not None and row.claimed_by is None


def test_worker_whose_claim_was_taken_over_records_nothing(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    # while our worker is sending, another one takes the message over (say our claim had expired)
    smtp.handler.during_data = lambda: outbox.update(message_id, claimed_by="other-host:2:beef")
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert report.sent == 0
    row = outbox.row(message_id)
    assert row.sent_at is None and row.claimed_by == "other-host:2:beef"
    assert outbox.audit() == []


def test_worker_hands_back_what_it_has_no_claim_time_left_to_send(
    outbox: Outbox, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = outbox.add(1), outbox.add(2)
    ticks = iter([0.0, 1.0, 1000.0])  # the claim window starts; first send in time; then too late
    monkeypatch.setattr(delivery, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert (report.sent, report.deferred) == (1, 1)
    assert outbox.row(first).sent_at is not None
    row = outbox.row(second)
    assert (row.sent_at, row.claimed_by, row.attempts) == (None, None, 0)


# Failures and retries --------------------------------------------------------------------------


def test_server_down_schedules_a_retry_with_back_off(outbox: Outbox) -> None:
    message_id = outbox.add()
    report = deliver_due(outbox.db, smtp_settings(outbox, free_port()), now=NOW)
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = outbox.row(message_id)
    assert row.attempts == 1 and row.sent_at is None and row.failed_at is None
    assert row.claimed_by is None and row.claimed_until is None
    assert delivery.as_utc(row.next_attempt_at) == NOW + timedelta(seconds=60)
    assert row.last_error is not None and row.last_error.startswith("cannot connect: ConnectionRefusedError")


def test_back_off_doubles_after_each_failure(outbox: Outbox) -> None:
    message_id = outbox.add()
    settings = smtp_settings(outbox, free_port())
    deliver_due(outbox.db, settings, now=NOW)
    second = NOW + timedelta(seconds=60)
    deliver_due(outbox.db, settings, now=second)
    row = outbox.row(message_id)
    assert row.attempts == 2
    assert delivery.as_utc(row.next_attempt_at) == second + timedelta(seconds=120)


def test_back_off_is_capped_at_six_hours() -> None:
    assert retry_delay(1, 60) == timedelta(seconds=60)
    assert retry_delay(3, 60) == timedelta(seconds=240)
    assert retry_delay(20, 60) == timedelta(seconds=MAX_RETRY_SECONDS) == timedelta(hours=6)


def test_retried_message_waits_then_is_delivered_once_the_server_is_up(outbox: Outbox) -> None:
    message_id = outbox.add()
    port = free_port()
    settings = smtp_settings(outbox, port)
    deliver_due(outbox.db, settings, now=NOW)
    with SmtpServer(port) as server:
        assert deliver_due(outbox.db, settings, now=NOW + timedelta(seconds=30)).handled == 0
        report = deliver_due(outbox.db, settings, now=NOW + timedelta(seconds=61))
    assert report.sent == 1 and len(server.handler.received) == 1
    assert outbox.row(message_id).sent_at is not None


def test_unreachable_server_is_tried_once_per_pass_not_once_per_message(outbox: Outbox) -> None:
    for number in range(3):
        outbox.add(number)
    report = deliver_due(outbox.db, smtp_settings(outbox, free_port()), now=NOW)
    assert report.retried == 3
    assert {row.last_error for row in outbox.rows()} == {outbox.rows()[0].last_error}


def test_permanent_refusal_fails_the_message_at_once(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    smtp.handler.refuse_rcpt = "550 5.1.1 Mailbox unavailable"
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    row = outbox.row(message_id)
    assert row.failed_at is not None and row.attempts == 1
    assert row.last_error is not None and "550 5.1.1 Mailbox unavailable" in row.last_error


def test_temporary_refusal_is_retried(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    smtp.handler.refuse_rcpt = "450 4.2.0 Greylisted, try again later"
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    assert report.retried == 1
    assert outbox.row(message_id).failed_at is None


def test_max_attempts_fails_the_message_and_logs_an_error(outbox: Outbox, caplog: pytest.LogCaptureFixture) -> None:
    message_id = outbox.add()
    settings = outbox.settings(smtp={"port": free_port()}, outbox={"max_attempts": 2, "first_retry_seconds": 10})
    deliver_due(outbox.db, settings, now=NOW)
    with caplog.at_level(logging.ERROR, logger="gateway.notify.delivery"):
        report = deliver_due(outbox.db, settings, now=NOW + timedelta(seconds=10))
    assert report.failed == 1
    row = outbox.row(message_id)
    assert row.attempts == 2 and row.failed_at is not None
    [log] = [entry for entry in caplog.records if entry.levelno == logging.ERROR]
    assert f"outbox message {message_id} (test.notice) given up after 2 attempt(s)" in log.getMessage()
    assert "camille" not in log.getMessage()


def test_failed_message_is_never_tried_again(outbox: Outbox, smtp: SmtpServer) -> None:
    outbox.add()
    smtp.handler.refuse_rcpt = "550 5.1.1 Mailbox unavailable"
    settings = smtp_settings(outbox, smtp.port)
    deliver_due(outbox.db, settings, now=NOW)
    smtp.handler.refuse_rcpt = None
    assert deliver_due(outbox.db, settings, now=NOW + timedelta(days=1)).handled == 0
    assert smtp.handler.received == []


# TLS and authentication ------------------------------------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by ssl.create_default_context() through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def only(login: bytes, password: bytes) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        # handled=False: aiosmtpd then answers 535 itself on failure
        return AuthResult(success=(auth_data.login, auth_data.password) == (login, password), handled=False)

    return authenticate


def test_starttls_with_login_delivers(
    outbox: Outbox, certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_TEST_SMTP_PASSWORD", "s3cret-pass")
    outbox.add()
    options = {"tls_context": certificate, "require_starttls": True, "authenticator": only(b"guichet", b"s3cret-pass")}
    with SmtpServer(**options) as server:
        settings = smtp_settings(
            outbox, server.port, security="starttls", username="guichet", password_env="GUICHET_TEST_SMTP_PASSWORD"
        )
        report = deliver_due(outbox.db, settings, now=NOW)
    assert report.sent == 1 and len(server.handler.received) == 1


def test_implicit_tls_delivers(outbox: Outbox, certificate: ssl.SSLContext) -> None:
    outbox.add()
    with SmtpServer(ssl_context=certificate) as server:
        report = deliver_due(outbox.db, smtp_settings(outbox, server.port, security="tls"), now=NOW)
    assert report.sent == 1 and len(server.handler.received) == 1


def test_implicit_tls_against_a_plain_server_is_retried_with_a_clear_error(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port, security="tls"), now=NOW)
    assert report.retried == 1
    error = outbox.row(message_id).last_error
    assert error is not None and error.startswith("cannot connect: TLS error")


def test_starttls_against_a_server_without_it_is_retried_with_a_clear_error(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    report = deliver_due(outbox.db, smtp_settings(outbox, smtp.port, security="starttls"), now=NOW)
    assert report.retried == 1
    error = outbox.row(message_id).last_error
    assert error is not None and "STARTTLS extension not supported" in error


def test_untrusted_certificate_is_refused(outbox: Outbox, certificate: ssl.SSLContext, tmp_path: Path) -> None:
    message_id = outbox.add()
    with SmtpServer(ssl_context=certificate) as server:
        # trust nothing: the server's self-signed certificate must not be accepted
        empty = tmp_path / "empty.pem"
        empty.write_text("", encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SSL_CERT_FILE", str(empty))
            report = deliver_due(outbox.db, smtp_settings(outbox, server.port, security="tls"), now=NOW)
    assert report.retried == 1 and server.handler.received == []
    error = outbox.row(message_id).last_error
    assert error is not None and "CERTIFICATE_VERIFY_FAILED" in error


def test_missing_password_variable_is_retried_and_named(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    settings = smtp_settings(outbox, smtp.port, username="guichet", password_env="GUICHET_TEST_UNSET_SMTP_PASSWORD")
    assert deliver_due(outbox.db, settings, now=NOW).retried == 1
    error = outbox.row(message_id).last_error
    assert error is not None and "GUICHET_TEST_UNSET_SMTP_PASSWORD" in error


def test_wrong_password_is_retried_and_never_written_down(
    outbox: Outbox, certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUICHET_TEST_SMTP_PASSWORD", "wrong-pass-4242")
    message_id = outbox.add()
    options = {"tls_context": certificate, "require_starttls": True, "authenticator": only(b"guichet", b"right")}
    with SmtpServer(**options) as server:
        settings = smtp_settings(
            outbox, server.port, security="starttls", username="guichet", password_env="GUICHET_TEST_SMTP_PASSWORD"
        )
        assert deliver_due(outbox.db, settings, now=NOW).retried == 1
    row = outbox.row(message_id)
    assert row.failed_at is None
    assert row.last_error is not None and "535" in row.last_error and "wrong-pass-4242" not in row.last_error


# Audit ---------------------------------------------------------------------------------------------


def test_sent_message_is_audited_in_the_same_transaction(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add(commune="venissieux")
    settings = smtp_settings(outbox, smtp.port)
    deliver_due(outbox.db, settings, now=NOW)
    [entry] = outbox.audit()
    assert (entry.action, entry.outcome, entry.resource) == ("outbox.sent", "success", f"outbox/{message_id}")
    assert (entry.actor_id, entry.actor_role, entry.commune) == ("system", "system", "venissieux")
    assert entry.purpose == "envoi d'un message transactionnel" and entry.origin == "cli outbox deliver"
    assert entry.subject == pseudonym(settings.secret_key, "email", "camille.martin@example.org")


def test_failed_message_is_audited_as_a_failure(outbox: Outbox, smtp: SmtpServer) -> None:
    message_id = outbox.add()
    smtp.handler.refuse_rcpt = "550 5.1.1 Mailbox unavailable"
    deliver_due(outbox.db, smtp_settings(outbox, smtp.port), now=NOW)
    [entry] = outbox.audit()
    assert (entry.action, entry.outcome, entry.resource) == ("outbox.failed", "failure", f"outbox/{message_id}")


def test_retries_are_not_audited(outbox: Outbox) -> None:
    outbox.add()
    deliver_due(outbox.db, smtp_settings(outbox, free_port()), now=NOW)
    assert outbox.audit() == []


# The worker loop -------------------------------------------------------------------------------


def test_worker_loop_delivers_then_stops_when_asked(outbox: Outbox, smtp: SmtpServer) -> None:
    outbox.add(now=datetime.now(UTC) - timedelta(seconds=1))  # the loop reads the real clock
    settings = smtp_settings(outbox, smtp.port)
    stop = threading.Event()
    reports: list[delivery.DeliveryReport] = []

    def on_pass(report: delivery.DeliveryReport) -> None:
        reports.append(report)
        stop.set()

    thread = threading.Thread(target=run_worker, args=(outbox.db, settings, 0.05, stop), kwargs={"on_pass": on_pass})
    thread.start()
    thread.join(timeout=30)
    stop.set()
    assert not thread.is_alive()
    assert [report.sent for report in reports] == [1]


# The command -----------------------------------------------------------------------------------


def run(config: ConfigFolder, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args], catch_exceptions=False)


@pytest.fixture
def cli_outbox(config: ConfigFolder) -> Iterator[Outbox]:
    url = f"sqlite:///{config.data_dir / 'guichet.db'}"
    migrate(url)
    db = Database(url)
    yield Outbox(config, db, url)
    db.dispose()


def test_deliver_once_sends_what_is_due_and_prints_the_counts(cli_outbox: Outbox, smtp: SmtpServer) -> None:
    cli_outbox.config.set_gateway(smtp={"port": smtp.port})
    with cli_outbox.db.session() as session:
        enqueue(
            session,
            kind="test.notice",
            dedupe_key="cli:1",
            recipient="camille.martin@example.org",
            subject="Objet",
            body="Texte",
        )
    result = run(cli_outbox.config, "outbox", "deliver", "--once")
    assert result.exit_code == 0
    assert result.output.strip() == "sent 1, retried 0, failed 0"
    assert len(smtp.handler.received) == 1


def test_deliver_refuses_an_unmigrated_database(config: ConfigFolder) -> None:
    result = run(config, "outbox", "deliver", "--once")
    assert result.exit_code == 2 and "guichet db upgrade" in result.output


def test_deliver_loop_sends_then_stops_cleanly_on_sigterm(cli_outbox: Outbox, smtp: SmtpServer) -> None:
    cli_outbox.config.set_gateway(smtp={"port": smtp.port})
    cli_outbox.add(now=datetime.now(UTC) - timedelta(seconds=1))
    command = [
        sys.executable,
        "-m",
        "gateway",
        "--config",
        str(cli_outbox.config.path),
        "outbox",
        "deliver",
        "--every",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not smtp.handler.received and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "sent 1, retried 0, failed 0" in stdout
    assert "stopping after the current pass" in stderr
    assert len(smtp.handler.received) == 1


# A worker killed mid-delivery ------------------------------------------------------------------


@pytest.mark.crash
def test_worker_killed_mid_delivery_then_restarted_loses_nothing_and_repeats_only_the_message_in_flight(
    outbox: Outbox, smtp: SmtpServer
) -> None:
    """SIGKILL while the SMTP server takes message 5 of 12: the documented at-least-once case, and only it.

    Messages 1-4 were recorded as sent before message 5 was handed over (one
    transaction each, before the next send). Message 5 reached the server but
    its outcome was never written: once the dead worker's claims expire
    (``claim_seconds``, 10 s here) the restarted worker sends it again with the
    same Message-ID, then 6-12 once. Nothing is lost, one message is seen
    twice with one Message-ID, each message has one ``outbox.sent`` entry, and
    the audit log verifies.
    """
    count, killed_at = 12, 5
    due = datetime.now(UTC) - timedelta(seconds=1)
    ids = [outbox.add(number, now=due) for number in range(count)]
    outbox.settings(smtp={"host": "127.0.0.1", "port": smtp.port, "timeout_seconds": 20}, outbox={"claim_seconds": 10})
    workers: list[subprocess.Popen[str]] = []

    def kill_the_worker_on_message_5() -> None:
        if len(smtp.handler.received) == killed_at - 1:
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=WAIT)  # dead before the server answers "250"

    smtp.handler.during_data = kill_the_worker_on_message_5
    command = guichet(outbox.config, "outbox", "deliver", "--once")
    workers.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    workers[0].communicate(timeout=WAIT)
    assert workers[0].returncode == -signal.SIGKILL
    assert len([row for row in outbox.rows() if row.sent_at is not None]) == killed_at - 1

    smtp.handler.during_data = None
    restarted = subprocess.Popen(
        guichet(outbox.config, "outbox", "deliver", "--every", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while any(row.sent_at is None for row in outbox.rows()) and time.monotonic() < deadline:
            assert restarted.poll() is None, restarted.communicate()[1]
            time.sleep(0.2)
        restarted.send_signal(signal.SIGTERM)
        restarted.communicate(timeout=WAIT)
    finally:
        if restarted.poll() is None:
            restarted.kill()
            restarted.communicate()
    rows = outbox.rows()
    assert [row.id for row in rows] == ids and all(row.sent_at and not row.failed_at for row in rows)
    received = Counter(smtp.handler.message_ids())
    in_flight = rows[killed_at - 1].message_id
    assert received == {row.message_id: 2 if row.message_id == in_flight else 1 for row in rows}
    sent_entries = Counter(entry.resource for entry in outbox.audit() if entry.action == "outbox.sent")
    assert sent_entries == {f"outbox/{message_id}": 1 for message_id in ids}
    signer = generate_signer("guichet.test/audit")
    seal(outbox.db, signer, "guichet.test/audit")
    report = verify_log(outbox.db, [signer.verifier()])
    assert report.ok, report.findings
