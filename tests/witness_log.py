"""Talking to a witness in tests: an in-memory log that writes add-checkpoint bodies, a witness served for real."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path

from gateway.audit.checkpoint import Checkpoint, Signer, Verifier, generate_signer, sign_checkpoint
from gateway.audit.cosignature import CosignatureSigner
from gateway.audit.merkle import consistency_proof, leaf_hash, root
from gateway.testing import free_socket, serve
from gateway.witness.app import create_witness_app
from gateway.witness.config import WitnessConfig, follow

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


@contextmanager
def running_witness(folder: Path, log_key: Verifier, cosigner: CosignatureSigner) -> Iterator[str]:
    """A real witness following the log of ``log_key``, served by uvicorn on a free port; yields its URL."""
    config = WitnessConfig(signer=cosigner, logs=follow([log_key.to_text()]), state_file=folder / "witness.sqlite",
                           reports_dir=folder / "reports")  # fmt: skip
    with serve(create_witness_app(config), free_socket()) as url:
        yield url
