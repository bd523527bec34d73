"""Signed checkpoints of the audit log: the C2SP signed-note format, keys, and the signing key file."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from pathlib import Path

import pytest

from gateway.audit.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    generate_signer,
    key_hint,
    load_or_create_signer,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_note,
)

ORIGIN = "guichet.example/audit"
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
CHECKPOINT = Checkpoint(ORIGIN, 8, ROOT_8)

# Pinned once from the signer whose Ed25519 seed is 32 zero bytes (Ed25519 signing is deterministic).
ZERO_SIGNER = Signer(ORIGIN, bytes(32))
ZERO_VERIFIER_KEY = "guichet.example/audit+89a2f7dd+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ZERO_SIGNER_KEY = "PRIVATE+KEY+guichet.example/audit+89a2f7dd+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
ZERO_NOTE = (
    "guichet.example/audit\n"
    "8\n"
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    "\n"
    "— guichet.example/audit "
    "iaL33eCL/FLenTvoAJae9AVHsXny9+I7+TjuHk9l2SJYYt64d91OKd8ZjnnirG4CSWSxiPqJmSiaPbTolQ4wU3Dnhgg=\n"
)

# The example of golang.org/x/mod/sumdb/note, an independent implementation of the format.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _signed(checkpoint: Checkpoint = CHECKPOINT) -> str:
    return sign_checkpoint(checkpoint, ZERO_SIGNER)


def _with_body(note: str, body: str) -> str:
    """The note's signature lines under another body."""
    return body + note[note.index("\n\n") + 1 :]


# --- Signing and verifying. ----------------------------------------------------------------------


def test_signed_checkpoint_round_trips_through_parse_and_verify() -> None:
    note = _signed()
    checkpoint, signatures = parse_note(note)
    assert checkpoint == CHECKPOINT
    assert [(s.name, s.key_hint) for s in signatures] == [(ORIGIN, ZERO_SIGNER.key_hint)]
    assert verify_note(note, [ZERO_SIGNER.verifier()]) == CHECKPOINT


def test_signed_note_is_the_body_a_blank_line_and_an_em_dash_signature_line() -> None:
    body, blank, line, end = _signed().rsplit("\n", 3)
    assert body.split("\n") == [ORIGIN, "8", base64.b64encode(ROOT_8).decode()]
    assert (blank, end) == ("", "")
    dash, name, blob = line.split(" ")
    assert (dash, name) == ("\u2014", ORIGIN)
    assert len(base64.b64decode(blob)) == 4 + 64


def test_signature_covers_the_body_bytes_with_its_final_newline() -> None:
    _, [signature] = parse_note(_signed())
    assert ZERO_SIGNER.verifier().verify(CHECKPOINT.body().encode(), signature.signature)
    assert CHECKPOINT.body().endswith("=\n")


def test_fixed_seed_signer_gives_a_stable_note() -> None:
    assert _signed() == ZERO_NOTE


def test_fixed_seed_signer_gives_stable_key_texts() -> None:
    assert (ZERO_SIGNER.to_text(), ZERO_SIGNER.verifier().to_text()) == (ZERO_SIGNER_KEY, ZERO_VERIFIER_KEY)


def test_key_hint_is_the_start_of_sha256_of_name_newline_type_and_key() -> None:
    public_key = ZERO_SIGNER.public_key
    digest = hashlib.sha256(ORIGIN.encode() + b"\x0a" + b"\x01" + public_key).digest()
    assert ZERO_SIGNER.key_hint == int.from_bytes(digest[:4], "big") == key_hint(ORIGIN, public_key)
    assert ZERO_VERIFIER_KEY.split("+")[1] == digest[:4].hex()


def test_go_sumdb_note_example_is_signed_identically() -> None:
    signer = Signer.from_text(GO_SIGNER_KEY)
    assert signer.verifier().to_text() == GO_VERIFIER_KEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE


def test_go_sumdb_note_example_verifies() -> None:
    body, signatures = open_note(GO_NOTE, Verifier.from_text(GO_VERIFIER_KEY))
    assert body == GO_TEXT
    assert [(s.name, f"{s.key_hint:08x}") for s in signatures] == [("PeterNeumann", "c74f20a3")]


def test_forged_signature_is_rejected() -> None:
    _, [signature] = parse_note(_signed())
    forged = NoteSignature(
        signature.name, signature.key_hint, bytes([signature.signature[0] ^ 1]) + signature.signature[1:]
    )
    note = CHECKPOINT.body() + "\n" + forged.line()
    with pytest.raises(NoteError, match=f"invalid signature for key {ORIGIN}\\+89a2f7dd"):
        verify_note(note, [ZERO_SIGNER.verifier()])


def test_forged_signature_by_a_known_key_is_rejected_even_beside_a_valid_one() -> None:
    _, [signature] = parse_note(_signed())
    forged = NoteSignature(signature.name, signature.key_hint, bytes(64))
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(_signed() + forged.line(), [ZERO_SIGNER.verifier()])


