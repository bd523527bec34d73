"""``guichet audit verify``: recompute the whole log and name the first entry that does not fit.

Each entry is checked on its own (its text against its hash and its columns,
its position against the sequence it was sealed with), then against the
running Merkle root stored when it was appended, then every signed
checkpoint against the recomputed root of the same size. The first fault
stops the walk: after it, every later root differs too, so later findings
would only repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.audit.checkpoint import NoteError, Verifier, verify_note
from gateway.audit.events import decode, format_time
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry, AuditHead, AuditPrune

BATCH = 5000
#: columns repeated from the sealed text for searching; they must still agree with it
SEARCHABLE = (
    "commune",
    "service",
    "actor_id",
    "actor_role",
    "action",
    "resource",
    "subject",
    "purpose",
    "origin",
    "outcome",
)

Progress = Callable[[int], None]


@dataclass
class Finding:
    kind: str  # modified | deleted | inserted-or-reordered | truncated | checkpoint | head
    message: str
    seq: int | None = None


@dataclass
class Report:
    size: int = 0
    first: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_log(db: Database, verifiers: Sequence[Verifier], *, progress: Progress | None = None) -> Report:
    with db.session(all_communes=True) as session:
        prune = session.scalars(select(AuditPrune).order_by(AuditPrune.size.desc()).limit(1)).first()  # type: ignore[attr-defined]
        checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size)))  # type: ignore[arg-type]
        head = session.get(AuditHead, 1)
    frontier = CompactRange.from_dict(prune.frontier) if prune else CompactRange()
    report = Report(first=frontier.size)
    walk = _Walk(db, frontier, report, progress)
    pending = [checkpoint for checkpoint in checkpoints if checkpoint.size >= frontier.size]
    for checkpoint in checkpoints:
        if checkpoint.size < frontier.size and not _signature_ok(checkpoint, verifiers, report):
            return report
    for checkpoint in pending:
        if not walk.advance_to(checkpoint.size):
            if report.ok:
                report.findings.append(
                    Finding(
                        "truncated",
                        f"the log was truncated: checkpoint {checkpoint.size} was signed over "
                        f"{checkpoint.size} entries but the log holds only {walk.frontier.size}",
                    )
                )
            return report
        if not _signature_ok(checkpoint, verifiers, report):
            return report
        if walk.frontier.root() != checkpoint.root_hash:
            report.findings.append(
                Finding(
                    "checkpoint",
                    f"the log does not match checkpoint {checkpoint.size}: entries before it were "
                    "altered, inserted or deleted and the stored running roots rewritten to hide it",
                )
            )
            return report
        report.checkpoints += 1
    walk.advance_to(None)
    if report.ok and head is not None and (head.size != walk.frontier.size or head.frontier != walk.frontier.to_dict()):
        report.findings.append(
            Finding("head", f"audit_head says {head.size} entries, the log holds {walk.frontier.size}")
        )
    return report


def _signature_ok(checkpoint: AuditCheckpoint, verifiers: Sequence[Verifier], report: Report) -> bool:
    try:
        sealed = verify_note(checkpoint.note, verifiers)
    except NoteError as error:
        report.findings.append(Finding("checkpoint", f"checkpoint {checkpoint.size}: {error}"))
        return False
    if sealed.size != checkpoint.size or sealed.root_hash != checkpoint.root_hash:
        report.findings.append(
            Finding("checkpoint", f"checkpoint {checkpoint.size}: its columns differ from its signed note")
        )
        return False
    return True


class LogChecker:
    """Checks entries one by one, in order, extending the frontier; knows nothing of the database."""

    def __init__(self, frontier: CompactRange, report: Report) -> None:
        self.frontier = frontier
        self.report = report

    def check(self, row: Sequence[Any]) -> bool:
        """``row`` is (seq, time, encoded, leaf_hash, root_after, *SEARCHABLE); False at the first fault."""
        seq, time, encoded, stored_leaf, root_after, *searchable = row
        finding = _entry_fault(self.frontier.size, seq, time, encoded, stored_leaf, searchable)
        if finding is None:
            self.frontier.append(stored_leaf)
            if self.frontier.root() != root_after:
                finding = Finding(
                    "modified",
                    f"entry {seq}: the log up to this entry no longer has the root recorded "
                    "when it was appended: this entry or one before it was altered",
                    seq,
                )
        if finding is not None:
            self.report.findings.append(finding)
            return False
        self.report.size = self.frontier.size
        return True


class _Walk(LogChecker):
    """Reads entries from the database in order, batch by batch."""

    def __init__(self, db: Database, frontier: CompactRange, report: Report, progress: Progress | None) -> None:
        super().__init__(frontier, report)
        self.db = db
        self.progress = progress

    def advance_to(self, size: int | None) -> bool:
        """Walk until the tree has ``size`` entries (or to the end); False on a fault or too few entries."""
        while size is None or self.frontier.size < size:
            if not self.report.ok:
                return False
            limit = BATCH if size is None else min(BATCH, size - self.frontier.size)
            rows = self._batch(limit)
            if not rows:
                return size is None
            for row in rows:
                if not self.check(row):
                    return False
            if self.progress:
                self.progress(len(rows))
        return self.report.ok

    def _batch(self, limit: int) -> Sequence[Sequence[Any]]:
        table = AuditEntry.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in ("seq", "time", "encoded", "leaf_hash", "root_after", *SEARCHABLE)]
        query = select(*columns).where(table.c.seq >= self.frontier.size).order_by(table.c.seq).limit(limit)
        with self.db.engine.connect() as connection:
            return list(connection.execute(query).all())


def _entry_fault(
    expected: int, seq: int, time: datetime, encoded: str, stored_leaf: bytes, searchable: list[object]
) -> Finding | None:
    if seq != expected:
        return Finding("deleted", f"entry {expected} is missing: the log jumps from {expected - 1} to {seq}", expected)
    try:
        fields = decode(encoded)
    except ValueError:
        return Finding("modified", f"entry {seq} was modified: its text is no longer valid JSON", seq)
    if fields.get("seq") != seq:
        return Finding(
            "inserted-or-reordered",
            f"entry {seq} holds the text sealed as entry {fields.get('seq')}: "
            "entries were inserted, deleted or reordered",
            seq,
        )
    if leaf_hash(encoded.encode()) != stored_leaf:
        return Finding("modified", f"entry {seq} was modified: its text no longer matches its hash", seq)
    for name, value in zip(SEARCHABLE, searchable, strict=True):
        if fields.get(name) != value:
            return Finding(
                "modified",
                f"entry {seq} was modified: column {name} says {value!r}, the sealed text {fields.get(name)!r}",
                seq,
            )
    if fields.get("time") != format_time(time):
        return Finding("modified", f"entry {seq} was modified: its time column differs from the sealed text", seq)
    return None
