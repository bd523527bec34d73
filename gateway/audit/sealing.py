"""Sealing checkpoints: sign the current tree head in the transparency-log note format, when one is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from gateway.audit.checkpoint import Checkpoint, Signer, sign_checkpoint
from gateway.audit.events import AuditEvent
from gateway.audit.log import ADVISORY_LOCK_KEY, append
from gateway.audit.merkle import CompactRange
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry, AuditHead
from gateway.settings import AuditSection


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


@dataclass(frozen=True)
class SealingPolicy:
    """When a checkpoint is due: after so many entries, after so long with new ones, or to keep a quiet log fresh.

    ``None`` or 0 turns a rule off. ``heartbeat_after`` is half the age
    ``verify`` accepts: a log quiet for that long gets an ``audit.seal`` entry
    and a checkpoint over it, so its newest seal never goes stale.
    """

    every_entries: int = 0
    every: timedelta | None = None
    heartbeat_after: timedelta | None = None

    @classmethod
    def from_settings(cls, audit: AuditSection) -> SealingPolicy:
        minutes, limit = audit.checkpoint_every_minutes, audit.max_checkpoint_age_minutes
        return cls(
            every_entries=audit.checkpoint_every_entries,
            every=timedelta(minutes=minutes) if minutes else None,
            heartbeat_after=timedelta(minutes=limit / 2) if limit else None,
        )


@dataclass(frozen=True)
class LogState:
    """What the decision needs: the log's size, the last checkpoint's size and row time, the newest entry's time."""

    size: int
    sealed_size: int
    sealed_at: datetime | None
    newest_entry_at: datetime | None


def checkpoint_due(policy: SealingPolicy, state: LogState, now: datetime) -> str | None:
    """Why a checkpoint is due now (``entries``, ``age`` or ``heartbeat``), or None when it is not."""
    if policy.heartbeat_after and state.newest_entry_at and now - state.newest_entry_at >= policy.heartbeat_after:
        return "heartbeat"
    fresh = state.size - state.sealed_size
    if fresh <= 0:
        return None
    if policy.every_entries and fresh >= policy.every_entries:
        return "entries"
    if policy.every and (state.sealed_at is None or now - state.sealed_at >= policy.every):
        return "age"
    return None


def log_state(db: Database) -> LogState:
    """The log as the sealing decision sees it (the last checkpoint's row time is fine here: it only schedules)."""
    with db.session(all_communes=True) as session:
        head = session.get(AuditHead, 1)
        size = head.size if head else 0
        table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
        last = session.execute(select(table.c.size, table.c.created_at).order_by(table.c.size.desc()).limit(1)).first()
        entry = AuditEntry.__table__  # type: ignore[attr-defined]
        newest = session.execute(select(entry.c.time).where(entry.c.seq == size - 1)).scalar_one_or_none()
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    sealed_at = last[1] if last else None
    if sealed_at is not None and sealed_at.tzinfo is None:
        sealed_at = sealed_at.replace(tzinfo=UTC)
    return LogState(size, last[0] if last else 0, sealed_at, newest)


def seal_if_due(
    db: Database, signer: Signer, origin: str, policy: SealingPolicy, *, now: datetime | None = None
) -> AuditCheckpoint | None:
    """A new checkpoint when :func:`checkpoint_due` says one is due; None otherwise."""
    moment = now or datetime.now(UTC)
    if checkpoint_due(policy, log_state(db), moment) is None:
        return None
    return seal(db, signer, origin, heartbeat_after=policy.heartbeat_after, now=moment)
