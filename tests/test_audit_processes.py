"""Several gateway processes appending at once keep one gap-free, verifiable order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from gateway.audit.checkpoint import generate_signer
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.db import Database
from gateway.models import AuditEntry

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
