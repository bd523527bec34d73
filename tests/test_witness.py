"""The witness (C2SP tlog-witness): cosigns consistent checkpoints, refuses and reports the others."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from click.testing import CliRunner

from gateway.audit.checkpoint import generate_signer, split_note
from gateway.audit.cosignature import Cosignature, CosignatureSigner, generate_cosigner, parse_signature_lines
from gateway.cli import main
from gateway.witness.app import create_witness_app
from gateway.witness.config import WitnessConfig, follow
from tests.witness_log import ORIGIN, MemoryLog, bogus_hash


@pytest.fixture
def log() -> MemoryLog:
    log = MemoryLog()
    log.grow(10)
    return log


@pytest.fixture
def cosigner() -> CosignatureSigner:
    return generate_cosigner("witness.test/w1")


def config_for(tmp_path: Path, log: MemoryLog, cosigner: CosignatureSigner) -> WitnessConfig:
    return WitnessConfig(
        signer=cosigner,
        logs=follow([log.signer.verifier().to_text()]),
        state_file=tmp_path / "witness.sqlite",
        reports_dir=tmp_path / "reports",
    )


@pytest_asyncio.fixture
async def witness(tmp_path: Path, log: MemoryLog, cosigner: CosignatureSigner) -> AsyncIterator[httpx.AsyncClient]:
    app = create_witness_app(config_for(tmp_path, log, cosigner))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://witness") as client:
        yield client


def reports(tmp_path: Path) -> list[dict[str, object]]:
    folder = tmp_path / "reports"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.exists() else []


async def test_first_checkpoint_is_cosigned_with_a_valid_cosignature(
    witness: httpx.AsyncClient, log: MemoryLog, cosigner: CosignatureSigner
) -> None:
    answer = await witness.post("/add-checkpoint", content=log.body(0))
    assert answer.status_code == 200, answer.text
    [line] = parse_signature_lines(answer.text)
    body, _ = split_note(log.note())
    assert cosigner.verifier().verify(body, Cosignature.from_note_signature(line))


async def test_consistent_growth_is_cosigned(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    log.grow(7)
    answer = await witness.post("/add-checkpoint", content=log.body(10))
    assert answer.status_code == 200, answer.text


async def test_latest_checkpoint_is_served_with_the_cosignature(
    witness: httpx.AsyncClient, log: MemoryLog, cosigner: CosignatureSigner
) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    answer = await witness.get(f"/checkpoint/{ORIGIN}")
    assert answer.status_code == 200
    assert answer.text.startswith(split_note(log.note())[0])
    assert cosigner.verifier().find(answer.text) is not None


async def test_stale_old_size_gets_409_with_the_witness_size(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    log.grow(5)
    answer = await witness.post("/add-checkpoint", content=log.body(4))
    assert (answer.status_code, answer.text) == (409, "10\n")
    assert answer.headers["content-type"] == "text/x.tlog.size"


async def test_bad_proof_gets_422_and_a_report(witness: httpx.AsyncClient, log: MemoryLog, tmp_path: Path) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    log.grow(5)
    answer = await witness.post("/add-checkpoint", content=log.body(10, proof=[bogus_hash("a"), bogus_hash("b")]))
    assert answer.status_code == 422
    assert [report["kind"] for report in reports(tmp_path)] == ["inconsistent"]


async def test_rewritten_history_is_refused_with_both_checkpoints_as_evidence(
    witness: httpx.AsyncClient, log: MemoryLog, tmp_path: Path
) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    forked = MemoryLog(log.signer, salt="rewritten ")
    forked.grow(15)
    answer = await witness.post("/add-checkpoint", content=forked.body(10))
    assert answer.status_code == 422
    [report] = reports(tmp_path)
    assert report["held_checkpoint"].split("\n")[1] == "10"
    assert report["submitted_checkpoint"].split("\n")[1] == "15"


async def test_log_going_backwards_is_refused_and_reported(
    witness: httpx.AsyncClient, log: MemoryLog, tmp_path: Path
) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    answer = await witness.post("/add-checkpoint", content=log.body(10, size=6, proof=[]))
    assert answer.status_code == 400
    [report] = reports(tmp_path)
    assert report["kind"] == "backwards"
    assert (report["held_checkpoint"].split("\n")[1], report["submitted_checkpoint"].split("\n")[1]) == ("10", "6")


async def test_another_root_at_the_same_size_is_a_reported_fork(
    witness: httpx.AsyncClient, log: MemoryLog, tmp_path: Path
) -> None:
    await witness.post("/add-checkpoint", content=log.body(0))
    forked = MemoryLog(log.signer, salt="forked ")
    forked.grow(10)
    answer = await witness.post("/add-checkpoint", content=forked.body(10))
    assert answer.status_code == 409
    assert [report["kind"] for report in reports(tmp_path)] == ["fork"]


async def test_checkpoint_signed_by_an_unknown_key_gets_403(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    impostor = MemoryLog(generate_signer(ORIGIN))
    impostor.leaves = list(log.leaves)
    answer = await witness.post("/add-checkpoint", content=impostor.body(0))
    assert answer.status_code == 403


async def test_unknown_log_gets_404(witness: httpx.AsyncClient) -> None:
    stranger = MemoryLog(generate_signer("elsewhere.test/log"))
    stranger.grow(3)
    body = stranger.body(0).replace(ORIGIN.encode(), b"elsewhere.test/log")
    answer = await witness.post("/add-checkpoint", content=body)
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "body",
    [b"", b"old 01\n\nx", b"old 0\nnot-base64!\n\nx", b"old 0\n", "old 0\n\n\u00e9".encode("latin-1")],
    ids=["empty", "leading-zero", "bad-proof-line", "no-checkpoint", "not-utf8"],
)
async def test_malformed_submission_gets_400(witness: httpx.AsyncClient, body: bytes) -> None:
    answer = await witness.post("/add-checkpoint", content=body)
    assert answer.status_code == 400


async def test_state_survives_a_restart(tmp_path: Path, log: MemoryLog, cosigner: CosignatureSigner) -> None:
    config = config_for(tmp_path, log, cosigner)
    for expected in (200, 409):
        app = create_witness_app(config)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w") as client:
            answer = await client.post("/add-checkpoint", content=log.body(0))
        assert answer.status_code == expected


async def test_oversized_submission_gets_413(witness: httpx.AsyncClient) -> None:
    answer = await witness.post("/add-checkpoint", content=b"old 0\n" + b"A" * 70_000)
    assert answer.status_code == 413


async def test_the_witness_publishes_its_verifier_key(witness: httpx.AsyncClient, cosigner: CosignatureSigner) -> None:
    answer = await witness.get("/key")
    assert answer.text.strip() == cosigner.verifier().to_text()


async def test_add_checkpoint_is_post_only(witness: httpx.AsyncClient) -> None:
    assert (await witness.get("/add-checkpoint")).status_code == 405


async def test_latest_of_a_log_not_followed_is_404(witness: httpx.AsyncClient) -> None:
    assert (await witness.get("/checkpoint/elsewhere.test/log")).status_code == 404


def test_keygen_writes_a_private_key_file_and_prints_the_verifier_key(tmp_path: Path) -> None:
    key_file = tmp_path / "witness.key"
    result = CliRunner().invoke(main, ["audit", "witness-keygen", "temoin.test", "-o", str(key_file)])
    assert result.exit_code == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert CosignatureSigner.from_text(key_file.read_text()).verifier().to_text() == result.output.strip()


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    key_file = tmp_path / "witness.key"
    key_file.write_text("kept")
    result = CliRunner().invoke(main, ["audit", "witness-keygen", "temoin.test", "-o", str(key_file)])
    assert result.exit_code == 1 and key_file.read_text() == "kept"


def test_a_log_is_followed_under_its_key_name_or_the_origin_given() -> None:
    key = generate_signer("guichet.test/audit").verifier().to_text()
    assert list(follow([key])) == ["guichet.test/audit"]
    assert list(follow([f"other.test/log {key}"])) == ["other.test/log"]
