"""What a witness is told: its own key, the logs it follows (origin and verifier keys), where it keeps things."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.audit.checkpoint import Verifier
from gateway.audit.cosignature import CosignatureSigner


@dataclass(frozen=True)
class WitnessConfig:
    """A witness: its signer, the logs it follows by origin, its state file and the folder of its reports."""

    signer: CosignatureSigner
    logs: Mapping[str, tuple[Verifier, ...]]
    state_file: Path
    reports_dir: Path
    #: largest add-checkpoint body accepted (63 proof lines and a checkpoint with its signatures fit in far less)
    max_body_bytes: int = field(default=64 * 1024)


def follow(logs: Iterable[str]) -> dict[str, tuple[Verifier, ...]]:
    """The logs to follow, each ``<verifier key>`` or ``<origin> <verifier key>``.

    Without an origin, the log's origin is its key's name, as for Guichet's
    checkpoints and most C2SP logs. A log may have several keys (a rotation).
    """
    followed: dict[str, tuple[Verifier, ...]] = {}
    for text in logs:
        origin, _, key = text.strip().rpartition(" ")
        verifier = Verifier.from_text(key)
        origin = origin.strip() or verifier.name
        followed[origin] = (*followed.get(origin, ()), verifier)
    return followed
