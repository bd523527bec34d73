"""Sealing checkpoints: sign the current tree head in the transparency-log note format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from gateway.audit.checkpoint import Checkpoint, Signer, sign_checkpoint
from gateway.audit.events import AuditEvent
from gateway.audit.log import ADVISORY_LOCK_KEY, append
from gateway.audit.merkle import CompactRange
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry, AuditHead


def lock_log(session: Session) -> None:
    """Take the log's append lock (PostgreSQL; SQLite transactions already begin IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


HEARTBEAT = AuditEvent(
    action="audit.seal",
    actor_id="system",
    actor_role="system",
    resource="audit/log",
    purpose="keeping the log's seal fresh while nothing else happens",
    origin="cli audit checkpoint",
)


def seal(
    db: Database, signer: Signer, origin: str, *, heartbeat_after: timedelta | None = None, now: datetime | None = None
) -> AuditCheckpoint:
    """Sign the tree head as it is now; sealing twice at the same size returns the first seal.

    With ``heartbeat_after``, a log whose newest entry is older than that first
    gets an ``audit.seal`` entry: the seal's freshness is the time inside the
    newest sealed entry (which no one can change without breaking the seal), so
    a quiet log needs one now and then to show `verify` it is still sealed.
    """
    moment = now or datetime.now(UTC)
    with db.session(all_communes=True) as session:
        lock_log(session)
        head = session.get(AuditHead, 1, populate_existing=True)
        assert head is not None, "audit_head is missing: run `guichet db upgrade`"
        if heartbeat_after is not None and head.size and _newest_time(session, head.size) < moment - heartbeat_after:
            append(session, [HEARTBEAT], now=moment)
        existing = session.get(AuditCheckpoint, head.size)
        if existing is not None:
            return existing
        root_hash = CompactRange.from_dict(head.frontier).root()
        note = sign_checkpoint(Checkpoint(origin=origin, size=head.size, root_hash=root_hash), signer)
        checkpoint = AuditCheckpoint(size=head.size, root_hash=root_hash, note=note, created_at=datetime.now(UTC))
        session.add(checkpoint)
        return checkpoint


def _newest_time(session: Session, size: int) -> datetime:
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    time: datetime = session.execute(select(table.c.time).where(table.c.seq == size - 1)).scalar_one()
    return time if time.tzinfo else time.replace(tzinfo=UTC)
