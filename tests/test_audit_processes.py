"""Several gateway processes appending at once keep one gap-free, verifiable order."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from gateway.audit.checkpoint import generate_signer
from gateway.audit.keys import signer_for
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditEntry
from gateway.settings import load_settings
from gateway.testing import ConfigFolder
from tests.audit_writer import main as write_entries
from tests.guichet_commands import ROOT, WAIT, assert_sealed_and_verified

WRITERS, EACH = 4, 25


def test_concurrent_processes_append_in_one_verifiable_order(guichet_database_url: str) -> None:
    script = Path(__file__).with_name("audit_writer.py")
    writers = [
        subprocess.Popen([sys.executable, str(script), guichet_database_url, str(writer), str(EACH)])
        for writer in range(WRITERS)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0] * WRITERS
    db = Database(guichet_database_url)
    try:
        with db.session() as session:
            rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
        assert [row.seq for row in rows] == list(range(WRITERS * EACH))
        by_writer = {writer: [r.resource for r in rows if r.actor_id == f"agent:{writer}"] for writer in range(WRITERS)}
        assert all(found == [f"request/{w}-{n}" for n in range(EACH)] for w, found in by_writer.items())
        signer = generate_signer("guichet.test/audit")
        seal(db, signer, "guichet.test/audit")
        report = verify_log(db, [signer.verifier()])
        assert report.ok and report.size == WRITERS * EACH
    finally:
        db.dispose()


@pytest.mark.crash
def test_a_sealing_process_killed_mid_seal_leaves_the_log_whole_and_the_restarted_seal_verifies(
    guichet_config: ConfigFolder, guichet_database_url: str
) -> None:
    """SIGKILL inside the seal's transaction: its heartbeat entry and checkpoint vanish together, the lock is free.

    :mod:`tests.crash_sealer` has appended an ``audit.seal`` entry and moved the
    head, and is about to sign, when it is killed. Afterwards the log is as it
    was (no entry, no checkpoint of the killed seal); ``guichet audit
    checkpoint`` seals (it would wait for ever on a lock left held) and ``guichet
    audit verify`` passes.
    """
    guichet_config.set_gateway(database={"url": guichet_database_url})
    settings = load_settings(guichet_config.path)
    write_entries(guichet_database_url, 0, EACH)
    db = Database(guichet_database_url)
    try:
        seal(db, signer_for(settings), settings.audit_origin)  # an earlier checkpoint, as the deployment seals it
    finally:
        db.dispose()
    write_entries(guichet_database_url, 1, EACH)
    before = log_state(guichet_database_url)

    sealer = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_sealer", str(guichet_config.path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sealer.stdout is not None
    assert sealer.stdout.readline().strip() == "signing"  # mid-seal: its heartbeat appended, not committed
    sealer.send_signal(signal.SIGKILL)
    sealer.communicate(timeout=WAIT)
    assert sealer.returncode == -signal.SIGKILL
    assert log_state(guichet_database_url) == before

    assert_sealed_and_verified(guichet_config)
    entries, checkpoints = log_state(guichet_database_url)
    assert checkpoints == before[1] + 1 and entries >= before[0]


def log_state(url: str) -> tuple[int, int]:
    """How many audit entries and checkpoints the database holds."""
    db = Database(url)
    try:
        with db.session() as session:
            entries = session.exec(select(func.count()).select_from(AuditEntry)).one()
            checkpoints = session.exec(select(func.count()).select_from(AuditCheckpoint)).one()
        return entries, checkpoints
    finally:
        db.dispose()
