"""Witness cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1), with the real cryptography."""

from __future__ import annotations

import base64
from hashlib import sha256

import pytest

from gateway.audit.checkpoint import Checkpoint, generate_signer, sign_note
from gateway.audit.cosignature import (
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    cosigned_message,
    generate_cosigner,
)

BODY = Checkpoint("guichet.test/audit", 12, sha256(b"root").digest()).body()


@pytest.fixture
def cosigner() -> CosignatureSigner:
    return generate_cosigner("witness.test/w1")


def test_cosigned_message_is_the_header_the_time_and_the_checkpoint() -> None:
    assert cosigned_message(BODY, 1679315147) == b"cosignature/v1\ntime 1679315147\n" + BODY.encode()


def test_key_id_follows_the_specification(cosigner: CosignatureSigner) -> None:
    expected = sha256(b"witness.test/w1\n\x04" + cosigner.public_key).digest()[:4]
    assert cosigner.key_id.to_bytes(4, "big") == expected


def test_signature_line_holds_key_id_timestamp_and_signature(cosigner: CosignatureSigner) -> None:
    line = cosigner.cosign(BODY, 1700000000).line()
    blob = base64.b64decode(line.split(" ")[2])
    assert len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[4:12], "big") == 1700000000


def test_cosignature_verifies_with_the_witness_key(cosigner: CosignatureSigner) -> None:
    cosignature = cosigner.cosign(BODY, 1700000000)
    assert CosignatureVerifier.from_text(cosigner.verifier().to_text()).verify(BODY, cosignature)


def test_cosignature_of_another_checkpoint_does_not_verify(cosigner: CosignatureSigner) -> None:
    cosignature = cosigner.cosign(BODY, 1700000000)
    assert not cosigner.verifier().verify(BODY.replace("12", "13"), cosignature)


def test_cosignature_with_a_changed_time_does_not_verify(cosigner: CosignatureSigner) -> None:
    cosignature = cosigner.cosign(BODY, 1700000000)
    moved = Cosignature(cosignature.name, cosignature.key_id, 1700000001, cosignature.signature)
    assert not cosigner.verifier().verify(BODY, moved)


def test_another_witness_key_does_not_verify(cosigner: CosignatureSigner) -> None:
    other = CosignatureSigner("witness.test/w1", b"\x07" * 32)
    assert not other.verifier().verify(BODY, cosigner.cosign(BODY, 1700000000))


def test_signing_key_text_round_trips(cosigner: CosignatureSigner) -> None:
    again = CosignatureSigner.from_text(cosigner.to_text())
    assert again.verifier() == cosigner.verifier()


def test_a_log_key_is_not_taken_for_a_witness_key() -> None:
    with pytest.raises(ValueError, match="0x04"):
        CosignatureVerifier.from_text(generate_signer("witness.test/w1").verifier().to_text())


def test_a_note_signature_is_found_among_a_notes_lines(cosigner: CosignatureSigner) -> None:
    log = generate_signer("guichet.test/audit")
    note = sign_note(BODY, [log]) + cosigner.cosign(BODY, 1700000000).line()
    assert cosigner.verifier().find(note) is not None
    assert generate_cosigner("witness.test/w2").verifier().find(note) is None
