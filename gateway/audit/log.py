"""Appending to the audit log, inside the transaction of the action it records.

Code that reads or changes personal data calls :func:`record` on its session;
the events are appended when that session's transaction is about to commit:
importing this module registers :func:`append_pending` as a commit hook of
the store (:func:`gateway.db.on_commit`), and :func:`record` lives here, so
no event can be queued without it. If the append fails, the commit does not
happen: the action and its record stand or fall together (fail closed).

Appends are serialised — an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE``
on SQLite — and taken at the very end of the transaction, so the lock is held
for the few inserts only. Each append extends the Merkle frontier kept in
``audit_head`` (O(log n)) and stores the running root with the entry, which
lets ``guichet audit verify`` point at the first entry that no longer fits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from gateway import clock
from gateway.audit.events import AuditEvent, encode
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.audit.tiles import extend_tiles
from gateway.db import connection_of, on_commit, pending_work, take_pending_work
from gateway.models import AuditEntry, AuditHead

#: the kind of the session's queued work (:func:`gateway.db.pending_work`) that holds recorded events
PENDING_KIND = "audit events"
#: pg_advisory_xact_lock key: "guichet audit" as a 64-bit integer
ADVISORY_LOCK_KEY = 0x6775696368657421
_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
#: the head is read and written as a row, not an ORM object (an append per batch: its cost counts at 8 clients)
_READ_HEAD = select(_HEAD.c.size, _HEAD.c.frontier).where(_HEAD.c.id == 1)
_WRITE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(size=bindparam("size"), frontier=bindparam("frontier"))


class AuditUnavailable(RuntimeError):
    """The audit log could not be written; the action was rolled back."""


def record(session: Session, event: AuditEvent) -> None:
    """Queue ``event`` to be appended when ``session``'s transaction commits."""
    pending_work(session, PENDING_KIND).append(event)


def pending(session: Session) -> list[AuditEvent]:
    """The events recorded on ``session`` and not appended yet."""
    events: list[AuditEvent] = pending_work(session, PENDING_KIND)
    return events


@on_commit
def append_pending(session: Session) -> None:
    """Append the session's queued events; raises AuditUnavailable so the transaction rolls back."""
    events: list[AuditEvent] = take_pending_work(session, PENDING_KIND)
    if not events:
        return
    try:
        append(session, events)
    except Exception as error:
        raise AuditUnavailable("the audit log could not be written") from error


def _expire_loaded_head(session: Session) -> None:
    """A head this session loaded as an object is read again when next used (it was written around the ORM)."""
    loaded = session.identity_map.get(identity_key(AuditHead, 1))
    if loaded is not None:
        session.expire(loaded)


def append(session: Session, events: list[AuditEvent], *, now: datetime | None = None) -> int:
    """Append ``events`` at the end of the log, in ``session``'s transaction; returns the new size.

    The rows are inserted in one statement, without ORM objects: a listing
    appends one entry per person shown, so the cost per entry is what counts
    (``bench/bench_requests.py``).
    """
    connection = connection_of(session)  # Core statements: no ORM execution around them
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    head = connection.execute(_READ_HEAD).first()
    if head is None:
        raise AuditUnavailable("audit_head is missing: run `guichet db upgrade`")
    frontier = CompactRange.from_dict(head.frontier)
    first_seq = frontier.size
    time = now or clock.now()
    rows = []
    for event in events:
        seq = frontier.size
        encoded = encode(event, seq=seq, time=time)
        leaf = leaf_hash(encoded.encode())
        frontier.append(leaf)
        rows.append(
            {
                "seq": seq,
                "time": time,
                "commune": event.commune,
                "service": event.service,
                "actor_id": event.actor_id,
                "actor_role": event.actor_role,
                "action": event.action,
                "resource": event.resource,
                "subject": event.subject,
                "purpose": event.purpose,
                "origin": event.origin,
                "outcome": event.outcome,
                "encoded": encoded,
                "leaf_hash": leaf,
                "root_after": frontier.root(),
            }
        )
    if rows:
        connection.execute(_ENTRY.insert(), rows)
    connection.execute(_WRITE_HEAD, {"size": frontier.size, "frontier": frontier.to_dict()})
    _expire_loaded_head(session)
    extend_tiles(session, first_seq, frontier.size)  # the Merkle tiles these entries filled (gateway.audit.tiles)
    return frontier.size
