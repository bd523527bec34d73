"""What a witness is told: its own key, the logs it follows (origin and verifier keys), where it keeps things."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.audit.checkpoint import Verifier
from gateway.audit.cosignature import CosignatureSigner, generate_cosigner


@dataclass(frozen=True)
class WitnessConfig:
    """A witness: its signer, the logs it follows by origin, its state file and the folder of its reports."""

    signer: CosignatureSigner
    logs: Mapping[str, tuple[Verifier, ...]]
    state_file: Path
    reports_dir: Path
    #: largest add-checkpoint body accepted (63 proof lines and a checkpoint with its signatures fit in far less)
    max_body_bytes: int = field(default=64 * 1024)


def follow(keys: Iterable[str]) -> dict[str, tuple[Verifier, ...]]:
    """The logs named by their verifier keys: a log's origin is its key's name (as for Guichet's checkpoints)."""
    logs: dict[str, tuple[Verifier, ...]] = {}
    for text in keys:
        verifier = Verifier.from_text(text.strip())
        logs[verifier.name] = (*logs.get(verifier.name, ()), verifier)
    return logs


def load_witness_key(path: Path, name: str | None = None, *, create: bool = False) -> CosignatureSigner:
    """The witness key stored in ``path``; with ``create`` (and a ``name``) a missing file is made, mode 0600."""
    try:
        signer = CosignatureSigner.from_text(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not (create and name):
            raise FileNotFoundError(f"witness key {path} does not exist (`guichet audit witness-keygen`)") from None
        signer = generate_cosigner(name)
        write_witness_key(path, signer)
        return signer
    except ValueError as error:
        raise ValueError(f"witness key {path} is malformed: {error}") from None
    if name is not None and signer.name != name:
        raise ValueError(f"witness key {path} is for {signer.name!r}, not {name!r}")
    return signer


def write_witness_key(path: Path, signer: CosignatureSigner) -> None:
    """Write a new key file readable by its owner only; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(signer.to_text() + "\n")
