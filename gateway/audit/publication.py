"""What the gateway publishes of its log: the latest signed checkpoint with its cosignatures, and consistency proofs.

None of it is personal: a checkpoint is a size and a hash, a proof a list of
hashes. Anyone may fetch them to hold the log to its word — witnesses,
auditors, a commune keeping its own copy of the checkpoints.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from gateway.audit.merkle import CompactRange, consistency_proof
from gateway.audit.tiles import TiledLeaves
from gateway.models import AuditCheckpoint, AuditCosignature, AuditHead, AuditPrune


class ProofUnavailable(ValueError):
    """The sizes asked for are beyond the log, or reach into its pruned prefix."""


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    statement = select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)  # type: ignore[attr-defined]
    return session.scalars(statement).first()


def cosignatures(session: Session, sizes: list[int]) -> dict[int, list[AuditCosignature]]:
    """The stored cosignatures of the checkpoints of ``sizes``, by size, in the order witnesses answered."""
    found: dict[int, list[AuditCosignature]] = {size: [] for size in sizes}
    if not sizes:
        return found
    table = AuditCosignature.__table__  # type: ignore[attr-defined]
    statement = select(AuditCosignature).where(table.c.size.in_(sizes)).order_by(table.c.created_at, table.c.witness)
    for row in session.scalars(statement):
        found[row.size].append(row)
    return found


def consistency(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The RFC 9162 consistency proof from ``old_size`` to ``new_size``, read from the stored tiles."""
    if old_size > new_size:
        raise ProofUnavailable(f"the old size {old_size} is above the new size {new_size}")
    head = session.get(AuditHead, 1)
    size = head.size if head else 0
    if new_size > size:
        raise ProofUnavailable(f"the log holds {size} entries, fewer than {new_size}")
    prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
    prefix = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
    try:
        return consistency_proof(old_size, TiledLeaves(session, prefix, new_size))
    except ValueError:
        raise ProofUnavailable(f"the proof from {old_size} needs entries removed by retention") from None


def recent_checkpoints(session: Session, limit: int = 10) -> list[tuple[AuditCheckpoint, list[AuditCosignature]]]:
    """The newest checkpoints, each with the witnesses' cosignatures of it (for the auditor console)."""
    statement = select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(limit)  # type: ignore[attr-defined]
    checkpoints = list(session.scalars(statement))
    found = cosignatures(session, [checkpoint.size for checkpoint in checkpoints])
    return [(checkpoint, found[checkpoint.size]) for checkpoint in checkpoints]
