"""Signed checkpoints of the audit log, in the transparency-log "signed note" format.

A checkpoint (C2SP tlog-checkpoint) commits to the log's size and Merkle root::

    guichet.example/audit
    1234
    <base64 of the 32-byte root hash>

It is published as a signed note (C2SP signed-note): the text above, a blank
line, then one line per signature, ``— <key name> <base64(key hint || signature)>``.
The signature is Ed25519 over the text's UTF-8 bytes, final newline included.
The 4-byte key hint is the start of SHA-256(name || "\\n" || 0x01 || public key),
0x01 naming the Ed25519 signature type. Keys are exchanged as text:
``<name>+<hint>+<base64(0x01 || public key)>`` for verifiers and
``PRIVATE+KEY+<name>+<hint>+<base64(0x01 || seed)>`` for signers, so the
checkpoints can be checked by the Go ``sumdb/note`` tooling and tlog witnesses.

Parsing is strict: anything that is not exactly this shape raises
:class:`NoteError`, with a message saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "NoteError",
    "NoteSignature",
    "Signer",
    "Verifier",
    "generate_signer",
    "key_hint",
    "load_or_create_signer",
    "open_note",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
    "split_note",
    "verify_note",
]

ED25519 = 0x01
"""The signature-type byte of Ed25519 keys in signed notes."""

SIGNATURE_PREFIX = "\u2014 "
"""Each signature line starts with an EM DASH and a space."""

MAX_SIGNATURES = 100
"""More signature lines than this make the note malformed (as in the Go implementation)."""

HASH_SIZE = 32
_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HINT = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A signed note is malformed, or its signatures do not check out."""


def _has_control_character(text: str, *, allow_newline: bool) -> bool:
    return any((ord(char) < 0x20 and not (allow_newline and char == "\n")) or char == "\x7f" for char in text)


