"""Prune records are believed only when the gateway signed them and they fit the archive they replaced."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlmodel import col

from gateway import stored_files
from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.merkle import CompactRange
from gateway.audit.prune_note import PruneStatement, sign_prune, stored_archive_name
from gateway.audit.retention import ARCHIVE_KIND, prune
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.db import Database
from gateway.models import AuditPrune, StoredFileChunk
from tests.audit_tamper import tamper

ORIGIN = "guichet.test/audit"
START = datetime(2025, 1, 1, tzinfo=UTC)
PRUNE = AuditPrune.__table__  # type: ignore[attr-defined]


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


@pytest.fixture
def db(guichet_database_url: str, signer: Signer) -> Iterator[Database]:
    """Thirty entries, one a day, sealed at 20."""
    database = Database(guichet_database_url)
    for day in range(30):
        with database.session() as session:
            event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource=f"request/{day}",
                               purpose="instruction", origin="cli test", commune="givors")  # fmt: skip
            append(session, [event], now=START + timedelta(days=day))
        if day == 19:
            seal(database, signer, ORIGIN)
    yield database
    database.dispose()


def verify(db: Database, signer: Signer, archive_dir: Path | None = None) -> Report:
    return verify_log(db, [signer.verifier()], archive_dir=archive_dir)


def kinds(report: Report) -> list[tuple[str, int | None]]:
    return [(finding.kind, finding.seq) for finding in report.findings]


def true_frontier(db: Database, size: int) -> CompactRange:
    with db.engine.connect() as connection:
        leaves = connection.execute(text("SELECT leaf_hash FROM audit_entry WHERE seq < :k ORDER BY seq"), {"k": size})
        return CompactRange.from_leaves(list(leaves.scalars()))


def forge_prune(db: Database, size: int, note: str | None = None) -> None:
    frontier = json.dumps(true_frontier(db, size).to_dict())
    statement = "INSERT INTO audit_prune (size, frontier, created_at, note) VALUES (:size, :frontier, :now, :note)"
    tamper(db, statement, size=size, frontier=frontier, now=datetime.now(UTC), note=note)


def test_forged_prune_row_hiding_a_change_is_refused_and_the_change_located(db: Database, signer: Signer) -> None:
    forge_prune(db, 6)
    tamper(db, "UPDATE audit_entry SET actor_id = 'agent:9' WHERE seq = 3")
    assert kinds(verify(db, signer)) == [("prune", 6), ("modified", 3)]


def test_forged_prune_row_hiding_deletions_is_refused_and_the_gap_located(db: Database, signer: Signer) -> None:
    forge_prune(db, 6)
    tamper(db, "DELETE FROM audit_entry WHERE seq < 6")
    assert kinds(verify(db, signer)) == [("prune", 6), ("deleted", 0)]


def test_prune_note_signed_by_another_key_is_refused(db: Database, signer: Signer) -> None:
    other = generate_signer(ORIGIN)
    forge_prune(db, 6, sign_prune(PruneStatement(ORIGIN, 6, true_frontier(db, 6).root(), None), other))
    assert kinds(verify(db, signer))[0] == ("prune", 6)


def test_prune_row_built_from_altered_hashes_is_refused(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    with db.engine.connect() as connection:
        frontier = connection.execute(select(PRUNE.c.frontier)).scalar_one()
    frontier["hashes"][0] = base64.b64encode(bytes(32)).decode()
    tamper(db, "UPDATE audit_prune SET frontier = :frontier", frontier=json.dumps(frontier))
    report = verify(db, signer)
    assert kinds(report)[0] == ("prune", 10)
    assert "frontier is not the one the gateway signed" in report.findings[0].message


def test_signed_prune_matching_its_archive_verifies(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    report = verify(db, signer, tmp_path)
    assert report.ok and not report.notes, report.findings


def archive_name(archive: str | None) -> str:
    name = stored_archive_name(archive)
    assert name is not None, archive
    return name


def test_the_archive_is_kept_in_the_database_with_the_prune(db: Database, signer: Signer) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    with db.read_session() as session:
        assert stored_files.names(session, ARCHIVE_KIND) == [archive_name(result.archive)]
        record = session.scalars(select(AuditPrune)).one()
        assert record.archive == result.archive
        assert (
            record.archive_sha256
            == hashlib.sha256(stored_files.read(session, archive_name(record.archive))).hexdigest()
        )


def test_altered_archive_is_reported(db: Database, signer: Signer) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    name = archive_name(result.archive)
    with db.session() as session:
        altered = stored_files.read(session, name).replace(b"request/3", b"request/X")
        session.execute(update(StoredFileChunk).where(col(StoredFileChunk.name) == name).values(data=altered))
    assert kinds(verify(db, signer)) == [("prune", 10)]


def test_unreachable_archive_is_said_not_failed(db: Database, signer: Signer) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    with db.session() as session:
        stored_files.delete(session, [archive_name(result.archive)])
    report = verify(db, signer)
    assert report.ok and "not reachable" in report.notes[0]


def test_an_archive_kept_as_a_file_before_archives_moved_is_still_checked(
    db: Database, signer: Signer, tmp_path: Path
) -> None:
    """A prune record made by an earlier release names a file path; verify finds the file in the archive folder."""
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    with db.session() as session:
        content = stored_files.read(session, archive_name(result.archive))
        stored_files.delete(session, [archive_name(result.archive)])
    (tmp_path / "audit-000000000000-000000000009.json").write_bytes(content)
    tamper(db, "UPDATE audit_prune SET archive = :archive", archive="/elsewhere/audit-000000000000-000000000009.json")
    report = verify(db, signer, tmp_path)
    assert report.ok and not report.notes, report.findings
    (tmp_path / "audit-000000000000-000000000009.json").write_bytes(content.replace(b"request/3", b"request/X"))
    assert kinds(verify(db, signer, tmp_path)) == [("prune", 10)]
