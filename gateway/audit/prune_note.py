"""Signed prune records: the gateway's own statement of where retention cut the log.

When retention deletes the prefix [0, k) it keeps the frontier of the tree at
k, which stands for the deleted entries. A row anyone with database access
can write must not be believed, so the cut is signed, as a checkpoint is, in
the signed-note format (same keys, same code)::

    guichet-audit-prune/v1
    <origin>
    <k>
    <base64 of MTH(D[0:k]), the root of the frontier>
    <hex SHA-256 of the archived bundle, or "-" when none was written>

The first line keeps it from ever being read as a checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.checkpoint import NoteError, Signer, Verifier, open_note, sign_note

HEADER = "guichet-audit-prune/v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_SHA256 = re.compile(r"[0-9a-f]{64}|-")


@dataclass(frozen=True)
class PruneStatement:
    origin: str
    size: int
    root_hash: bytes
    archive_sha256: str | None

    def body(self) -> str:
        lines = [HEADER, self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"),
                 self.archive_sha256 or "-"]  # fmt: skip
        return "".join(line + "\n" for line in lines)


def sign_prune(statement: PruneStatement, signer: Signer) -> str:
    return sign_note(statement.body(), [signer])


def verify_prune(note: str, verifiers: Sequence[Verifier]) -> PruneStatement:
    """The statement of a prune note signed by one of ``verifiers``; raises NoteError naming the fault."""
    body, _ = open_note(note, verifiers)
    lines = body[:-1].split("\n")
    if len(lines) != 5 or lines[0] != HEADER:
        raise NoteError(f"not a {HEADER} note")
    _, origin, size, root, digest = lines
    if not _DECIMAL.fullmatch(size) or not _SHA256.fullmatch(digest):
        raise NoteError("prune note has a malformed size or archive digest")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except ValueError:
        raise NoteError("prune note's root is not base64") from None
    if len(root_hash) != 32:
        raise NoteError("prune note's root is not 32 bytes")
    return PruneStatement(origin, int(size), root_hash, None if digest == "-" else digest)


#: how a prune record names an archive kept in the database (records made before then hold a file path)
STORED_PREFIX = "stored-file:"


def stored_archive_name(archive: str | None) -> str | None:
    """The stored file a prune record's archive is, or None for an archive kept as a file (before 0014)."""
    if archive and archive.startswith(STORED_PREFIX):
        return archive.removeprefix(STORED_PREFIX)
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
