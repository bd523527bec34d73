"""`verify` against a witness's checkpoint: a checkpoint the database lost, a cosignature that does not check, the CLI.

The tail rewritten or cut after the last local checkpoint is caught against a witness
as against a file of notes: tests/test_audit_held.py runs those cases on both.

The log: 12 entries, checkpoints at 8 and 12, both sent to a real witness; the one
at 12 was then deleted from the database, so 8 is the last local checkpoint and
the tail after it is vouched for only by the witness.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from gateway.audit.checkpoint import Signer, Verifier, generate_signer
from gateway.audit.cosignature import CosignatureSigner, generate_cosigner
from gateway.audit.sealing import seal
from gateway.audit.verify import Report, verify_log
from gateway.audit.witnessing import Witness, WitnessUnavailable, fetch_witnessed, witness_checkpoint
from gateway.cli import main
from gateway.db import Database
from gateway.testing import ConfigFolder, migrate
from tests.audit_tamper import grow_and_seal, tamper
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
def witness(tmp_path: Path, signer: Signer, cosigner: CosignatureSigner, db: Database) -> Iterator[Witness]:
    with running_witness(tmp_path / "w", signer.verifier(), cosigner) as url:
        witness = Witness("w1", url, cosigner.verifier())
        grow_and_seal(db, signer, ORIGIN, lambda checkpoint: witness_checkpoint(db, checkpoint, [witness]))
        yield witness


def verify(db: Database, signer: Signer, witness: Witness) -> Report:
    with httpx.Client() as client:
        note = fetch_witnessed(witness.url, ORIGIN, witness.verifier, client=client)
    return verify_log(db, [signer.verifier()], held=[note], origin=ORIGIN)


def test_database_lacking_the_witnessed_checkpoint_fails(db: Database, signer: Signer, witness: Witness) -> None:
    report = verify(db, signer, witness)
    assert [(finding.kind, finding.seq) for finding in report.findings] == [("checkpoint", 12)]


def test_witnessed_checkpoint_passes_when_the_database_still_has_it(
    db: Database, signer: Signer, witness: Witness
) -> None:
    seal(db, signer, ORIGIN)  # sealed again at 12: the same root
    assert verify(db, signer, witness).ok


def test_a_checkpoint_without_the_witness_cosignature_is_not_taken(witness: Witness) -> None:
    stranger = generate_cosigner("witness.test/w1").verifier()
    with httpx.Client() as client, pytest.raises(WitnessUnavailable, match="no valid cosignature"):
        fetch_witnessed(witness.url, ORIGIN, stranger, client=client)


def test_cli_verify_fails_against_a_witness_holding_a_checkpoint_the_database_lost(
    config: ConfigFolder, tmp_path: Path
) -> None:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config.path), "demo", "seed"]).exit_code == 0
    key = runner.invoke(main, ["--config", str(config.path), "audit", "key"]).output.strip()
    cosigner = generate_cosigner("witness.test/cli")
    with running_witness(tmp_path / "w", Verifier.from_text(key), cosigner) as url:
        witness = {"name": "w1", "url": url, "key": cosigner.verifier().to_text()}
        config.set_gateway(audit={"witnesses": [witness]})
        sealed = runner.invoke(main, ["--config", str(config.path), "audit", "checkpoint"])
        assert "witness w1: cosigned" in sealed.output
        database = Database(f"sqlite:///{config.data_dir / 'guichet.db'}")
        tamper(database, "DELETE FROM audit_checkpoint")
        database.dispose()
        result = runner.invoke(main, ["--config", str(config.path), "audit", "verify", "--witness", url])
    assert result.exit_code == 1
    assert "the database lacks checkpoint" in result.output


def test_cli_verify_fails_when_the_witness_cannot_be_reached(config: ConfigFolder) -> None:
    migrate(f"sqlite:///{config.data_dir / 'guichet.db'}")
    result = CliRunner().invoke(
        main, ["--config", str(config.path), "audit", "verify", "--witness", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "unreachable" in result.output
