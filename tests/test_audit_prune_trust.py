"""Prune records are believed only when the gateway signed them and they fit the archive they replaced."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.merkle import CompactRange
from gateway.audit.prune_note import PruneStatement, sign_prune
from gateway.audit.retention import prune
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.db import Database
from gateway.models import AuditPrune
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
    prune(db, signer, ORIGIN, months=12, archive_dir=tmp_path, now=START + timedelta(days=375))
    with db.engine.connect() as connection:
        frontier = connection.execute(select(PRUNE.c.frontier)).scalar_one()
    frontier["hashes"][0] = base64.b64encode(bytes(32)).decode()
    tamper(db, "UPDATE audit_prune SET frontier = :frontier", frontier=json.dumps(frontier))
    report = verify(db, signer)
    assert kinds(report)[0] == ("prune", 10)
    assert "frontier is not the one the gateway signed" in report.findings[0].message


def test_signed_prune_matching_its_archive_verifies(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, archive_dir=tmp_path, now=START + timedelta(days=375))
    report = verify(db, signer, tmp_path)
    assert report.ok and not report.notes, report.findings


def test_altered_archive_is_reported(db: Database, signer: Signer, tmp_path: Path) -> None:
    result = prune(db, signer, ORIGIN, months=12, archive_dir=tmp_path, now=START + timedelta(days=375))
    assert result.archive is not None
    result.archive.write_text(result.archive.read_text().replace("request/3", "request/X"))
    assert kinds(verify(db, signer, tmp_path)) == [("prune", 10)]


def test_unreachable_archive_is_said_not_failed(db: Database, signer: Signer, tmp_path: Path) -> None:
    result = prune(db, signer, ORIGIN, months=12, archive_dir=tmp_path, now=START + timedelta(days=375))
    assert result.archive is not None
    result.archive.unlink()
    report = verify(db, signer, tmp_path)
    assert report.ok and "not reachable" in report.notes[0]
