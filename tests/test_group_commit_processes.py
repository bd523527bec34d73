"""Group commit across processes: batches of several processes against one database, and processes killed.

Each process (:mod:`tests.batch_filer`) prints what it acknowledged; the test
then reads the database: every acknowledged filing is there once, nothing
else is, every stored request is whole (its history line and its audit
entry), and the audit log verifies.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from gateway.audit.checkpoint import generate_signer
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.models import RequestEvent, ServiceRequest
from gateway.models.audit import AuditEntry
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import enable

ROOT = Path(__file__).resolve().parent.parent
EACH, SHARED = 12, 4
WAIT = 120  # seconds: a bound on a hang, never a measure


def spawn(config: ConfigFolder, url: str, name: str, mode: str, *counts: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.batch_filer", str(config.path), url, name, mode, *map(str, counts)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def acknowledged(lines: list[str]) -> dict[str, str]:
    """Submission key -> reference, for every filing a process answered."""
    return {key: reference for word, key, reference in (line.split() for line in lines if line.startswith("filed "))}


def stored(url: str) -> dict[str, str | None]:
    """Submission key -> reference of every stored request, after checking each is whole."""
    db = Database(url)
    try:
        with db.read_session(all_communes=True) as session:
            rows = session.exec(select(ServiceRequest)).all()
            history = session.exec(select(func.count()).select_from(RequestEvent)).one()
            created = session.exec(select(AuditEntry.resource).where(AuditEntry.action == "request.create")).all()
        assert history == len(rows)
        assert sorted(created) == sorted(f"request/{row.reference}" for row in rows)
        return {row.submission_key: row.reference for row in rows if row.submission_key}
    finally:
        db.dispose()


def verified_size(url: str) -> int:
    """The size of the audit log, once sealed and verified from its first entry."""
    db = Database(url)
    try:
        signer = generate_signer("guichet.test/audit")
        seal(db, signer, "guichet.test/audit")
        report = verify_log(db, [signer.verifier()])
        assert report.ok, report.findings
        return report.size
    finally:
        db.dispose()


@pytest.fixture
def config(guichet_config: ConfigFolder) -> ConfigFolder:
    enable(guichet_config)
    return guichet_config


def test_two_processes_batching_at_once_store_each_filing_once(config: ConfigFolder, guichet_database_url: str) -> None:
    filers = [spawn(config, guichet_database_url, f"p{number}", "file", EACH, SHARED) for number in range(2)]
    outputs = [filer.communicate(timeout=WAIT)[0].splitlines() for filer in filers]
    assert [filer.returncode for filer in filers] == [0, 0]
    answered = [acknowledged(lines) for lines in outputs]
    found = stored(guichet_database_url)
    assert len(found) == 2 * EACH + SHARED and len(set(found.values())) == len(found)
    assert {**answered[0], **answered[1]} == found
    assert all(answered[0][key] == answered[1][key] for key in (f"shared-{n}" for n in range(SHARED)))
    assert verified_size(guichet_database_url) == len(found)


@pytest.mark.parametrize(("moment", "ready"), [("between", "idle"), ("during", "in-batch")])
def test_a_process_killed_between_or_during_batches_keeps_what_it_acknowledged_and_nothing_half(
    config: ConfigFolder, guichet_database_url: str, moment: str, ready: str
) -> None:
    filer = spawn(config, guichet_database_url, "k", f"stop-{moment}", EACH)
    assert filer.stdout is not None
    lines = []
    for line in filer.stdout:  # the process waits to be killed once it says it is ready
        lines.append(line.strip())
        if line.strip() == ready:
            break
    filer.kill()
    lines.extend(filer.communicate(timeout=WAIT)[0].splitlines())
    assert ready in lines
    answered = acknowledged(lines)
    assert len(answered) == EACH
    assert stored(guichet_database_url) == answered  # in the killed batch: nothing stored, nothing acknowledged
    survivor = spawn(config, guichet_database_url, "after", "file", 1)  # the lock the killed process held is free
    survivor.communicate(timeout=WAIT)
    assert survivor.returncode == 0
    assert len(stored(guichet_database_url)) == EACH + 1 == verified_size(guichet_database_url)
