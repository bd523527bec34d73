"""Putting a message in the outbox, in the transaction of the action that causes it.

An action that must tell someone something (an address to verify, a request
decided) calls :func:`enqueue` on the session that performs it. The message
row commits with the action or not at all, so no message is ever sent for an
action that was rolled back, and none is lost for an action that committed.
Delivery happens later, from committed rows only (:mod:`gateway.notify.delivery`).

Idempotence: ``dedupe_key`` names the cause (e.g. ``"verify-email:42:1"``).
When a row with that key is already visible to the session, :func:`enqueue`
returns it and adds nothing, so an action retried after a crash does not
queue its message twice. Two transactions racing with the same key, neither
seeing the other, are not merged silently: the row is flushed at once, the
unique constraint refuses the second, and its whole transaction fails with
:class:`sqlalchemy.exc.IntegrityError` (on PostgreSQL once the first commits;
on SQLite writers are serialised, so the second sees the first row instead).
A caller whose action is itself idempotent may run the transaction again,
which then finds the row.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from email.utils import make_msgid, parseaddr
from typing import Literal

from sqlmodel import Session, select

from gateway import clock
from gateway.batch_rows import add_at_commit
from gateway.models import OutboxMessage
from gateway.models.new_rows import new_row
from gateway.notify.email_addresses import EmailNotValidError, validated

State = Literal["pending", "sent", "failed"]

#: used when the caller gives neither ``domain`` nor ``message_id`` (RFC 6761: never a real domain)
FALLBACK_DOMAIN = "guichet.invalid"
#: every line break str.splitlines() knows: none may reach a mail header
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
#: a line break (or NUL) anywhere in a header value, found in one search rather than a loop over its characters
_BREAK_IN_HEADER = re.compile("[" + re.escape("".join(sorted(_LINE_BREAKS))) + "\x00]")
_LIMITS = {"kind": 60, "dedupe_key": 120, "recipient": 254, "subject": 200, "message_id": 200, "locale": 5}


def enqueue(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    subject: str,
    body: str,
    locale: str = "fr",
    commune: str | None = None,
    now: datetime | None = None,
    domain: str | None = None,
    message_id: str | None = None,
    new_cause: bool = False,
) -> OutboxMessage:
    """Add a message to the outbox within ``session``'s transaction and return its row.

    ``domain`` is the right-hand side of the generated Message-ID; pass
    ``sender_domain(settings.smtp.sender)`` (or a whole ``message_id``). The
    Message-ID is fixed here, once, so every delivery attempt carries the same.
    Raises :class:`ValueError` for an invalid address, a line break in the
    subject or recipient (header injection), or an over-long field.
    ``new_cause``: the cause was created in this very transaction (a request
    just filed), so no earlier message can hold its key and the lookup is
    skipped; the unique key still refuses a duplicate. In a batch
    (:mod:`gateway.group_commit`) such a message is inserted at the batch's
    commit with the others (:mod:`gateway.batch_rows`). A ``recipient`` that is
    a :class:`Recipient` was checked already (outside the transaction) and is
    not checked again.
    """
    address = recipient if isinstance(recipient, Recipient) else checked_recipient(recipient)
    _check_header("subject", subject)
    msgid = message_id or make_msgid(domain=domain or FALLBACK_DOMAIN)
    _check_header("message_id", msgid)
    for name, value in (("kind", kind), ("dedupe_key", dedupe_key), ("locale", locale), ("subject", subject)):
        if not value or len(value) > _LIMITS[name]:
            raise ValueError(f"{name} must be 1 to {_LIMITS[name]} characters long")
    if "\x00" in body:
        raise ValueError("the body may not contain NUL characters")
    existing = None if new_cause else _find(session, dedupe_key)
    if existing is not None:
        return existing
    time = now or clock.now()
    message = new_row(
        OutboxMessage,
        kind=kind,
        dedupe_key=dedupe_key,
        commune=commune,
        recipient=str(address),
        locale=locale,
        subject=subject,
        body=body,
        message_id=msgid,
        created_at=time,
        next_attempt_at=time,
    )
    if new_cause and add_at_commit(session, message):
        return message  # in a batch: inserted with the others at its commit (its key is new, it cannot clash)
    session.add(message)
    session.flush()  # a duplicate key raises here, in the caller's transaction, not later
    return message


def _find(session: Session, dedupe_key: str) -> OutboxMessage | None:
    for pending in session.new:  # added but not flushed (e.g. inside no_autoflush)
        if isinstance(pending, OutboxMessage) and pending.dedupe_key == dedupe_key:
            return pending
    return session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)).first()


class Recipient(str):
    """An address :func:`checked_recipient` accepted, in the form it is stored and sent; only it makes one."""

    __slots__ = ()


def checked_recipient(recipient: str) -> Recipient:
    """The address in the form it is stored and sent (domain in ASCII); ValueError if it is not one."""
    _check_header("recipient", recipient)
    try:
        info = validated(recipient)
    except EmailNotValidError as error:
        raise ValueError(f"recipient is not a valid e-mail address: {error}") from None
    address = info.ascii_email or info.normalized
    if len(address) > _LIMITS["recipient"]:
        raise ValueError(f"recipient must be at most {_LIMITS['recipient']} characters long")
    return Recipient(address)


def _check_header(name: str, value: str) -> None:
    if _BREAK_IN_HEADER.search(value):
        raise ValueError(f"{name} may not contain line breaks (header injection)")
    if len(value) > _LIMITS[name]:
        raise ValueError(f"{name} must be at most {_LIMITS[name]} characters long")


def message_id_for(sender: str) -> str:
    """A new Message-ID on the domain of ``sender`` (a From address), for :func:`enqueue`'s ``message_id``."""
    return make_msgid(domain=sender_domain(sender))


@functools.lru_cache(maxsize=64)
def sender_domain(sender: str) -> str:
    """The domain of a From address such as ``"Guichet <ne-pas-repondre@ville.fr>"``."""
    _name, address = parseaddr(sender)
    domain = address.rpartition("@")[2]
    return domain or FALLBACK_DOMAIN


def state_of(message: OutboxMessage) -> State:
    if message.sent_at is not None:
        return "sent"
    if message.failed_at is not None:
        return "failed"
    return "pending"


def masked(address: str) -> str:
    """An address shown without its owner's name: ``camille@example.org`` -> ``c***@example.org``."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
