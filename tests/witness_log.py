"""An in-memory log that signs checkpoints and writes add-checkpoint bodies, to talk to a witness in tests."""

from __future__ import annotations

import base64
from hashlib import sha256

from gateway.audit.checkpoint import Checkpoint, Signer, generate_signer, sign_checkpoint
from gateway.audit.merkle import consistency_proof, leaf_hash, root

ORIGIN = "guichet.test/audit"


class MemoryLog:
    """Leaves held in memory, checkpoints signed with a real key."""

    def __init__(self, signer: Signer | None = None, *, salt: str = "") -> None:
        self.signer = signer or generate_signer(ORIGIN)
        self.leaves: list[bytes] = []
        self.salt = salt

    def grow(self, count: int) -> None:
        start = len(self.leaves)
        self.leaves += [leaf_hash(f"{self.salt}entry {number}".encode()) for number in range(start, start + count)]

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return sign_checkpoint(Checkpoint(ORIGIN, size, root(self.leaves[:size])), self.signer)

    def body(self, old: int, size: int | None = None, *, proof: list[bytes] | None = None) -> bytes:
        size = len(self.leaves) if size is None else size
        if proof is None:
            proof = consistency_proof(old, self.leaves, size=size) if old <= size else []
        lines = "".join(base64.b64encode(node).decode() + "\n" for node in proof)
        return f"old {old}\n{lines}\n{self.note(size)}".encode()


def bogus_hash(label: str) -> bytes:
    return sha256(label.encode()).digest()
