"""``guichet audit verify``: recompute the whole log and name the first entry that does not fit.

Each entry is checked on its own (its text against its hash and its columns,
its position against the sequence it was sealed with), then against the
running Merkle root stored when it was appended, then every signed
checkpoint against the recomputed root of the same size. The first fault
stops the walk: after it, every later root differs too, so later findings
would only repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from json.encoder import encode_basestring
from operator import methodcaller
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway import stored_files
from gateway.audit.checkpoint import NoteError, Verifier, verify_note
from gateway.audit.events import FORMAT_VERSION, decode, format_time
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.audit.prune_note import stored_archive_name
from gateway.audit.tile_check import check_tiles
from gateway.audit.verify_records import (
    ArchiveReader,
    Finding,
    Report,
    archive_file,
    check_age,
    check_archives,
    held_checkpoints,
    valid_prunes,
)
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


@dataclass(frozen=True)
class _Seal:
    """A checkpoint to match while walking: from the database, or held outside (then trusted over the row)."""

    size: int
    root_hash: bytes
    where: str


def verify_log(
    db: Database,
    verifiers: Sequence[Verifier],
    *,
    progress: Progress | None = None,
    held: Iterable[str] = (),
    origin: str | None = None,
    max_age: timedelta | None = None,
    archive_dir: Path | None = None,
    now: datetime | None = None,
) -> Report:
    """Check the log against the gateway's signatures and, given ``held``, checkpoints kept outside the database.

    ``held`` are checkpoint notes (a file of them, a witness's store);
    ``max_age`` fails a log whose newest seal is older; the bundles of pruned
    prefixes are read from the database, or, for prunes made while they were
    kept as files, from their path or ``archive_dir``.
    """
    with db.session(all_communes=True) as session:
        prunes = list(session.scalars(select(AuditPrune).order_by(AuditPrune.size)))  # type: ignore[arg-type]
        checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size)))  # type: ignore[arg-type]
        head = session.get(AuditHead, 1)
    report = Report()
    signed_prunes = valid_prunes(prunes, verifiers, report)
    check_archives(signed_prunes, verifiers, _archive_reader(db, archive_dir), report)
    outside = held_checkpoints(held, checkpoints, verifiers, report, origin)
    frontier = CompactRange.from_dict(signed_prunes[-1].frontier) if signed_prunes else CompactRange()
    report.first = frontier.size
    for checkpoint in checkpoints:
        if not _signature_ok(checkpoint, verifiers, report):
            return report
    first = frontier.size
    walk = _Walk(db, frontier.copy(), report, progress)
    seals = {c.size: _Seal(c.size, c.root_hash, "checkpoint") for c in checkpoints if c.size >= frontier.size}
    seals.update({c.size: _Seal(c.size, c.root_hash, "held checkpoint") for c in outside if c.size >= frontier.size})
    matched = frontier.size
    for seal in sorted(seals.values(), key=lambda seal: seal.size):
        if not walk.advance_to(seal.size):
            if walk.ok:
                report.findings.append(
                    Finding(
                        "truncated",
                        f"the log was truncated: {seal.where} {seal.size} was signed over "
                        f"{seal.size} entries but the log holds only {walk.frontier.size}",
                        walk.frontier.size,
                    )
                )
            return report
        if walk.frontier.root() != seal.root_hash:
            report.findings.append(
                Finding(
                    "checkpoint",
                    f"the log does not match {seal.where} {seal.size}: entries {matched} to {seal.size - 1} were "
                    "altered, inserted or deleted and the stored running roots rewritten to hide it",
                    matched,
                )
            )
            return report
        matched = seal.size
        report.checkpoints += 1
    walk.advance_to(None)
    if not walk.ok:
        return report
    if head is None or head.size != walk.frontier.size or head.frontier != walk.frontier.to_dict():
        said = "is missing" if head is None else f"says {head.size} entries"
        size = walk.frontier.size
        report.findings.append(Finding("head", f"audit_head {said}, the log holds {size}", size))
        return report
    check_tiles(db, first, walk.frontier.size, report)
    if max_age is not None:
        sealed = _sealed_time(db, matched) if matched > first else None
        check_age(sealed, walk.frontier.size - first, max_age, now or datetime.now(UTC), report)
    return report


def _sealed_time(db: Database, size: int) -> datetime:
    """The time of the last entry the newest matching checkpoint seals (checked against the sealed text)."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    with db.engine.connect() as connection:
        time: datetime = connection.execute(select(table.c.time).where(table.c.seq == size - 1)).scalar_one()
    return time if time.tzinfo else time.replace(tzinfo=UTC)


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
        self.faulty = False

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
            self.faulty = True
            return False
        self.report.size = self.frontier.size
        return True


class BatchChecker(LogChecker):
    """Checks a batch of entries at once, and entry by entry only when the batch holds a fault (to name it).

    The fast path checks exactly what :meth:`LogChecker.check` checks: the
    positions follow on; each stored text is the canonical encoding of the
    entry's columns (which implies valid JSON, the sealed ``seq``, every search
    column and the time); each leaf hash is recomputed from the text; and each
    running root from the recomputed tree. Any difference sends the batch
    through the entry-by-entry walk from its first entry, which names the first
    fault as before.
    """

    def check_batch(self, rows: Sequence[Sequence[Any]]) -> bool:
        """``rows`` as for :meth:`check`, in order; False at the first fault (recorded in the report)."""
        start = self.frontier.size
        saved = self.frontier.copy()
        if _batch_sound(self.frontier, start, rows):
            self.report.size = self.frontier.size
            return True
        self.frontier = saved
        return all(self.check(row) for row in rows)


def _batch_sound(frontier: CompactRange, start: int, rows: Sequence[Sequence[Any]]) -> bool:
    """Whether every row of the batch is sound; extends ``frontier`` (the caller restores it when not)."""
    columns = list(zip(*rows, strict=True))
    if list(columns[0]) != list(range(start, start + len(rows))):
        return False
    texts = list(columns[2])
    try:
        if texts != _canonical_texts(columns):
            return False
    except (TypeError, ValueError, AttributeError):  # a column of another type: the entry-by-entry walk names it
        return False
    leaf = b"\x00"
    leaves = [sha256(leaf + text.encode()).digest() for text in texts]
    if leaves != list(columns[3]):
        return False
    return frontier.running_roots(leaves) == list(columns[4])


# The canonical text of an entry (keys sorted, as ``events.encode`` writes it), filled from its columns.
_TEMPLATE = (
    '{"action":%s,"actor_id":%s,"actor_role":%s,"commune":%s,"origin":%s,"outcome":%s,"purpose":%s,'
    '"resource":%s,"seq":%d,"service":%s,"subject":%s,"time":"%s","v":' + str(FORMAT_VERSION) + "}"
)
_ISO_MICROSECONDS = methodcaller("isoformat", timespec="microseconds")
_ZERO = timedelta(0)


def _canonical_texts(columns: Sequence[Sequence[Any]]) -> list[str]:
    """What ``events.encode`` wrote for each entry, from the columns of a batch (seq, time, …, *SEARCHABLE).

    Column by column, so that the per-value work runs in C (``map`` over the
    JSON string encoder); each value goes through the encoder that sealed it.
    """
    seqs, times = columns[0], columns[1]
    text = {name: _json_texts(values) for name, values in zip(SEARCHABLE, columns[5:15], strict=True)}
    if all(time.tzinfo is None for time in times):  # SQLite gives naive UTC times
        stamps = [stamp + "Z" for stamp in map(_ISO_MICROSECONDS, times)]
    elif all(time.utcoffset() == _ZERO for time in times):  # PostgreSQL zoned ones, in UTC for Guichet's sessions
        stamps = [stamp[:-6] + "Z" for stamp in map(_ISO_MICROSECONDS, times)]  # without "+00:00"
    else:
        stamps = [format_time(time) for time in times]
    fields = zip(text["action"], text["actor_id"], text["actor_role"], text["commune"], text["origin"],
                 text["outcome"], text["purpose"], text["resource"], seqs, text["service"], text["subject"],
                 stamps, strict=True)  # fmt: skip
    return [_TEMPLATE % values for values in fields]


def _json_texts(values: Sequence[Any]) -> list[str]:
    if None in values:
        return ["null" if value is None else encode_basestring(value) for value in values]
    return list(map(encode_basestring, values))


class _Walk(BatchChecker):
    """Reads entries from the database in order, batch by batch."""

    def __init__(self, db: Database, frontier: CompactRange, report: Report, progress: Progress | None) -> None:
        super().__init__(frontier, report)
        self.db = db
        self.progress = progress

    @property
    def ok(self) -> bool:
        """No fault among the entries walked (record findings made before the walk do not count)."""
        return not self.faulty

    def advance_to(self, size: int | None) -> bool:
        """Walk until the tree has ``size`` entries (or to the end); False on a fault or too few entries."""
        while size is None or self.frontier.size < size:
            if self.faulty:
                return False
            limit = BATCH if size is None else min(BATCH, size - self.frontier.size)
            rows = self._batch(limit)
            if not rows:
                return size is None
            if not self.check_batch(rows):
                return False
            if self.progress:
                self.progress(len(rows))
        return not self.faulty

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


def _archive_reader(db: Database, archive_dir: Path | None) -> ArchiveReader:
    def fetch(archive: str | None) -> tuple[str, bytes] | None:
        name = stored_archive_name(archive)
        if name is None:
            return archive_file(archive, archive_dir)
        with db.read_session() as session:
            if not stored_files.exists(session, name):
                return None
            # unchecked bytes: the caller compares them with the digest the prune note signed
            return str(archive), b"".join(stored_files.chunks(session, name))

    return fetch
