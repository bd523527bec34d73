"""One entry's proof as a file an auditor keeps and checks offline: a bundle of that single entry.

It is a bundle (``docs/audit_format.md`` §6, ``guichet-audit-bundle/1``):
the entry's sealed text, its inclusion proof read from the stored tiles, and
the latest checkpoint's note with the gateway's signature and every
witness's cosignature. ``guichet audit verify-bundle FILE --key K`` checks it
with no database; so does the short procedure of §6 by hand. One format for
every proof Guichet hands out, one verifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from gateway.audit.bundle import document
from gateway.audit.merkle import CompactRange, inclusion_proof
from gateway.audit.publication import cosignatures, latest_checkpoint
from gateway.audit.tiles import TiledLeaves
from gateway.models import AuditCheckpoint, AuditEntry, AuditPrune


@dataclass(frozen=True)
class Witnessed:
    """The checkpoint an entry's proof rests on: its size, when it was sealed, and who cosigned it."""

    size: int
    sealed_at: datetime
    witnesses: tuple[str, ...]


def _covering(session: Session, seq: int) -> AuditCheckpoint | None:
    checkpoint = latest_checkpoint(session)
    return checkpoint if checkpoint is not None and checkpoint.size > seq else None


def witnessed(session: Session, size: int) -> Witnessed | None:
    """The checkpoint of ``size`` (the one a proof was made against): when it was sealed, who cosigned it."""
    checkpoint = session.get(AuditCheckpoint, size)
    if checkpoint is None:
        return None
    rows = cosignatures(session, [checkpoint.size])[checkpoint.size]
    return Witnessed(checkpoint.size, checkpoint.created_at, tuple(row.witness for row in rows))


def entry_bundle(
    session: Session, entry: AuditEntry, *, verifier_keys: Sequence[str] = (), witness_keys: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The bundle of ``entry`` alone, against the latest checkpoint and its cosignatures; None when none covers it."""
    checkpoint = _covering(session, entry.seq)
    if checkpoint is None:
        return None
    prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
    prefix = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
    path = inclusion_proof(entry.seq, TiledLeaves(session, prefix, checkpoint.size))
    lines = "".join(row.line for row in cosignatures(session, [checkpoint.size])[checkpoint.size])
    return document(checkpoint, [(entry.seq, entry.encoded)], [path], verifier_keys, {"since": None, "until": None},
                    note=checkpoint.note + lines, witness_keys=witness_keys)  # fmt: skip