def test_signature_by_an_unknown_key_is_rejected() -> None:
    stranger = generate_signer(ORIGIN)
    with pytest.raises(NoteError, match="no signature by a known key"):
        verify_note(sign_checkpoint(CHECKPOINT, stranger), [ZERO_SIGNER.verifier()])


def test_signature_by_an_unknown_key_is_ignored_beside_a_known_one() -> None:
    witness = generate_signer("witness.example")
    note = sign_checkpoint(CHECKPOINT, ZERO_SIGNER, witness)
    assert verify_note(note, [ZERO_SIGNER.verifier()]) == CHECKPOINT
    assert verify_note(note, [witness.verifier()]) == CHECKPOINT


def test_changed_size_is_rejected() -> None:
    note = _with_body(_signed(), Checkpoint(ORIGIN, 9, ROOT_8).body())
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(note, [ZERO_SIGNER.verifier()])


def test_changed_root_is_rejected() -> None:
    note = _with_body(_signed(), Checkpoint(ORIGIN, 8, bytes(32)).body())
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(note, [ZERO_SIGNER.verifier()])


def test_checkpoint_for_another_log_is_rejected() -> None:
    other = Signer("other.example/audit", bytes(32))
    note = sign_checkpoint(Checkpoint("other.example/audit", 8, ROOT_8), other)
    with pytest.raises(NoteError, match=re.escape("not 'guichet.example/audit'")):
        verify_note(note, [other.verifier()], origin=ORIGIN)


def test_extension_lines_are_kept_and_signed() -> None:
    checkpoint = Checkpoint(ORIGIN, 8, ROOT_8, ("timestamp 1700000000",))
    assert verify_note(sign_checkpoint(checkpoint, ZERO_SIGNER), ZERO_SIGNER.verifier()) == checkpoint


def test_two_verifier_keys_sharing_a_name_and_hint_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = generate_signer(ORIGIN).verifier()
    monkeypatch.setattr(impostor, "key_hint", ZERO_SIGNER.key_hint)
    with pytest.raises(ValueError, match="share the name and hint"):
        verify_note(_signed(), [ZERO_SIGNER.verifier(), impostor])


# --- Malformed notes. ----------------------------------------------------------------------------

ROOT_TEXT = base64.b64encode(ROOT_8).decode()
SIGNATURE_LINE = ZERO_NOTE.split("\n\n")[1]


@pytest.mark.parametrize(
    ("note", "fault"),
    [
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n{SIGNATURE_LINE}", "no blank line"),
        (f"{ORIGIN}\n08\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "without leading zeros"),
        (f"{ORIGIN}\n+8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "without leading zeros"),
        (f"{ORIGIN}\n８\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "without leading zeros"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT[:-1]}!\n\n{SIGNATURE_LINE}", "root hash is not valid base64"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT.rstrip('=')}\n\n{SIGNATURE_LINE}", "root hash is not valid base64"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT[:-2]}h=\n\n{SIGNATURE_LINE}", "not canonical"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT_8[:31]).decode()}\n\n{SIGNATURE_LINE}", "31 bytes, not 32"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n", "no signature line"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}\n", "no signature line"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE.rstrip()}", "does not end with a newline"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE.replace('—', '-')}", "em dash"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE.replace('—', '–')}", "em dash"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE.replace('— ', '—')}", "em dash"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n— {ORIGIN}\n", "no signature after the key name"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n— {ORIGIN} AAAA\n", "too short"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE.replace(' ', '  ', 1)}", "key name ''"),
        (f"{ORIGIN}\n8\n\n{SIGNATURE_LINE}", "needs origin, size and root hash"),
        (f"\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "line 1 is empty"),
        (f"{ORIGIN}\r\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "control character"),
        (f"{ORIGIN}\n8\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}\n{SIGNATURE_LINE}", "line 4 is empty"),
        (f"{ORIGIN}\n18446744073709551616\n{ROOT_TEXT}\n\n{SIGNATURE_LINE}", "64 bits"),
    ],
    ids=[
        "missing-blank-line",
        "leading-zero",
        "plus-sign",
        "non-ascii-digit",
        "bad-base64-character",
        "unpadded-base64",
        "non-canonical-base64",
        "31-byte-root",
        "no-signature-line",
        "trailing-blank-line",
        "signature-without-newline",
        "hyphen-instead-of-em-dash",
        "en-dash-instead-of-em-dash",
        "no-space-after-dash",
        "signature-missing",
        "signature-too-short",
        "empty-key-name",
        "missing-root-line",
        "empty-origin",
        "carriage-return",
        "blank-line-inside-signatures",
        "size-beyond-64-bits",
    ],
)
def test_malformed_note_is_rejected(note: str, fault: str) -> None:
    with pytest.raises(NoteError, match=fault):
        parse_note(note)
    with pytest.raises(NoteError):
        verify_note(note, [ZERO_SIGNER.verifier()])


