"""`guichet audit verify` finds and locates every kind of tampering, on SQLite and PostgreSQL.

The log: 12 entries, a checkpoint sealed at 8 (so the last four are after it).
Tampering is done as the database owner would, the append-only guards lifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.events import AuditEvent
from gateway.audit.log import record
from gateway.audit.merkle import leaf_hash
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.db import Database
from gateway.models import AuditEntry
from tests.audit_tamper import forge_log, read_log, tamper, unguarded

ORIGIN = "guichet.test/audit"
TABLE = AuditEntry.__table__  # type: ignore[attr-defined]
SIZE = 12
DAY = timedelta(days=1)


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


def verify(db: Database, signer: Signer, **options: object) -> Report:
    return verify_log(db, [signer.verifier()], **options)  # type: ignore[arg-type]


def kinds(report: Report) -> list[tuple[str, int | None]]:
    return [(finding.kind, finding.seq) for finding in report.findings]


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


def test_changed_time_is_located(db: Database, signer: Signer) -> None:
    with db.engine.connect() as connection:
        time = connection.execute(select(TABLE.c.time).where(TABLE.c.seq == 4)).scalar_one()
    tamper(db, "UPDATE audit_entry SET time = :time WHERE seq = 4", time=time - DAY)
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("modified", 4)
    assert "time" in finding.message


def test_text_rehashed_without_rechaining_is_located(db: Database, signer: Signer) -> None:
    with db.engine.connect() as connection:
        encoded = connection.execute(select(TABLE.c.encoded).where(TABLE.c.seq == 9)).scalar_one()
    forged = encoded.replace("instruction", "controle")
    tamper(db, "UPDATE audit_entry SET encoded = :e, purpose = 'controle', leaf_hash = :l WHERE seq = 9",
           e=forged, l=leaf_hash(forged.encode()))  # fmt: skip
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("modified", 9)


def test_change_rehashed_and_rechained_under_a_checkpoint_is_caught_by_it(db: Database, signer: Signer) -> None:
    entries = read_log(db)
    entries[2]["actor_id"] = "agent:1"
    forge_log(db, entries)
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("checkpoint", 0)
    assert "does not match checkpoint 8" in finding.message


def test_deleted_entry_is_located(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_entry WHERE seq = 4")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("deleted", 4)


def test_entry_inserted_at_the_tail_is_caught_by_the_head(db: Database, signer: Signer) -> None:
    with db.engine.connect() as connection:
        row = dict(connection.execute(select(TABLE).where(TABLE.c.seq == SIZE - 1)).mappings().one())
    forged = row["encoded"].replace(f'"seq":{SIZE - 1}', f'"seq":{SIZE}')
    with unguarded(db) as connection:
        connection.execute(TABLE.insert().values({**row, "seq": SIZE, "encoded": forged,
                                                  "leaf_hash": leaf_hash(forged.encode())}))  # fmt: skip
    [finding] = verify(db, signer).findings
    assert finding.seq == SIZE


def test_entry_inserted_in_the_middle_is_located(db: Database, signer: Signer) -> None:
    """A forged entry slipped in at position 6, later ones renumbered, its own hash computed correctly."""
    with db.engine.connect() as connection:
        template = dict(connection.execute(select(TABLE).where(TABLE.c.seq == 6)).mappings().one())
    forged_text = template["encoded"].replace('"resource":"request/MSG-2026-000006"', '"resource":"request/forged"')
    forged = {**template, "resource": "request/forged", "encoded": forged_text,
              "leaf_hash": leaf_hash(forged_text.encode())}  # fmt: skip
    tamper(db, "UPDATE audit_entry SET seq = seq + 100 WHERE seq >= 6",
           "UPDATE audit_entry SET seq = seq - 99 WHERE seq >= 100")  # fmt: skip
    with unguarded(db) as connection:
        connection.execute(TABLE.insert().values(**forged))
    [finding] = verify(db, signer).findings
    assert finding.seq == 6


def test_swapped_entries_are_located(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_entry SET seq = -1 WHERE seq = 2", "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
           "UPDATE audit_entry SET seq = 3 WHERE seq = -1")  # fmt: skip
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("inserted-or-reordered", 2)


def test_truncated_tail_is_caught_by_the_head(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_entry WHERE seq >= 10")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("head", 10)


def test_truncated_tail_with_the_head_rewritten_is_caught_only_by_the_age_of_the_seal(
    db: Database, signer: Signer
) -> None:
    forge_log(db, read_log(db)[:8])
    assert verify(db, signer).ok  # nobody outside holds the tail: the honest limit, see test_audit_held
    stale = verify(db, signer, max_age=timedelta(hours=1), now=datetime.now(UTC) + DAY)
    assert kinds(stale) == [("stale", None)]


def test_truncation_below_a_checkpoint_is_located(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_entry WHERE seq >= 6")
    [finding] = verify(db, signer).findings
    assert (finding.kind, finding.seq) == ("truncated", 6)
    assert "checkpoint 8" in finding.message


def test_altered_checkpoint_note_is_detected(db: Database, signer: Signer) -> None:
    with db.engine.connect() as connection:
        note = connection.execute(text("SELECT note FROM audit_checkpoint")).scalar_one()
    body, signature_line = note.rsplit("\n\n", 1)
    name, blob = signature_line.rsplit(" ", 1)
    forged = body + "\n\n" + name + " " + ("A" if blob[0] != "A" else "B") + blob[1:]
    tamper(db, "UPDATE audit_checkpoint SET note = :note", note=forged)
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint" and "checkpoint 8" in finding.message


def test_altered_checkpoint_root_is_detected(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_checkpoint SET root_hash = :root", root=bytes(32))
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint" and "differ from its signed note" in finding.message


def test_altered_checkpoint_size_is_detected(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_checkpoint SET size = 9")
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint" and "checkpoint 9" in finding.message


def test_forged_checkpoint_is_detected(db: Database, signer: Signer) -> None:
    seal(db, generate_signer(ORIGIN), ORIGIN)  # a key that is not the gateway's
    [finding] = verify(db, signer).findings
    assert finding.kind == "checkpoint" and "checkpoint 12" in finding.message


def test_checkpoint_by_an_unknown_key_is_rejected(db: Database) -> None:
    [finding] = verify_log(db, [generate_signer(ORIGIN).verifier()]).findings
    assert finding.kind == "checkpoint"


def test_all_checkpoints_deleted_then_entries_rewritten_fails_for_want_of_a_seal(db: Database, signer: Signer) -> None:
    entries = read_log(db)
    entries[2]["actor_id"] = "agent:1"
    tamper(db, "DELETE FROM audit_checkpoint")
    forge_log(db, entries)
    assert kinds(verify(db, signer, max_age=timedelta(hours=1))) == [("stale", None)]


def test_all_checkpoints_deleted_then_truncated_fails_for_want_of_a_seal(db: Database, signer: Signer) -> None:
    tamper(db, "DELETE FROM audit_checkpoint")
    forge_log(db, read_log(db)[:5])
    assert kinds(verify(db, signer, max_age=timedelta(hours=1))) == [("stale", None)]


def test_fresh_seal_passes_the_age_check(db: Database, signer: Signer) -> None:
    seal(db, signer, ORIGIN)
    assert verify(db, signer, max_age=timedelta(hours=1)).ok


def test_a_heartbeat_keeps_a_quiet_log_fresh(db: Database, signer: Signer) -> None:
    later = datetime.now(UTC) + DAY
    seal(db, signer, ORIGIN, heartbeat_after=timedelta(minutes=30), now=later)
    report = verify(db, signer, max_age=timedelta(hours=1), now=later)
    assert report.ok and report.size == SIZE + 1


def test_rewritten_head_is_detected(db: Database, signer: Signer) -> None:
    tamper(db, "UPDATE audit_head SET size = 11")
    [finding] = verify(db, signer).findings
    assert finding.kind == "head"
