"""Audit retention: drop a sealed prefix of the log without breaking verification of the rest.

Entries older than ``audit.retention_months`` are removed as one prefix
[first, k). Before they go, a checkpoint covering them is sealed, and they are
archived as a bundle (entries with inclusion proofs against that checkpoint),
kept in the database (:mod:`gateway.stored_files`, kind ``audit-archive``) and
written in the very transaction that deletes the entries: every machine can
read it back, and a prune that fails keeps no archive.
The Merkle frontier at k — at most one hash per set bit of k — is kept in
``audit_prune`` with a signed note over its root and the archive's SHA-256:
it stands for the removed entries, so the remaining log and every later
checkpoint still verify. The deletion goes through :mod:`gateway.audit.guard`,
the one path the append-only guards let through. Safe to run from cron on several
machines: it takes the log's append lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from gateway import stored_files
from gateway.audit.bundle import build_bundle, bundle_bytes
from gateway.audit.checkpoint import Signer
from gateway.audit.guard import delete_prefix
from gateway.audit.merkle import CompactRange
from gateway.audit.prune_note import STORED_PREFIX, PruneStatement, sign_prune
from gateway.audit.sealing import lock_log, seal
from gateway.db import Database
from gateway.models import AuditEntry, AuditPrune

DAYS_PER_MONTH = 30.4375
#: the kind of stored file an archived prefix is
ARCHIVE_KIND = "audit-archive"


@dataclass(frozen=True)
class Pruned:
    removed: int
    kept_from: int
    #: the prune record's name for the archive (``stored-file:<name>``), None when nothing was pruned
    archive: str | None


def cutoff_for(months: int, now: datetime) -> datetime:
    return now - timedelta(days=round(months * DAYS_PER_MONTH))


def prune(db: Database, signer: Signer, origin: str, *, months: int, now: datetime | None = None) -> Pruned:
    """Remove the entries older than ``months``; return how many went and where they were archived."""
    cutoff = cutoff_for(months, now or datetime.now(UTC))
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    with db.session(all_communes=True) as session:
        first = session.execute(select(func.min(table.c.seq))).scalar()
        keep_from = session.execute(select(func.min(table.c.seq)).where(table.c.time >= cutoff)).scalar()
        last = session.execute(select(func.max(table.c.seq))).scalar()
    if first is None or last is None:
        return Pruned(0, 0, None)
    k = keep_from if keep_from is not None else last + 1
    if k <= first:
        return Pruned(0, first, None)
    seal(db, signer, origin)  # the checkpoint the archive is proven against, covering [first, k)
    content = bundle_bytes(build_bundle(db, below=k, verifier_keys=[signer.verifier().to_text()]))
    with db.session(all_communes=True) as session:
        lock_log(session)
        previous = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
        frontier = CompactRange.from_dict(previous.frontier) if previous else CompactRange()
        leaves = session.execute(
            select(table.c.leaf_hash).where(table.c.seq >= frontier.size, table.c.seq < k).order_by(table.c.seq)
        ).scalars()  # fmt: skip
        for leaf in leaves:
            frontier.append(leaf)
        if frontier.size != k:
            raise RuntimeError(f"audit log has a gap below {k}: run `guichet audit verify`")
        name, digest = stored_files.save(session, content, kind=ARCHIVE_KIND)
        archive = STORED_PREFIX + name
        note = sign_prune(PruneStatement(origin, k, frontier.root(), digest), signer)
        record = AuditPrune(size=k, frontier=frontier.to_dict(), archive=archive, created_at=datetime.now(UTC),
                            note=note, archive_sha256=digest)  # fmt: skip
        delete_prefix(session, record)
    return Pruned(k - first, k, archive)
