"""Delivering the outbox over SMTP: claim due messages, send them, record the outcome.

A pass (:func:`deliver_due`) works in three steps, never holding a database
transaction open across the network:

1. **Claim**, in one short transaction: the due rows (not sent, not failed,
   ``next_attempt_at`` reached, no live claim) get ``claimed_by`` = this
   worker and ``claimed_until`` = now + ``outbox.claim_seconds``. On
   PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED``, so workers
   claiming at the same moment take disjoint rows without waiting; on SQLite
   the transaction starts with ``BEGIN IMMEDIATE`` (see :mod:`gateway.db`), so
   claims are serialised and the second worker sees the first one's claims.
2. **Send** each claimed message over one SMTP connection, outside any
   transaction. A worker stops starting new sends once half of its claim time
   has passed and hands the rest back, so a slow server cannot make its claims
   expire under it while a second worker takes them over.
3. **Record**, one transaction per message, and only if the row is still
   claimed by this worker: ``sent_at`` on success; on failure one more
   attempt, the error and the next attempt after an exponential back-off, or
   ``failed_at`` when the failure is permanent (5xx answer to the recipient or
   the content) or ``outbox.max_attempts`` is reached. A message sent or given
   up gets its audit event in that same transaction.

A message is never sent by two workers at once: a live claim keeps every
other worker away. What remains is at-least-once delivery in one case: the
worker dies (or loses the database) after the SMTP server accepted the message
and before step 3 commits. The claim then expires and another worker sends the
message again. It carries the same ``Message-ID`` (fixed when it was queued)
and the same ``Date``, so the receiving side sees one message twice, which
mail stores and clients commonly fold into one, rather than two messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Literal

from sqlmodel import Session, col, select

from gateway.audit.builders import mail_event
from gateway.audit.events import pseudonym
from gateway.audit.log import record
from gateway.db import Database
from gateway.models import OutboxMessage
from gateway.settings import Settings, SmtpSection

logger = logging.getLogger(__name__)

#: longest wait between two attempts, whatever the back-off says
MAX_RETRY_SECONDS = 6 * 3600
PURPOSE = "envoi d'un message transactionnel"
ORIGIN = "cli outbox deliver"
ERROR_MAX = 300

Verdict = Literal["sent", "retry", "failed"]


@dataclass
class DeliveryReport:
    """What one pass did: messages sent, scheduled again, given up, handed back unsent."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.deferred

    def __str__(self) -> str:
        text = f"sent {self.sent}, retried {self.retried}, failed {self.failed}"
        return text + (f", deferred {self.deferred}" if self.deferred else "")


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    error: str | None = None


def new_worker_id() -> str:
    """Who holds a claim: host, process and a random part (two workers in one process differ)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def retry_delay(attempts: int, first_retry_seconds: int) -> timedelta:
    """The wait after the ``attempts``-th failure: first_retry_seconds, doubled each time, at most 6 hours."""
    exponent = min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(first_retry_seconds * 2**exponent, MAX_RETRY_SECONDS))


def deliver_due(
    db: Database, settings: Settings, *, now: datetime | None = None, limit: int = 100, worker: str | None = None
) -> DeliveryReport:
    """Send the messages that are due now; safe to run from any number of workers at once.

    ``now`` fixes the clock (tests); otherwise each step reads the time when it runs.
    """
    me = worker or new_worker_id()

    def clock() -> datetime:
        return now if now is not None else datetime.now(UTC)

    report = DeliveryReport()
    claimed = claim_due(db, settings, worker=me, now=clock(), limit=limit)
    if not claimed:
        return report
    stop_sending_at = time.monotonic() + settings.outbox.claim_seconds / 2
    with Mailer(settings.smtp) as mailer:
        for message in claimed:
            if time.monotonic() > stop_sending_at:
                release(db, message, worker=me)
                report.deferred += 1
                continue
            outcome = mailer.send(build_email(message, settings.smtp.sender), message.recipient)
            verdict = record_outcome(db, settings, message, outcome, worker=me, now=clock())
            if verdict == "sent":
                report.sent += 1
            elif verdict == "failed":
                report.failed += 1
            elif verdict == "retry":
                report.retried += 1
    return report


def claim_due(db: Database, settings: Settings, *, worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    """Mark up to ``limit`` due messages as this worker's for ``claim_seconds``, in one short transaction."""
    until = now + timedelta(seconds=settings.outbox.claim_seconds)
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= now,
            col(OutboxMessage.claimed_until).is_(None) | (col(OutboxMessage.claimed_until) < now),
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query))
        for row in rows:
            row.claimed_by = worker
            row.claimed_until = until
            session.add(row)
    return rows


def release(db: Database, message: OutboxMessage, *, worker: str) -> None:
    """Hand a claimed message back unsent, for the next pass of any worker."""
    with db.session() as session:
        row = session.get(OutboxMessage, message.id, with_for_update=True)
        if row is not None and row.claimed_by == worker and row.sent_at is None:
            row.claimed_by = None
            row.claimed_until = None
            session.add(row)


