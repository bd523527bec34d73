"""Checkpoints held outside the database (a file, a witness's store) catch what the database alone cannot.

The log: 12 entries, checkpoints at 8 and 12; the one at 12 was handed out, then deleted from
the database, so 8 is the last local checkpoint and the tail after it is known only outside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.audit.checkpoint import Signer, generate_signer
from gateway.audit.cosignature import generate_cosigner
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.audit.verify_records import read_notes
from gateway.audit.witnessing import Witness, fetch_witnessed, witness_checkpoint
from gateway.db import Database
from tests.audit_tamper import forge_log, grow_and_seal, read_log
from tests.witness_log import running_witness

ORIGIN = "guichet.test/audit"
#: ``verify`` against the checkpoints held outside the database
Verifying = Callable[[], Report]


@pytest.fixture
def signer() -> Signer:
    return generate_signer(ORIGIN)


@pytest.fixture
def db(guichet_database_url: str) -> Iterator[Database]:
    database = Database(guichet_database_url)
    yield database
    database.dispose()


@pytest.fixture
def held(db: Database, signer: Signer) -> str:
    """The notes held outside: the checkpoints at 8 and 12, one after the other."""
    notes: list[str] = []
    grow_and_seal(db, signer, ORIGIN, lambda checkpoint: notes.append(checkpoint.note))
    return "\n".join(notes)


@pytest.fixture(params=["file", "witness"])
def outside(request: pytest.FixtureRequest, db: Database, signer: Signer, tmp_path: Path) -> Iterator[Verifying]:
    """``verify`` against what is held outside: a file of the notes, or a real witness's latest cosigned checkpoint."""
    if request.param == "file":
        notes: list[str] = []
        grow_and_seal(db, signer, ORIGIN, lambda checkpoint: notes.append(checkpoint.note))
        yield lambda: verify(db, signer, "\n".join(notes))
        return
    cosigner = generate_cosigner("witness.test/w1")
    with running_witness(tmp_path / "w", signer.verifier(), cosigner) as url:
        witness = Witness("w1", url, cosigner.verifier())
        grow_and_seal(db, signer, ORIGIN, lambda checkpoint: witness_checkpoint(db, checkpoint, [witness]))

        def against_witness() -> Report:
            with httpx.Client() as client:
                note = fetch_witnessed(url, ORIGIN, witness.verifier, client=client)
            return verify_log(db, [signer.verifier()], held=[note], origin=ORIGIN)

        yield against_witness


def verify(db: Database, signer: Signer, held: str) -> Report:
    return verify_log(db, [signer.verifier()], held=read_notes(held), origin=ORIGIN)


def test_a_file_of_notes_splits_into_its_checkpoints(held: str) -> None:
    assert [note.split("\n")[1] for note in read_notes(held)] == ["8", "12"]


def test_database_lacking_a_held_checkpoint_fails(db: Database, signer: Signer, held: str) -> None:
    report = verify(db, signer, held)
    assert [(finding.kind, finding.seq) for finding in report.findings] == [("checkpoint", 12)]
    assert "lacks checkpoint 12" in report.findings[0].message


def test_held_checkpoints_pass_when_the_database_still_has_them(db: Database, signer: Signer, held: str) -> None:
    seal(db, signer, ORIGIN)  # sealed again at 12: the same root
    report = verify(db, signer, held)
    assert report.ok, report.findings
    assert (report.checkpoints, report.held) == (2, 2)


def test_held_checkpoint_by_another_key_is_refused(db: Database, signer: Signer, held: str) -> None:
    report = verify_log(db, [signer.verifier()], held=[seal(db, generate_signer(ORIGIN), ORIGIN).note])
    assert any("held outside" in finding.message for finding in report.findings)


def test_tail_changed_after_the_last_local_checkpoint_is_caught(db: Database, outside: Verifying) -> None:
    entries = read_log(db)
    entries[10]["actor_id"] = "agent:0"
    forge_log(db, entries)
    findings = outside().findings
    assert (findings[-1].kind, findings[-1].seq) == ("checkpoint", 8)
    assert "held checkpoint 12: entries 8 to 11" in findings[-1].message


def test_tail_deleted_and_renumbered_is_caught(db: Database, outside: Verifying) -> None:
    entries = read_log(db)
    forge_log(db, entries[:9] + entries[10:])
    findings = outside().findings
    assert (findings[-1].kind, findings[-1].seq) == ("truncated", 11)


def test_tail_inserted_into_is_caught(db: Database, outside: Verifying) -> None:
    entries = read_log(db)
    forge_log(db, [*entries[:10], {**entries[9], "resource": "request/forged"}, *entries[10:]])
    findings = outside().findings
    assert (findings[-1].kind, findings[-1].seq) == ("checkpoint", 8)


def test_tail_truncated_with_the_head_rewritten_is_caught(db: Database, outside: Verifying) -> None:
    forge_log(db, read_log(db)[:9])
    findings = outside().findings
    assert (findings[-1].kind, findings[-1].seq) == ("truncated", 9)