def test_size_zero_is_accepted() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    assert parse_note(_signed(checkpoint))[0] == checkpoint


def test_note_that_is_not_valid_utf8_is_rejected() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        parse_note(ZERO_NOTE.replace("guichet", "gu\udcffichet", 1))


@pytest.mark.parametrize(
    ("origin", "size", "root_hash"),
    [("", 1, ROOT_8), ("a\nb", 1, ROOT_8), (ORIGIN, -1, ROOT_8), (ORIGIN, 2**64, ROOT_8), (ORIGIN, 1, ROOT_8[:31])],
    ids=["empty-origin", "newline-in-origin", "negative-size", "size-beyond-64-bits", "31-byte-root"],
)
def test_checkpoint_refuses_invalid_fields(origin: str, size: int, root_hash: bytes) -> None:
    with pytest.raises(ValueError):
        Checkpoint(origin, size, root_hash)


# --- Keys. ---------------------------------------------------------------------------------------


def test_signer_key_text_round_trips() -> None:
    signer = generate_signer(ORIGIN)
    restored = Signer.from_text(signer.to_text())
    assert restored.to_text() == signer.to_text()
    assert restored.verifier() == signer.verifier()


def test_verifier_key_text_round_trips() -> None:
    verifier = generate_signer(ORIGIN).verifier()
    assert Verifier.from_text(verifier.to_text()) == verifier


def test_generated_signers_differ() -> None:
    assert generate_signer(ORIGIN).public_key != generate_signer(ORIGIN).public_key


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        (ZERO_VERIFIER_KEY.replace("+89a2f7dd+", "+89a2f7de+"), "does not match"),
        (ZERO_VERIFIER_KEY.replace("+89a2f7dd+", "+89A2F7DD+"), "lower-case hex"),
        (ZERO_VERIFIER_KEY.replace("guichet.example/audit", "other"), "does not match"),
        (ZERO_VERIFIER_KEY.replace("+ATtq", "+AjTq"), "not an Ed25519 key"),
        (ZERO_VERIFIER_KEY[:-4], "not canonical|not valid base64|holds"),
        ("guichet.example/audit+89a2f7dd", "reads <name>"),
    ],
    ids=["wrong-hint", "upper-case-hint", "wrong-name", "wrong-type", "short-key", "missing-key"],
)
def test_malformed_verifier_key_is_refused(text: str, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        Verifier.from_text(text)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        (ZERO_SIGNER_KEY.replace("+89a2f7dd+", "+00000000+"), "does not match"),
        (ZERO_SIGNER_KEY.replace("PRIVATE+KEY+", "PRIVATE+"), "reads PRIVATE"),
        (ZERO_SIGNER_KEY.replace("+AQAA", "+AgAA"), "not an Ed25519 key"),
        (ZERO_VERIFIER_KEY, "reads PRIVATE"),
    ],
    ids=["wrong-hint", "missing-key-marker", "wrong-type", "verifier-key"],
)
def test_malformed_signer_key_is_refused(text: str, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        Signer.from_text(text)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\nb", "a\tb"], ids=["empty", "space", "plus", "newline", "tab"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="key name"):
        generate_signer(name)


def test_signer_repr_hides_the_private_key() -> None:
    assert repr(ZERO_SIGNER) == "Signer(name='guichet.example/audit', key_hint=89a2f7dd)"
    assert "AQAAAAAA" not in repr(ZERO_SIGNER)


# --- The signing key file. -----------------------------------------------------------------------


def test_missing_key_file_is_created_with_mode_0600_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    load_or_create_signer(path, ORIGIN, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith(f"PRIVATE+KEY+{ORIGIN}+")


def test_created_key_file_is_read_back_identically(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    created = load_or_create_signer(path, ORIGIN, create=True)
    assert load_or_create_signer(path, ORIGIN, create=True).to_text() == created.to_text()
    assert load_or_create_signer(path, ORIGIN, create=False).to_text() == created.to_text()


def test_missing_key_file_is_refused_without_create(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    with pytest.raises(FileNotFoundError, match=r"audit signing key .*audit\.key does not exist"):
        load_or_create_signer(path, ORIGIN, create=False)
    assert not path.exists()


def test_key_file_for_another_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text(ZERO_SIGNER_KEY + "\n")
    with pytest.raises(ValueError, match=re.escape("is for 'guichet.example/audit', not 'other.example'")):
        load_or_create_signer(path, "other.example", create=False)


def test_malformed_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text(ZERO_SIGNER_KEY[:-3] + "\n")
    with pytest.raises(ValueError, match="is malformed") as raised:
        load_or_create_signer(path, ORIGIN, create=False)
    assert "AQAAAAAA" not in str(raised.value)
