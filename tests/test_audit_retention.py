"""Retention removes a sealed, archived prefix; what remains, and the archive, still verify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import stored_files
from gateway.audit.bundle import parse_bundle, verify_bundle
from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import append
from gateway.audit.prune_note import stored_archive_name
from gateway.audit.retention import prune
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.models import AuditEntry
from gateway.settings import ConfigError, load_settings
from gateway.testing import ConfigFolder
from tests.audit_tamper import tamper

ORIGIN = "guichet.test/audit"
START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


def add(db: Database, count: int, first_day: int) -> None:
    for day in range(first_day, first_day + count):
        with db.session() as session:
            event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent", resource=f"request/{day}",
                               purpose="instruction", origin="cli test", commune="givors")  # fmt: skip
            append(session, [event], now=START + timedelta(days=day))


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    add(database, 30, 0)  # one entry a day in January 2025
    yield database
    database.dispose()


def count(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_entries_older_than_the_period_are_removed(db: Database, signer: Signer, tmp_path: Path) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=365 + 10))
    assert (result.removed, result.kept_from) == (10, 10)
    assert count(db) == 20


def test_remaining_log_still_verifies_after_pruning(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=375))
    add(db, 5, 400)
    seal(db, signer, ORIGIN)
    report = verify_log(db, [signer.verifier()])
    assert report.ok, report.findings
    assert (report.first, report.size, report.checkpoints) == (10, 35, 2)


def test_pruning_twice_keeps_the_log_verifiable(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=370))
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=380))
    report = verify_log(db, [signer.verifier()])
    assert report.ok and report.first == 15


def test_pruned_entries_are_archived_as_a_verifiable_bundle(db: Database, signer: Signer, tmp_path: Path) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=370))
    assert result.archive is not None
    name = stored_archive_name(result.archive)
    assert name is not None
    with db.read_session() as session:
        content = stored_files.read(session, name)
    summary = verify_bundle(parse_bundle(content, "archive"), [signer.verifier()])
    assert summary.entries == 5


def test_tampering_after_pruning_is_still_located(db: Database, signer: Signer, tmp_path: Path) -> None:
    prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=370))
    tamper(db, "DELETE FROM audit_entry WHERE seq = 12")
    [finding] = verify_log(db, [signer.verifier()]).findings
    assert (finding.kind, finding.seq) == ("deleted", 12)


def test_nothing_recent_is_removed(db: Database, signer: Signer, tmp_path: Path) -> None:
    result = prune(db, signer, ORIGIN, months=12, now=START + timedelta(days=40))
    assert (result.removed, result.archive) == (0, None)
    assert count(db) == 30


def test_retention_above_twelve_months_needs_a_reason(config: ConfigFolder) -> None:
    config.set_gateway(audit={"retention_months": 24})
    with pytest.raises(ConfigError, match="retention_reason"):
        load_settings(config.path)


def test_retention_above_three_years_is_refused(config: ConfigFolder) -> None:
    config.set_gateway(audit={"retention_months": 48, "retention_reason": "contentieux"})
    with pytest.raises(ConfigError) as raised:
        load_settings(config.path)
    assert raised.value.key == "audit.retention_months"
