"""A person's own entries as a bundle, so they can check their access log without trusting the gateway.

The bundle (``docs/audit_format.md`` §6) holds every entry about the
person's pseudonyms that the latest checkpoint covers, each with its
inclusion proof read from the stored tiles (:class:`TiledLeaves`: a few rows
per proof, never a rebuild of the tree), and the checkpoint's note as stored,
signatures and any witness cosignatures included. Its ``selection`` names the
pseudonyms, so a verifier also checks that every entry is about them, and
says how many of the person's entries are newer than the checkpoint (not yet
provable) and how many were withheld.

No one else's data goes in. An entry names one subject (format version 1),
so no other person's pseudonym is in any entry. An entry text cannot be
redacted without breaking its proof, so an entry whose actor is another
citizen (a refused attempt on the person's request: the text carries that
citizen's id and address) is withheld whole and only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from gateway.audit.bundle import document
from gateway.audit.merkle import CompactRange, inclusion_proof
from gateway.audit.publication import cosignatures, latest_checkpoint
from gateway.audit.tiles import TiledLeaves
from gateway.models import AuditEntry, AuditPrune

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Coverage:
    """How far the latest checkpoint reaches into a person's entries."""

    sealed: bool  # is there a checkpoint at all
    covered: int  # the person's entries it covers
    uncovered: int  # the person's entries newer than it: provable after the next checkpoint


def coverage(session: Session, subjects: Sequence[str]) -> Coverage:
    """What a bundle for ``subjects`` would prove now (for the page that offers it)."""
    checkpoint = latest_checkpoint(session)
    size = checkpoint.size if checkpoint is not None else 0
    seqs = session.execute(select(_ENTRY.c.seq).where(_ENTRY.c.subject.in_(list(subjects)))).scalars().all()
    covered = sum(1 for seq in seqs if seq < size)
    return Coverage(sealed=checkpoint is not None, covered=covered, uncovered=len(seqs) - covered)


def _withheld(actor_role: str, actor_id: str, reader: str) -> bool:
    """An entry whose actor is a citizen other than the reader: its text identifies that person."""
    return actor_role == "citizen" and actor_id != reader


def personal_bundle(
    session: Session,
    subjects: Sequence[str],
    *,
    reader: str,
    verifier_keys: Sequence[str] = (),
    witness_keys: Sequence[str] = (),
) -> dict[str, Any] | None:
    """The bundle of the entries about ``subjects``, proven against the latest checkpoint; None without one.

    ``reader`` is the person's own actor id (``citizen:<public id>``): entries
    they made themselves are theirs; entries made by another citizen are withheld.
    """
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        return None
    prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
    prefix = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
    query = (
        select(_ENTRY.c.seq, _ENTRY.c.encoded, _ENTRY.c.actor_role, _ENTRY.c.actor_id)
        .where(_ENTRY.c.subject.in_(list(subjects)))
        .order_by(_ENTRY.c.seq)
    )
    rows, withheld, uncovered = [], 0, 0
    for seq, encoded, actor_role, actor_id in session.execute(query):
        if seq >= checkpoint.size:
            uncovered += 1
        elif _withheld(actor_role, actor_id, reader):
            withheld += 1
        else:
            rows.append((seq, encoded))
    source = TiledLeaves(session, prefix, checkpoint.size)
    proofs = [inclusion_proof(seq, source) for seq, _ in rows]
    witnessed = checkpoint.note + "".join(row.line for row in cosignatures(session, [checkpoint.size])[checkpoint.size])
    bundle = document(checkpoint, rows, proofs, verifier_keys, {"since": None, "until": None}, note=witnessed,
                      witness_keys=witness_keys)  # fmt: skip
    bundle["selection"] = {"subjects": list(subjects), "not_yet_covered": uncovered, "withheld": withheld}
    return bundle