def record_outcome(
    db: Database, settings: Settings, message: OutboxMessage, outcome: Outcome, *, worker: str, now: datetime
) -> Verdict | None:
    """Write what happened to one message; None when another worker had taken it over meanwhile."""
    with db.session() as session:
        row = session.get(OutboxMessage, message.id, with_for_update=True)
        if row is None or row.claimed_by != worker or row.sent_at is not None or row.failed_at is not None:
            logger.warning("outbox message %s was taken over by another worker; outcome not recorded", message.id)
            return None
        row.claimed_by = None
        row.claimed_until = None
        verdict = outcome.verdict
        if verdict == "sent":
            row.sent_at = now
            _audit(session, settings, row, "outbox.sent")
        else:
            row.attempts += 1
            row.last_error = (outcome.error or "unknown error")[:ERROR_MAX]
            if verdict == "retry" and row.attempts >= settings.outbox.max_attempts:
                verdict = "failed"
            if verdict == "failed":
                row.failed_at = now
                _audit(session, settings, row, "outbox.failed")
                logger.error(
                    "outbox message %s (%s) given up after %d attempt(s): %s",
                    row.id,
                    row.kind,
                    row.attempts,
                    row.last_error,
                )
            else:
                row.next_attempt_at = now + retry_delay(row.attempts, settings.outbox.first_retry_seconds)
                logger.warning(
                    "outbox message %s (%s): attempt %d failed, next at %s: %s",
                    row.id,
                    row.kind,
                    row.attempts,
                    row.next_attempt_at.isoformat(),
                    row.last_error,
                )
        session.add(row)
    return verdict


def _audit(session: Session, settings: Settings, row: OutboxMessage, action: str) -> None:
    event = mail_event(action, commune=row.commune, resource=f"outbox/{row.id}",
                       subject=pseudonym(settings.secret_key, "email", row.recipient), purpose=PURPOSE, origin=ORIGIN,
                       outcome="success" if action == "outbox.sent" else "failure")  # fmt: skip
    record(session, event)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The message as sent: UTF-8 plain text with the row's fixed Message-ID and date."""
    display_name, address = parseaddr(sender)
    email = EmailMessage()
    # an Address object keeps "Guichet (démonstration)" whole: as raw text the parentheses would be a comment
    email["From"] = Address(display_name=display_name, addr_spec=address)
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(as_utc(message.created_at))
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    email["Content-Language"] = message.locale
    # quoted-printable keeps non-ASCII text 7-bit clean for servers without 8BITMIME
    email.set_content(message.body, charset="utf-8", cte=None if message.body.isascii() else "quoted-printable")
    return email


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Mailer:
    """One SMTP connection for a pass, opened on first use and again after a broken one.

    A fault while connecting (server down, TLS, authentication, a missing
    password variable) is a fault of the configuration or the server, not of a
    message: every message of the pass is then retried later, none given up.
    """

    def __init__(self, config: SmtpSection) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.unreachable: str | None = None
        self.envelope_from = parseaddr(config.sender)[1]

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, email: EmailMessage, recipient: str) -> Outcome:
        if self.unreachable is not None:
            return Outcome("retry", self.unreachable)
        if self.connection is None:
            try:
                self.connection = self._connect()
            except Exception as error:
                self.unreachable = "cannot connect: " + describe(error)
                return Outcome("retry", self.unreachable)
        try:
            self.connection.send_message(email, from_addr=self.envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            return Outcome("failed" if codes and all(code >= 500 for code in codes) else "retry", describe(error))
        except smtplib.SMTPDataError as error:
            return Outcome("failed" if error.smtp_code >= 500 else "retry", describe(error))
        except Exception as error:  # disconnected, timed out, sender refused, ...: try again later
            self.close()
            return Outcome("retry", describe(error))
        return Outcome("sent")

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        password = None
        if config.username:
            if not config.password_env or not os.environ.get(config.password_env):
                variable = config.password_env or "(smtp.password_env unset)"
                raise SmtpConfigError(f"smtp.username is set but the password variable {variable} is empty")
            password = os.environ[config.password_env]
        connection: smtplib.SMTP
        if config.security == "tls":
            connection = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        try:
            connection.ehlo()
            if config.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if config.username and password is not None:
                connection.login(config.username, password)
        except BaseException:
            _quietly_close(connection)
            raise
        return connection

    def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(connection)


class SmtpConfigError(Exception):
    """The [smtp] settings cannot work as written."""


def _quietly_close(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        connection.close()


def describe(error: BaseException) -> str:
    """A one-line account of an SMTP or network fault, without credentials (smtplib puts none in its errors)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "recipient refused: " + "; ".join(
            f"{code} {_decode(answer)}" for code, answer in error.recipients.values()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{type(error).__name__}: {error.smtp_code} {_decode(error.smtp_error)}"
    elif isinstance(error, ssl.SSLError):
        text = f"TLS error: {error.reason or error}"
    elif isinstance(error, TimeoutError):
        text = "timed out"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:ERROR_MAX]


def _decode(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


def run_worker(
    db: Database,
    settings: Settings,
    every_seconds: float,
    stop_event: threading.Event,
    *,
    on_pass: Callable[[DeliveryReport], None] | None = None,
) -> None:
    """Deliver what is due every ``every_seconds`` until ``stop_event`` is set.

    A full batch is followed by another pass at once. A pass that fails (the
    database unreachable, say) is logged and tried again at the next tick: the
    worker keeps running, and claims it could not release expire by themselves.
    """
    worker = new_worker_id()
    limit = 100
    while not stop_event.is_set():
        try:
            report = deliver_due(db, settings, limit=limit, worker=worker)
        except Exception:
            logger.exception("outbox delivery pass failed; trying again in %s s", every_seconds)
            report = DeliveryReport()
        if on_pass is not None and report.handled:
            on_pass(report)
        if report.handled >= limit and not report.deferred:
            continue
        stop_event.wait(every_seconds)