def _name_fault(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if any(char.isspace() for char in name):
        return "must not contain whitespace"
    if "+" in name:
        return "must not contain '+'"
    if _has_control_character(name, allow_newline=False):
        return "must not contain control characters"
    return None


def _check_name(name: str) -> None:
    fault = _name_fault(name)
    if fault:
        raise ValueError(f"key name {name!r} {fault}")


def _strict_b64decode(text: str, what: str) -> bytes:
    """Standard padded base64, in its one canonical spelling; anything else raises NoteError."""
    try:
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(value).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical padded base64")
    return value


def key_hint(name: str, public_key: bytes) -> int:
    """The 32-bit key hint of an Ed25519 key: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || key)."""
    digest = sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    __slots__ = ("_key", "key_hint", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name)
        if not isinstance(public_key, bytes) or len(public_key) != _PUBLIC_KEY_SIZE:
            raise ValueError(f"an Ed25519 public key is {_PUBLIC_KEY_SIZE} bytes")
        self.name = name
        self.public_key = public_key
        self.key_hint = key_hint(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        """Read a verifier key, ``<name>+<hint>+<base64(0x01 || public key)>``; raises ValueError if malformed."""
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise ValueError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
        name, hint, encoded = parts
        _check_name(name)
        if not _HINT.fullmatch(hint):
            raise ValueError(f"verifier key hint {hint!r} is not 8 lower-case hex digits")
        typed = _strict_b64decode(encoded, "verifier key")
        if not typed or typed[0] != ED25519:
            raise ValueError("verifier key is not an Ed25519 key (type byte 0x01)")
        if len(typed) != 1 + _PUBLIC_KEY_SIZE:
            raise ValueError(f"an Ed25519 verifier key holds {_PUBLIC_KEY_SIZE} bytes, not {len(typed) - 1}")
        verifier = cls(name, typed[1:])
        if f"{verifier.key_hint:08x}" != hint:
            raise ValueError(f"verifier key hint {hint} does not match its name and key")
        return verifier

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hint:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (64 bytes, without the key hint) signs ``message`` with this key."""
        if len(signature) != _SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.to_text()!r})"


class Signer:
    """A named Ed25519 private key that signs notes. Its ``repr`` never shows the key."""

    __slots__ = ("_key", "key_hint", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        _check_name(name)
        if not isinstance(seed, bytes) or len(seed) != _SEED_SIZE:
            raise ValueError(f"an Ed25519 private key seed is {_SEED_SIZE} bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_hint = key_hint(name, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """Read a signer key, ``PRIVATE+KEY+<name>+<hint>+<base64(0x01 || seed)>``; raises ValueError if malformed."""
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("a signer key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
        _, _, name, hint, encoded = parts
        _check_name(name)
        if not _HINT.fullmatch(hint):
            raise ValueError(f"signer key hint {hint!r} is not 8 lower-case hex digits")
        try:
            typed = _strict_b64decode(encoded, "signer key")
        except NoteError as error:  # never echo any part of a private key
            raise ValueError(str(error)) from None
        if not typed or typed[0] != ED25519:
            raise ValueError("signer key is not an Ed25519 key (type byte 0x01)")
        if len(typed) != 1 + _SEED_SIZE:
            raise ValueError(f"an Ed25519 signer key holds a {_SEED_SIZE}-byte seed, not {len(typed) - 1} bytes")
        signer = cls(name, typed[1:])
        if f"{signer.key_hint:08x}" != hint:
            raise ValueError(f"signer key hint {hint} does not match its name and public key")
        return signer

    def to_text(self) -> str:
        """The secret key text; store it with care (see :func:`load_or_create_signer`)."""
        encoded = base64.b64encode(bytes([ED25519]) + self._key.private_bytes_raw()).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_hint:08x}+{encoded}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_hint={self.key_hint:08x})"


def generate_signer(name: str) -> Signer:
    """A new random Ed25519 signer for ``name``."""
    return Signer(name, Ed25519PrivateKey.generate().private_bytes_raw())


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key's name and hint, and the signature bytes after the hint."""

    name: str
    key_hint: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_hint.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint commits to: the log's origin, its size and its Merkle root.

    ``extensions`` are optional further body lines; we never write any, but a
    parsed checkpoint keeps them so its body reproduces the signed text.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [("origin", self.origin), *(("extension line", line) for line in self.extensions)]:
            if not isinstance(line, str) or not line:
                raise ValueError(f"checkpoint {what} must be a non-empty string")
            if _has_control_character(line, allow_newline=False):
                raise ValueError(f"checkpoint {what} must not contain a newline or control character")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise ValueError(f"checkpoint size must be an integer from 0 to 2**64-1, not {self.size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"checkpoint root hash must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The note text that gets signed, final newline included."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_body(cls, body: str) -> Checkpoint:
        """Read a checkpoint body strictly; raises NoteError naming the fault."""
        if not body.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint text has {len(lines)} lines; it needs origin, size and root hash")
        for number, line in enumerate(lines, start=1):
            if not line:
                raise NoteError(f"checkpoint line {number} is empty")
            if _has_control_character(line, allow_newline=False):
                raise NoteError(f"checkpoint line {number} contains a control character")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise NoteError(f"checkpoint size {size_text!r} is not a decimal number without leading zeros")
        size = int(size_text)
        if size > _MAX_TREE_SIZE:
            raise NoteError(f"checkpoint size {size_text} does not fit in 64 bits")
        root_hash = _strict_b64decode(root_text, "checkpoint root hash")
        if len(root_hash) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash is {len(root_hash)} bytes, not {HASH_SIZE}")
        return cls(origin, size, root_hash, tuple(extensions))


def sign_note(body: str, signers: Sequence[Signer]) -> str:
    """The signed note of ``body`` (which must end with a newline) by each of ``signers``."""
    if not signers:
        raise ValueError("a signed note needs at least one signer")
    if not body.endswith("\n") or "\n\n" in body or body.startswith("\n"):
        raise ValueError("a note text ends with a newline and has no empty line")
    if _has_control_character(body, allow_newline=True):
        raise ValueError("a note text must not contain control characters other than newlines")
    message = body.encode("utf-8")
    lines = [NoteSignature(signer.name, signer.key_hint, signer.sign(message)).line() for signer in signers]
    return body + "\n" + "".join(lines)


def sign_checkpoint(checkpoint: Checkpoint, *signers: Signer) -> str:
    """The full signed note text of ``checkpoint`` (at least one signer)."""
    return sign_note(checkpoint.body(), signers)


def split_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (final newline included) and its signature lines, checking only the shape."""
    if not isinstance(text, str):
        raise NoteError("a note is text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note is not valid UTF-8 text") from None
    if _has_control_character(text, allow_newline=True):
        raise NoteError("note contains a control character other than newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between its text and its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise NoteError("note has no signature line")
    if not block.endswith("\n"):
        raise NoteError("note's last signature line does not end with a newline")
    signatures = []
    for number, line in enumerate(block[:-1].split("\n"), start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash (U+2014) and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        fault = _name_fault(name)
        if fault:
            raise NoteError(f"signature line {number}: key name {name!r} {fault}")
        if not encoded:
            raise NoteError(f"signature line {number} has no signature after the key name")
        blob = _strict_b64decode(encoded, f"signature line {number}")
        if len(blob) < 5:
            raise NoteError(f"signature line {number} is too short to hold a key hint and a signature")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return body, signatures


def parse_note(text: str) -> tuple[Checkpoint, list[NoteSignature]]:
    """The checkpoint and the (unverified) signatures of a signed checkpoint note; raises NoteError if malformed."""
    body, signatures = split_note(text)
    return Checkpoint.from_body(body), signatures


def _known(verifiers: Verifier | Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in [verifiers] if isinstance(verifiers, Verifier) else verifiers:
        key = (verifier.name, verifier.key_hint)
        if known.setdefault(key, verifier) != verifier:
            raise ValueError(f"two different verifier keys share the name and hint {verifier.name}+{key[1]:08x}")
    return known


def open_note(text: str, verifiers: Verifier | Iterable[Verifier]) -> tuple[str, list[NoteSignature]]:
    """Check a signed note: its text and the signatures by known keys, once each.

    Signatures by unknown keys are ignored; a signature by a known key that does
    not verify rejects the note, as does a note without any signature by a known
    key. Raises NoteError.
    """
    known = _known(verifiers)
    body, signatures = split_note(text)
    message = body.encode("utf-8")
    verified: dict[tuple[str, int], NoteSignature] = {}
    for signature in signatures:
        key = (signature.name, signature.key_hint)
        verifier = known.get(key)
        if verifier is None:
            continue
        if not verifier.verify(message, signature.signature):
            raise NoteError(f"invalid signature for key {signature.name}+{signature.key_hint:08x}")
        verified.setdefault(key, signature)
    if not verified:
        present = ", ".join(f"{signature.name}+{signature.key_hint:08x}" for signature in signatures)
        raise NoteError(f"note has no signature by a known key (signed by {present})")
    return body, list(verified.values())


def verify_note(text: str, verifiers: Verifier | Iterable[Verifier], *, origin: str | None = None) -> Checkpoint:
    """The checkpoint of a signed note, once its shape and a known key's signature check out.

    With ``origin``, the checkpoint must also name that log. Raises NoteError.
    """
    body, _ = split_note(text)
    checkpoint = Checkpoint.from_body(body)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    open_note(text, verifiers)
    return checkpoint


def load_or_create_signer(path: Path, name: str, *, create: bool) -> Signer:
    """The signer whose key text is stored in ``path``, for key name ``name``.

    When the file is missing and ``create`` is true (demo deployments only), a
    new key is written there, readable by the owner only; without ``create`` a
    missing file raises FileNotFoundError. A key for another name raises ValueError.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not create:
            raise FileNotFoundError(
                f"audit signing key {path} does not exist; generate one and store it there (mode 0600)"
            ) from None
        signer = generate_signer(name)
        try:
            _write_new_key(path, signer)
        except FileExistsError:  # created meanwhile by another process: use that one
            text = path.read_text(encoding="utf-8")
        else:
            return signer
    try:
        signer = Signer.from_text(text.strip())
    except ValueError as error:
        raise ValueError(f"audit signing key {path} is malformed: {error}") from None
    if signer.name != name:
        raise KeyNameMismatch(path, signer.name, name)
    return signer


class KeyNameMismatch(ValueError):
    """A stored signing key bears another log's name than the one expected."""

    def __init__(self, path: Path, found: str, expected: str) -> None:
        self.path = path
        self.found = found
        self.expected = expected
        super().__init__(f"audit signing key {path} is for {found!r}, not {expected!r}")


def _write_new_key(path: Path, signer: Signer) -> None:
    write_new_key_file(path, signer.to_text())


def write_new_key_file(path: Path, text: str) -> None:
    """Write a new private key file at ``path``, whole, readable by its owner only; never overwrite one.

    The text goes to a file of its own first, then is linked to ``path`` (FileExistsError if
    ``path`` exists, even as a symbolic link): processes starting together (two workers, a
    server and its worker) never read a key file that exists but is still empty.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(written, path)
    finally:
        os.unlink(written)
