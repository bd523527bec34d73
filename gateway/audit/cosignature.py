"""Witness cosignatures of checkpoints (C2SP tlog-cosignature, the Ed25519 ``cosignature/v1`` type).

A witness that has checked a checkpoint is consistent with what it saw before
signs, with its own Ed25519 key::

    cosignature/v1
    time <POSIX seconds>
    <the checkpoint's note text: origin, size, root hash, final newline>

and appends a note signature line ``— <witness name> base64(key id || timestamp || signature)``
to the checkpoint: a 4-byte key id, the timestamp as 8 bytes big-endian, and the
64-byte signature. The key id is the first 4 bytes of
SHA-256(name || "\\n" || 0x04 || public key); 0x04 also starts the witness's
verifier key text, ``<name>+<key id in hex>+<base64(0x04 || public key)>``, so a
log's key (type 0x01) can never be mistaken for a witness's, nor the reverse.

Signing and checking use the ``cryptography`` library's Ed25519, as checkpoints do.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.checkpoint import SIGNATURE_PREFIX, NoteError, NoteSignature, split_note, write_new_key_file

__all__ = [
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosigned_message",
    "generate_cosigner",
    "load_witness_key",
    "parse_signature_lines",
    "write_witness_key",
]

COSIGNATURE_V1 = 0x04
"""The signature-type byte of Ed25519 cosignature/v1 keys."""

_HINT = re.compile(r"[0-9a-f]{8}")
_MAX_TIMESTAMP = 2**63 - 1
_SIGNATURE_SIZE = 64
_KEY_SIZE = 32


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature signs: the ``cosignature/v1`` and ``time`` lines, then the checkpoint's note text."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError("a cosignature's timestamp is from 0 to 2**63-1")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def _key_id(name: str, public_key: bytes) -> int:
    digest = sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _check_name(name: str) -> None:
    if not name or any(char.isspace() or char == "+" or ord(char) < 0x20 for char in name):
        raise ValueError(f"witness name {name!r} must be non-empty, without spaces, '+' or control characters")


def _decode(text: str, what: str) -> bytes:
    try:
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        raise ValueError(f"{what} is not valid base64") from None
    if base64.b64encode(value).decode("ascii") != text:
        raise ValueError(f"{what} is not canonical padded base64")
    return value


@dataclass(frozen=True)
class Cosignature:
    """One witness's cosignature: its name and key id, when it signed, and the signature."""

    name: str
    key_id: int
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """The note signature line, newline included."""
        blob = self.key_id.to_bytes(4, "big") + self.timestamp.to_bytes(8, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"

    @classmethod
    def from_note_signature(cls, signature: NoteSignature) -> Cosignature:
        """Read the timestamp out of a note signature line; raises NoteError if it cannot hold one."""
        blob = signature.signature
        if len(blob) != 8 + _SIGNATURE_SIZE:
            raise NoteError(f"signature by {signature.name} is not a cosignature/v1 (wrong length)")
        timestamp = int.from_bytes(blob[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise NoteError(f"cosignature by {signature.name} has a timestamp beyond 2**63-1")
        return cls(signature.name, signature.key_hint, timestamp, blob[8:])


class CosignatureVerifier:
    """A witness's public key: checks its cosignatures."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name)
        if len(public_key) != _KEY_SIZE:
            raise ValueError(f"an Ed25519 public key is {_KEY_SIZE} bytes")
        self.name = name
        self.public_key = public_key
        self.key_id = _key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_text(cls, text: str) -> CosignatureVerifier:
        """Read ``<name>+<key id>+<base64(0x04 || public key)>``; raises ValueError naming the fault."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise ValueError("a witness key reads <name>+<8 hex digits>+<base64 key>")
        name, hint, encoded = parts
        _check_name(name)
        if not _HINT.fullmatch(hint):
            raise ValueError(f"witness key id {hint!r} is not 8 lower-case hex digits")
        typed = _decode(encoded, "witness key")
        if len(typed) != 1 + _KEY_SIZE or typed[0] != COSIGNATURE_V1:
            raise ValueError("witness key is not an Ed25519 cosignature/v1 key (type byte 0x04, 32 bytes)")
        verifier = cls(name, typed[1:])
        if f"{verifier.key_id:08x}" != hint:
            raise ValueError(f"witness key id {hint} does not match its name and key")
        return verifier

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def matches(self, signature: NoteSignature | Cosignature) -> bool:
        """Whether a signature line claims to come from this key (name and key id)."""
        key_id = signature.key_id if isinstance(signature, Cosignature) else signature.key_hint
        return signature.name == self.name and key_id == self.key_id

    def verify(self, body: str, cosignature: Cosignature) -> bool:
        """Whether ``cosignature`` is this witness's over the checkpoint note text ``body``."""
        if not self.matches(cosignature) or len(cosignature.signature) != _SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(cosignature.signature, cosigned_message(body, cosignature.timestamp))
        except (InvalidSignature, ValueError):
            return False
        return True

    def find(self, note: str) -> Cosignature | None:
        """This witness's valid cosignature among a signed note's lines, if there is one."""
        body, signatures = split_note(note)
        for signature in signatures:
            if not self.matches(signature):
                continue
            try:
                cosignature = Cosignature.from_note_signature(signature)
            except NoteError:
                continue
            if self.verify(body, cosignature):
                return cosignature
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CosignatureVerifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.to_text()!r})"


class CosignatureSigner:
    """A witness's private key: cosigns checkpoints. Its ``repr`` never shows the key."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        _check_name(name)
        if len(seed) != _KEY_SIZE:
            raise ValueError(f"an Ed25519 private key seed is {_KEY_SIZE} bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = _key_id(name, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> CosignatureSigner:
        """Read ``PRIVATE+KEY+<name>+<key id>+<base64(0x04 || seed)>``; the error never echoes the key."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("a witness signing key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
        _, _, name, hint, encoded = parts
        _check_name(name)
        typed = _decode(encoded, "witness signing key")
        if len(typed) != 1 + _KEY_SIZE or typed[0] != COSIGNATURE_V1:
            raise ValueError("witness signing key is not an Ed25519 cosignature/v1 key (type byte 0x04, 32 bytes)")
        signer = cls(name, typed[1:])
        if f"{signer.key_id:08x}" != hint:
            raise ValueError(f"witness signing key id {hint} does not match its name and key")
        return signer

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self._key.private_bytes_raw()).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """The cosignature of the checkpoint note text ``body`` at ``timestamp`` (POSIX seconds)."""
        signature = self._key.sign(cosigned_message(body, timestamp))
        return Cosignature(self.name, self.key_id, timestamp, signature)

    def __repr__(self) -> str:
        return f"CosignatureSigner(name={self.name!r}, key_id={self.key_id:08x})"


