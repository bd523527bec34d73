"""Sealing checkpoints: sign the current tree head in the transparency-log note format."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from gateway.audit.checkpoint import Checkpoint, Signer, sign_checkpoint
from gateway.audit.log import ADVISORY_LOCK_KEY
from gateway.audit.merkle import CompactRange
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditHead


def lock_log(session: Session) -> None:
    """Take the log's append lock (PostgreSQL; SQLite transactions already begin IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def seal(db: Database, signer: Signer, origin: str) -> AuditCheckpoint:
    """Sign the tree head as it is now; sealing twice at the same size returns the first seal."""
    with db.session(all_communes=True) as session:
        lock_log(session)
        head = session.get(AuditHead, 1, populate_existing=True)
        assert head is not None, "audit_head is missing: run `guichet db upgrade`"
        existing = session.get(AuditCheckpoint, head.size)
        if existing is not None:
            return existing
        root_hash = CompactRange.from_dict(head.frontier).root()
        note = sign_checkpoint(Checkpoint(origin=origin, size=head.size, root_hash=root_hash), signer)
        checkpoint = AuditCheckpoint(size=head.size, root_hash=root_hash, note=note, created_at=datetime.now(UTC))
        session.add(checkpoint)
        return checkpoint
