"""Checks of the audit log's records against what the database cannot rewrite alone.

The entries prove themselves only up to the records that anchor them: the
prune rows that say where the log starts, the checkpoints that say what it
held, and how fresh the newest seal is. Each check here trusts the
gateway's signature or what is held outside the database, never a row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from gateway.audit.bundle import BundleError, parse_bundle, verify_bundle
from gateway.audit.checkpoint import SIGNATURE_PREFIX, Checkpoint, NoteError, Verifier, verify_note
from gateway.audit.merkle import CompactRange
from gateway.audit.prune_note import verify_prune
from gateway.models import AuditCheckpoint, AuditPrune


@dataclass
class Finding:
    kind: str  # modified | deleted | inserted-or-reordered | truncated | checkpoint | prune | head | stale | tile
    message: str
    seq: int | None = None


@dataclass
class Report:
    size: int = 0
    first: int = 0
    checkpoints: int = 0
    held: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def read_notes(text: str) -> list[str]:
    """Split concatenated signed notes (a witness's store, a file of checkpoints) into single notes.

    A note ends with its last signature line: the first line after it that is
    not a signature begins the next note; blank lines between notes are ignored.
    """
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in text.splitlines(keepends=True):
        if in_signatures and not line.startswith(SIGNATURE_PREFIX):
            notes.append("".join(current))
            current, in_signatures = [], False
            if line.strip() == "":
                continue
        if not current and line.strip() == "":
            continue
        current.append(line)
        if line == "\n" and current[:-1]:
            in_signatures = True
    if current:
        notes.append("".join(current))
    return notes


def valid_prunes(prunes: Sequence[AuditPrune], verifiers: Sequence[Verifier], report: Report) -> list[AuditPrune]:
    """The prune rows signed by the gateway whose frontier is the one they sign; a finding for each other."""
    valid = []
    for prune in prunes:
        fault = _prune_fault(prune, verifiers)
        if fault:
            report.findings.append(Finding("prune", f"prune record at {prune.size}: {fault}", prune.size))
        else:
            valid.append(prune)
    return valid


def _prune_fault(prune: AuditPrune, verifiers: Sequence[Verifier]) -> str | None:
    if not prune.note:
        return "it is not signed: a row anyone with database access could have written"
    try:
        statement = verify_prune(prune.note, verifiers)
        frontier = CompactRange.from_dict(prune.frontier)
    except (NoteError, ValueError) as error:
        return f"its signature does not check out ({error})"
    if statement.size != prune.size or frontier.size != prune.size:
        return f"its signed size is {statement.size}, its row says {prune.size}"
    if frontier.root() != statement.root_hash:
        return "its frontier is not the one the gateway signed (hashes altered)"
    if statement.archive_sha256 != prune.archive_sha256:
        return "its archive digest differs from the signed one"
    return None


#: an archive's bytes and where they were found, given its prune record's name for it; None when out of reach
ArchiveReader = Callable[[str | None], tuple[str, bytes] | None]


def check_archives(prunes: Sequence[AuditPrune], verifiers: Sequence[Verifier], fetch: ArchiveReader,
                   report: Report) -> None:  # fmt: skip
    """Each signed prune record against the bundle it replaced, when that bundle can be read here."""
    for prune in prunes:
        found = fetch(prune.archive)
        if found is None:
            report.notes.append(f"prune record at {prune.size}: archive {prune.archive or '(none)'} not reachable here")
            continue
        where, data = found
        if hashlib.sha256(data).hexdigest() != prune.archive_sha256:
            report.findings.append(Finding("prune", f"prune record at {prune.size}: archive {where} was altered "
                                           "(its SHA-256 is not the signed one)", prune.size))  # fmt: skip
            continue
        try:
            bundle = parse_bundle(data, where)
            summary = verify_bundle(bundle, verifiers)
            last = bundle["entries"][-1]["seq"] if bundle["entries"] else None  # type: ignore[index]
        except (BundleError, KeyError, TypeError) as error:
            report.findings.append(
                Finding("prune", f"prune record at {prune.size}: archive {where}: {error}", prune.size)
            )
            continue
        if last != prune.size - 1 or summary.tree_size < prune.size:
            report.findings.append(Finding("prune", f"prune record at {prune.size}: archive {where} does not end "
                                           f"at entry {prune.size - 1}", prune.size))  # fmt: skip


def archive_file(archive: str | None, archive_dir: Path | None) -> tuple[str, bytes] | None:
    """An archive kept as a file (prunes before archives moved into the database), at its path or in ``archive_dir``."""
    if not archive:
        return None
    stored = Path(archive)
    for candidate in (stored, archive_dir / stored.name if archive_dir else None):
        if candidate is not None and candidate.is_file():
            return str(candidate), candidate.read_bytes()
    return None


def held_checkpoints(
    notes: Iterable[str],
    local: Sequence[AuditCheckpoint],
    verifiers: Sequence[Verifier],
    report: Report,
    origin: str | None = None,
) -> list[Checkpoint]:
    """Checkpoints held outside, once signed by the gateway; a finding when the database lacks or contradicts one."""
    by_size = {checkpoint.size: checkpoint for checkpoint in local}
    held: dict[int, Checkpoint] = {}
    for number, note in enumerate(notes, start=1):
        try:
            checkpoint = verify_note(note, verifiers, origin=origin)
        except NoteError as error:
            report.findings.append(Finding("checkpoint", f"checkpoint #{number} held outside: {error}"))
            continue
        size = checkpoint.size
        stored = by_size.get(size)
        if stored is None:
            report.findings.append(Finding("checkpoint", f"the database lacks checkpoint {size}, held outside: "
                                           "checkpoints were deleted", size))  # fmt: skip
        elif stored.root_hash != checkpoint.root_hash:
            report.findings.append(Finding("checkpoint", f"checkpoint {size} in the database has another root than "
                                           "the one held outside", size))  # fmt: skip
        if held.setdefault(size, checkpoint).root_hash != checkpoint.root_hash:
            report.findings.append(Finding("checkpoint", f"two checkpoints held outside disagree at size {size}: "
                                           "the log forked (keep both as evidence)", size))  # fmt: skip
    report.held = len(held)
    return [held[size] for size in sorted(held)]


def check_age(sealed_time: datetime | None, entries: int, max_age: timedelta, now: datetime, report: Report) -> None:
    """A log with entries must have a seal over an entry younger than ``max_age`` (the time is inside the seal)."""
    if entries == 0:
        return
    if sealed_time is None:
        report.findings.append(Finding("stale", f"no checkpoint seals the log's {entries} entries"))
    elif now - sealed_time > max_age:
        minutes = int(max_age.total_seconds() // 60)
        message = (f"the newest checkpoint seals entries up to {sealed_time:%Y-%m-%d %H:%M} UTC, older than "
                   f"{minutes} minutes: later checkpoints were deleted, or sealing stopped")  # fmt: skip
        report.findings.append(Finding("stale", message))
