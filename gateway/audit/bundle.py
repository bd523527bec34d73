"""Self-contained audit bundles: entries, a signed checkpoint and an inclusion proof for each entry.

A bundle is one JSON document (format in ``docs/audit_format.md``). Anyone
holding the gateway's verifier key checks it offline: each entry's hash, its
inclusion proof up to the checkpoint's root, and the checkpoint's signature.
Exports, the archives written by retention and a citizen's own proofs
(:mod:`gateway.audit.personal_bundle`, whose optional ``selection`` says
whom every entry is about, checked here too) are bundles.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.audit.checkpoint import NoteError, Verifier, parse_note, verify_note
from gateway.audit.cosignature import CosignatureVerifier
from gateway.audit.events import decode, format_time
from gateway.audit.merkle import CompactRange, inclusion_proof, leaf_hash, verify_inclusion
from gateway.audit.tiles import TiledLeaves
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry, AuditPrune

FORMAT = "guichet-audit-bundle/1"


class BundleError(ValueError):
    """A bundle that does not verify; the message says which part and why."""


@dataclass(frozen=True)
class BundleSummary:
    entries: int
    tree_size: int
    origin: str
    #: a person's bundle: how many pseudonyms every entry is about, and its counts (not provable: stated by the gateway)
    subjects: int | None = None
    not_yet_covered: int = 0
    withheld: int = 0
    #: the witnesses whose cosignature of the checkpoint was checked
    cosigned_by: tuple[str, ...] = ()


def build_bundle(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    below: int | None = None,
    verifier_keys: Sequence[str] = (),
) -> dict[str, Any]:
    """Entries in [since, until) (and below sequence ``below``), proven against the latest checkpoint."""
    with db.session(all_communes=True) as session:
        checkpoint = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
        if checkpoint is None:
            raise BundleError("no checkpoint yet: run `guichet audit checkpoint` first")
        prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
        prefix = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
        table = AuditEntry.__table__  # type: ignore[attr-defined]
        source = TiledLeaves(session, prefix, checkpoint.size)
        query = select(table.c.seq, table.c.encoded).where(table.c.seq < checkpoint.size).order_by(table.c.seq)
        if since is not None:
            query = query.where(table.c.time >= since)
        if until is not None:
            query = query.where(table.c.time < until)
        if below is not None:
            query = query.where(table.c.seq < below)
        rows = session.execute(query).all()
        proofs = [inclusion_proof(seq, source) for seq, _ in rows]
    period = {"since": format_time(since) if since else None, "until": format_time(until) if until else None}
    return document(checkpoint, [(seq, encoded) for seq, encoded in rows], proofs, verifier_keys, period)


def document(
    checkpoint: AuditCheckpoint,
    rows: Sequence[tuple[int, str]],
    proofs: Sequence[Sequence[bytes]],
    verifier_keys: Sequence[str],
    period: dict[str, str | None],
    *,
    note: str | None = None,
    witness_keys: Sequence[str] = (),
) -> dict[str, Any]:
    """The bundle of ``rows`` (seq, entry text) with their ``proofs``, against ``checkpoint``'s stored note.

    The note is copied as stored, every signature line included (witnesses'
    cosignatures too), so the bundle carries whatever vouches for the checkpoint.
    """
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "origin": parse_note(checkpoint.note)[0].origin,
        "checkpoint": note or checkpoint.note,
        "tree_size": checkpoint.size,
        "verifier_keys": list(verifier_keys),
        "range": period,
        "entries": [
            {
                "seq": seq,
                "entry": encoded,
                "inclusion_proof": [base64.b64encode(node).decode() for node in proof],
            }
            for (seq, encoded), proof in zip(rows, proofs, strict=True)
        ],
    }
    if witness_keys:
        bundle["witness_keys"] = list(witness_keys)
    return bundle


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """A bundle as the file a person reads: indented JSON in UTF-8 (the bytes an archive's digest is taken over)."""
    return (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_bundle(bundle: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bundle_bytes(bundle))


def verify_bundle(
    bundle: object, verifiers: Sequence[Verifier], witnesses: Sequence[CosignatureVerifier] = ()
) -> BundleSummary:
    """Check a bundle without any database; raises BundleError naming the first fault.

    Each of ``witnesses`` must have cosigned the bundle's checkpoint: a witness
    that kept the log's earlier checkpoints vouches that this one extends them.
    """
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not a {FORMAT} document")
    try:
        checkpoint = verify_note(str(bundle["checkpoint"]), verifiers)
    except (NoteError, KeyError) as error:
        raise BundleError(f"checkpoint: {error}") from None
    for witness in witnesses:
        if witness.find(str(bundle["checkpoint"])) is None:
            raise BundleError(f"checkpoint: no valid cosignature by the witness {witness.name}")
    cosigned_by = tuple(witness.name for witness in witnesses)
    if bundle.get("tree_size") != checkpoint.size:
        raise BundleError("tree_size differs from the signed checkpoint")
    entries = bundle.get("entries")
    if not isinstance(entries, list):
        raise BundleError("entries must be a list")
    selection = bundle.get("selection")
    subjects = _selected_subjects(selection)
    for position, item in enumerate(entries):
        _verify_entry(position, item, checkpoint.size, checkpoint.root_hash, subjects)
    if subjects is None or not isinstance(selection, dict):
        return BundleSummary(entries=len(entries), tree_size=checkpoint.size, origin=checkpoint.origin,
                             cosigned_by=cosigned_by)  # fmt: skip
    counts = {name: selection.get(name, 0) for name in ("not_yet_covered", "withheld")}
    if not all(isinstance(value, int) and not isinstance(value, bool) and value >= 0 for value in counts.values()):
        raise BundleError("selection.not_yet_covered and selection.withheld must be counts")
    return BundleSummary(entries=len(entries), tree_size=checkpoint.size, origin=checkpoint.origin,
                         subjects=len(subjects), cosigned_by=cosigned_by, **counts)  # fmt: skip


def _selected_subjects(selection: object) -> frozenset[str] | None:
    """The pseudonyms a bundle's ``selection`` says every entry is about (None: no selection)."""
    if selection is None:
        return None
    subjects = selection.get("subjects") if isinstance(selection, dict) else None
    if not isinstance(subjects, list) or not subjects or not all(isinstance(item, str) for item in subjects):
        raise BundleError("selection.subjects must be a non-empty list of pseudonyms")
    return frozenset(subjects)


def _verify_entry(position: int, item: object, size: int, root: bytes, subjects: frozenset[str] | None) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("entry"), str) or not isinstance(item.get("seq"), int):
        raise BundleError(f"entries[{position}] is malformed")
    seq, text = item["seq"], item["entry"]
    try:
        fields = decode(text)
        if not isinstance(fields, dict):
            raise ValueError("not an object")
        sealed_seq = fields.get("seq")
        proof = [base64.b64decode(node, validate=True) for node in item.get("inclusion_proof", [])]
    except ValueError:
        raise BundleError(f"entry {seq}: malformed entry text or proof") from None
    if sealed_seq != seq:
        raise BundleError(f"entry {seq}: its text was sealed as entry {sealed_seq}")
    if subjects is not None and fields.get("subject") not in subjects:
        raise BundleError(f"entry {seq}: about another person than the bundle's selection")
    if not verify_inclusion(seq, size, leaf_hash(text.encode()), proof, root):
        raise BundleError(f"entry {seq}: not included in the signed tree of size {size} (modified or forged)")


def read_bundle(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BundleError(f"{path}: cannot be read as JSON ({error})") from None


def parse_bundle(data: bytes, where: str) -> object:
    """A bundle from its bytes (an archive kept in the database); ``where`` names it in the error."""
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise BundleError(f"{where}: cannot be read as JSON ({error})") from None
