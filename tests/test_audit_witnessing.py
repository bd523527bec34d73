"""The gateway sends each new checkpoint to its witnesses and keeps their checked cosignatures (a real witness)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from gateway.audit.checkpoint import Checkpoint, Signer, generate_signer, sign_checkpoint, split_note
from gateway.audit.cosignature import Cosignature, CosignatureSigner, generate_cosigner
from gateway.audit.events import AuditEvent
from gateway.audit.log import record
from gateway.audit.merkle import root
from gateway.audit.sealing import SealingPolicy, seal
from gateway.audit.witnessing import Witness, sealing_round, witness_checkpoint
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditCosignature
from tests.witness_log import running_witness

ORIGIN = "guichet.test/audit"


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


@pytest.fixture
def cosigner() -> CosignatureSigner:
    return generate_cosigner("witness.test/w1")


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


@pytest.fixture
def witness_url(tmp_path: Path, signer: Signer, cosigner: CosignatureSigner) -> Iterator[str]:
    with running_witness(tmp_path / "w", signer.verifier(), cosigner) as url:
        yield url


@pytest.fixture
def witness(witness_url: str, cosigner: CosignatureSigner) -> Witness:
    return Witness("w1", witness_url, cosigner.verifier())


def grow(db: Database, count: int) -> None:
    for number in range(count):
        with db.session() as session:
            event = AuditEvent(action="request.read", actor_id="agent:1", actor_role="agent",
                               resource=f"request/{number}", purpose="instruction", origin="cli test")  # fmt: skip
            record(session, event)


def stored(db: Database) -> list[AuditCosignature]:
    with db.session() as session:
        return list(session.scalars(select(AuditCosignature).order_by(AuditCosignature.size)))  # type: ignore[arg-type]


def test_new_checkpoint_is_cosigned_and_the_cosignature_stored(
    db: Database, signer: Signer, witness: Witness, cosigner: CosignatureSigner
) -> None:
    grow(db, 5)
    checkpoint = seal(db, signer, ORIGIN)
    [outcome] = witness_checkpoint(db, checkpoint, [witness])
    assert outcome.cosigned, outcome.message
    [row] = stored(db)
    assert (row.size, row.witness) == (5, "w1")
    _, signatures = split_note("x\n\n" + row.line)
    assert cosigner.verifier().verify(split_note(checkpoint.note)[0], Cosignature.from_note_signature(signatures[0]))


def test_next_checkpoint_goes_with_a_proof_from_the_witnessed_size(
    db: Database, signer: Signer, witness: Witness
) -> None:
    grow(db, 5)
    witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    grow(db, 8)
    [outcome] = witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    assert outcome.cosigned, outcome.message
    assert [row.size for row in stored(db)] == [5, 13]


def test_a_witness_ahead_of_our_records_answers_409_and_we_resend_from_its_size(
    db: Database, signer: Signer, witness: Witness
) -> None:
    grow(db, 4)
    first = seal(db, signer, ORIGIN)
    httpx.post(f"{witness.url}/add-checkpoint", content=f"old 0\n\n{first.note}")  # cosigned, not stored by us
    grow(db, 3)
    [outcome] = witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    assert outcome.cosigned, outcome.message
    assert [row.size for row in stored(db)] == [7]


def test_an_unreachable_witness_is_logged_and_retried_at_the_next_sealing(
    db: Database, signer: Signer, witness: Witness, caplog: pytest.LogCaptureFixture
) -> None:
    grow(db, 3)
    checkpoint = seal(db, signer, ORIGIN)
    down = Witness("w1", "http://127.0.0.1:9", witness.verifier)
    [outcome] = witness_checkpoint(db, checkpoint, [down])
    assert not outcome.cosigned and "unreachable" in outcome.message
    assert "did not cosign checkpoint 3" in caplog.text
    grow(db, 2)
    [outcome] = witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    assert outcome.cosigned
    assert [row.size for row in stored(db)] == [5]


def test_a_cosignature_by_another_key_is_not_stored(db: Database, signer: Signer, witness: Witness) -> None:
    grow(db, 3)
    expected = Witness("w1", witness.url, generate_cosigner("witness.test/w1").verifier())
    [outcome] = witness_checkpoint(db, seal(db, signer, ORIGIN), [expected])
    assert not outcome.cosigned and "no valid cosignature" in outcome.message
    assert stored(db) == []


def test_a_log_rolled_back_is_refused_and_reported_by_the_witness(
    db: Database, signer: Signer, witness: Witness, tmp_path: Path
) -> None:
    grow(db, 6)
    witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    with db.session() as session:
        leaves = list(session.execute(text("SELECT leaf_hash FROM audit_entry ORDER BY seq")).scalars())
    note = sign_checkpoint(Checkpoint(ORIGIN, 4, root(leaves[:4])), signer)
    earlier = AuditCheckpoint(size=4, root_hash=root(leaves[:4]), note=note, created_at=datetime.now(UTC))
    # as a gateway restored from an old backup would: it lost its cosignatures, and seals a smaller log
    [outcome] = witness_checkpoint(db, earlier, [Witness("w1-restored", witness.url, witness.verifier)])
    assert not outcome.cosigned and "HTTP 400" in outcome.message
    assert [path.name.split("-")[1] for path in (tmp_path / "w" / "reports").glob("*.json")] == ["backwards"]


@pytest.mark.parametrize("statement", ["UPDATE audit_cosignature SET line = 'x'", "DELETE FROM audit_cosignature"])
def test_cosignatures_are_append_only(db: Database, signer: Signer, witness: Witness, statement: str) -> None:
    grow(db, 2)
    witness_checkpoint(db, seal(db, signer, ORIGIN), [witness])
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))


def test_a_sealing_round_sends_a_checkpoint_sealed_elsewhere(db: Database, signer: Signer, witness: Witness) -> None:
    grow(db, 3)
    seal(db, signer, ORIGIN)  # as an export or the demo's seeding would, without witnesses
    nothing_due = SealingPolicy(every_entries=0, every=None, heartbeat_after=None)
    checkpoint, [outcome] = sealing_round(db, signer, ORIGIN, nothing_due, [witness])
    assert checkpoint is None and outcome.cosigned
    assert sealing_round(db, signer, ORIGIN, nothing_due, [witness]) == (None, [])