def generate_cosigner(name: str) -> CosignatureSigner:
    """A new random witness key named ``name``."""
    return CosignatureSigner(name, Ed25519PrivateKey.generate().private_bytes_raw())


def parse_signature_lines(text: str) -> list[NoteSignature]:
    """The note signature lines of a witness's answer (each ``— <name> <base64>`` and a newline)."""
    if not text.endswith("\n") or not text.startswith(SIGNATURE_PREFIX):
        raise NoteError("a witness answers with signature lines, each ended by a newline")
    # a note with a placeholder text reuses the strict signature-line reader
    _, signatures = split_note("x\n\n" + text)
    return signatures


def load_witness_key(path: Path, name: str | None = None, *, create: bool = False) -> CosignatureSigner:
    """The witness key stored in ``path``; with ``create`` (and a ``name``) a missing file is made, mode 0600."""
    try:
        signer = CosignatureSigner.from_text(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not (create and name):
            raise FileNotFoundError(f"witness key {path} does not exist (`guichet audit witness-keygen`)") from None
        signer = generate_cosigner(name)
        try:
            write_witness_key(path, signer)
        except FileExistsError:  # made meanwhile by another process: use that one
            return load_witness_key(path, name)
        return signer
    except ValueError as error:
        raise ValueError(f"witness key {path} is malformed: {error}") from None
    if name is not None and signer.name != name:
        raise ValueError(f"witness key {path} is for {signer.name!r}, not {name!r}")
    return signer


def write_witness_key(path: Path, signer: CosignatureSigner) -> None:
    """Write a new key file readable by its owner only, whole before anyone can read it; never overwrite one."""
    write_new_key_file(path, signer.to_text())
