"""`guichet audit verify` finds and locates every kind of tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import record
from gateway.audit.merkle import CompactRange, leaf_hash
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.db import Database
from gateway.models import AuditEntry

ORIGIN = "guichet.test/audit"
TABLE = AuditEntry.__table__  # type: ignore[attr-defined]
SIZE = 12


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


@pytest.fixture
def db(guichet_database_url: str, signer: Signer) -> Iterator[Database]:
    """A log of 12 entries sealed at 8, then 4 more appended (so the last ones are after the checkpoint)."""
    database = Database(guichet_database_url)
    for number in range(SIZE):
        with database.session() as session:
            record(
                session,
                AuditEvent(
                    action="request.read",
                    actor_id=f"agent:{number % 3}",
                    actor_role="agent",
                    resource=f"request/MSG-2026-{number:06d}",
                    purpose="instruction",
                    origin="web 192.0.2.1",
                    commune="corbas",
                ),
            )
        if number == 7:
            seal(database, signer, ORIGIN)
    yield database
    database.dispose()


def tamper(db: Database, *statements: str) -> None:
    """What someone with the database administrator's rights could do, triggers aside."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
        for statement in statements:
            connection.execute(text(statement))


def verify(db: Database, signer: Signer) -> Report:
    return verify_log(db, [signer.verifier()])


def test_untouched_log_verifies(db: Database, signer: Signer) -> None:
    report = verify(db, signer)
    assert report.ok, report.findings
    assert (report.size, report.checkpoints) == (SIZE, 1)


def test_one_changed_byte_is_located(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_entry SET encoded = replace(encoded, 'agent:2', 'agent:9') WHERE seq = 5")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("modified", 5)


def test_changed_search_column_is_located(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_entry SET actor_id = 'agent:7' WHERE seq = 3")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("modified", 3)
    assert "column actor_id" in finding.message


def test_deleted_entry_is_located(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_entry WHERE seq = 4")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("deleted", 4)


def test_swapped_entries_are_located(db: Database, signer: Signer) -> None:
    tamper(
        db,
        "UPDATE audit_entry SET seq = -1 WHERE seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = -1",
    )
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("inserted-or-reordered", 2)


def test_inserted_entry_is_located(db: Database, signer: Signer) -> None:
    """A forged entry slipped in at position 6, later ones renumbered, its own hash computed correctly."""
    with db.engine.connect() as connection:
        template = dict(connection.execute(select(TABLE).where(TABLE.c.seq == 6)).mappings().one())
    forged_text = template["encoded"].replace('"resource":"request/MSG-2026-000006"', '"resource":"request/forged"')
    forged = {
        **template,
        "resource": "request/forged",
        "encoded": forged_text,
        "leaf_hash": leaf_hash(forged_text.encode()),
    }
    tamper(
        db,
        "UPDATE audit_entry SET seq = seq + 100 WHERE seq >= 6",
        "UPDATE audit_entry SET seq = seq - 99 WHERE seq >= 100",
    )
    with db.engine.begin() as connection:
        connection.execute(TABLE.insert().values(**forged))
    [finding] = verify(db, signer).findings
    assert finding.seq == 6


def test_truncated_log_is_detected(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_entry WHERE seq >= 6")
    findings = verify(db, signer).findings
    assert findings[0].kind == "truncated"
    assert "checkpoint 8" in findings[0].message


def test_forged_checkpoint_signature_is_detected(db: Database, signer: Signer) -> None:
    with db.engine.begin() as connection:
        note = connection.execute(text("SELECT note FROM audit_checkpoint")).scalar_one()
        body, signature_line = note.rsplit("\n\n", 1)
        name, blob = signature_line.rsplit(" ", 1)
        forged = body + "\n\n" + name + " " + ("A" if blob[0] != "A" else "B") + blob[1:]
        connection.execute(text("UPDATE audit_checkpoint SET note = :note"), {"note": forged})
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint"


def test_checkpoint_by_an_unknown_key_is_rejected(db: Database) -> None:
    [finding] = verify_log(db, [generate_signer(ORIGIN).verifier()]).findings
    assert finding.kind == "checkpoint"


def test_rewritten_history_is_caught_by_the_checkpoint(db: Database, signer: Signer) -> None:
    """Entry 2 changed and every hash after it recomputed: only the signed checkpoint can tell."""
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, encoded FROM audit_entry ORDER BY seq")).all()
    frontier = CompactRange()
    statements = []
    for seq, encoded in rows:
        if seq == 2:
            encoded = encoded.replace("agent:2", "agent:1")
        leaf = leaf_hash(encoded.encode())
        frontier.append(leaf)
        statements.append((seq, encoded, leaf, frontier.root()))
    tamper(db)
    with db.engine.begin() as connection:
        for seq, encoded, leaf, root in statements:
            connection.execute(
                text(
                    "UPDATE audit_entry SET encoded = :e, actor_id = :a, leaf_hash = :l, root_after = :r WHERE seq = :s"
                ),
                {"e": encoded, "a": "agent:1" if seq == 2 else f"agent:{seq % 3}", "l": leaf, "r": root, "s": seq},
            )
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint"
    assert "does not match checkpoint 8" in finding.message
