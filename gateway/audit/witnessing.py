"""Sending each new checkpoint to the configured witnesses, and keeping the cosignatures they answer with.

For each witness (``[audit] witnesses``): the checkpoint goes with a
consistency proof from the last size that witness cosigned (0 the first time),
as C2SP tlog-witness's ``add-checkpoint``. A 409 names the size the witness
holds: the proof is redone from there, once. The answer's cosignature is
checked with the witness's configured key before it is stored, in
``audit_cosignature``.

This runs after the checkpoint's transaction, never inside an append: a
witness that is down or refuses costs a logged warning, and the next sealing
tries again; filing never waits for a witness.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from gateway.audit.checkpoint import NoteError, Signer, split_note
from gateway.audit.cosignature import Cosignature, CosignatureVerifier, load_witness_key, parse_signature_lines
from gateway.audit.publication import ProofUnavailable, consistency, latest_checkpoint
from gateway.audit.sealing import SealingPolicy, seal, seal_if_due
from gateway.db import Database
from gateway.models import AuditCheckpoint, AuditCosignature
from gateway.settings import Settings, WitnessSection

if TYPE_CHECKING:  # httpx (with its command line's rich and click) is imported when a witness is called
    import httpx

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
_COSIGNATURE = AuditCosignature.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Witness:
    name: str
    url: str
    verifier: CosignatureVerifier


@dataclass(frozen=True)
class Outcome:
    """What one witness made of one checkpoint: cosigned (and stored), or why not."""

    witness: str
    cosigned: bool
    message: str


def demo_witness_key_path(settings: Settings, name: str) -> Path:
    """Where a demo witness's key lives: under the data folder, made on first use."""
    return settings.data_dir / "demo-witnesses" / f"{name}.key"


def witness_key_name(name: str) -> str:
    """The key name a demo witness signs with."""
    return f"{name}.witness.demo"


def witnesses_of(settings: Settings) -> list[Witness]:
    """The configured witnesses with their keys read; a malformed or missing key raises ValueError naming it."""
    return [Witness(section.name, section.url, _verifier(settings, section)) for section in settings.audit.witnesses]


def _verifier(settings: Settings, section: WitnessSection) -> CosignatureVerifier:
    try:
        if section.demo:
            path = demo_witness_key_path(settings, section.name)
            return load_witness_key(path, witness_key_name(section.name), create=True).verifier()
        if section.key_file:
            return CosignatureVerifier.from_text(settings.audit_path(section.key_file).read_text(encoding="utf-8"))
        return CosignatureVerifier.from_text(section.key or "")
    except (OSError, ValueError) as error:
        raise ValueError(f"witness {section.name}: {error}") from None


def witness_checkpoint(
    db: Database, checkpoint: AuditCheckpoint, witnesses: list[Witness], *, client: httpx.Client | None = None
) -> list[Outcome]:
    """Send ``checkpoint`` to each witness that has not cosigned it yet; store the cosignatures that check out.

    Returns one outcome per witness contacted (none for those that had cosigned it already).
    """
    import httpx

    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        outcomes = [outcome for witness in witnesses if (outcome := _send(db, checkpoint, witness, http))]
    finally:
        if own:
            http.close()
    for outcome in outcomes:
        if not outcome.cosigned:
            logger.warning("witness %s did not cosign checkpoint %s: %s", outcome.witness, checkpoint.size,
                           outcome.message)  # fmt: skip
    return outcomes


def _send(db: Database, checkpoint: AuditCheckpoint, witness: Witness, http: httpx.Client) -> Outcome | None:
    import httpx

    with db.session(all_communes=True) as session:
        done = session.get(AuditCosignature, (checkpoint.size, witness.name))
        if done is not None:
            return None
        held = session.execute(
            select(func.max(_COSIGNATURE.c.size)).where(_COSIGNATURE.c.witness == witness.name)
        ).scalar_one()  # fmt: skip
    old = held or 0
    for _attempt in range(2):
        submission = _submission(db, old, checkpoint)
        if submission is None:
            return Outcome(witness.name, False, f"no consistency proof from size {old}: those entries were pruned")
        try:
            response = http.post(f"{witness.url}/add-checkpoint", content=submission,
                                 headers={"Content-Type": "text/plain; charset=utf-8"})  # fmt: skip
        except httpx.HTTPError as error:
            return Outcome(witness.name, False, f"unreachable ({type(error).__name__})")
        if response.status_code == 409 and _attempt == 0:
            size = response.text.strip()
            if not (size.isascii() and size.isdigit()):
                return Outcome(witness.name, False, "409 without the witness's size")
            old = int(size)
            continue
        if response.status_code != 200:
            return Outcome(witness.name, False, f"HTTP {response.status_code}: {response.text.strip()[:200]}")
        return _keep(db, checkpoint, witness, response.text)
    return Outcome(witness.name, False, "the witness's size changed twice")


def _submission(db: Database, old: int, checkpoint: AuditCheckpoint) -> str | None:
    """``old <size>``, the proof lines, a blank line, the checkpoint (no proof for a witness ahead of us).

    None when the proof cannot be made (it needs entries retention removed):
    sending a wrong one would have the witness report an inconsistency.
    """
    proof: list[bytes] = []
    if old <= checkpoint.size:
        with db.session(all_communes=True) as session:
            try:
                proof = consistency(session, old, checkpoint.size)
            except ProofUnavailable:
                return None
    lines = "".join(base64.b64encode(node).decode("ascii") + "\n" for node in proof)
    return f"old {old}\n{lines}\n{checkpoint.note}"


def _keep(db: Database, checkpoint: AuditCheckpoint, witness: Witness, answer: str) -> Outcome:
    try:
        signatures = parse_signature_lines(answer)
    except NoteError as error:
        return Outcome(witness.name, False, f"unreadable answer: {error}")
    body, _ = split_note(checkpoint.note)
    for signature in signatures:
        if not witness.verifier.matches(signature):
            continue
        try:
            cosignature = Cosignature.from_note_signature(signature)
        except NoteError:
            continue
        if witness.verifier.verify(body, cosignature):
            try:
                cosigned_at = datetime.fromtimestamp(cosignature.timestamp, UTC)
            except (OverflowError, OSError, ValueError):
                return Outcome(witness.name, False, f"cosignature time {cosignature.timestamp} is out of range")
            with db.session(all_communes=True) as session:
                if session.get(AuditCosignature, (checkpoint.size, witness.name)) is None:
                    row = AuditCosignature(size=checkpoint.size, witness=witness.name, line=cosignature.line(),
                                           cosigned_at=cosigned_at, created_at=datetime.now(UTC))  # fmt: skip
                    session.add(row)
            return Outcome(witness.name, True, "cosigned")
    return Outcome(witness.name, False, "no valid cosignature by the configured key in the answer")


def sealing_round(
    db: Database, signer: Signer, origin: str, policy: SealingPolicy, witnesses: list[Witness], *, force: bool = False
) -> tuple[AuditCheckpoint | None, list[Outcome]]:
    """Seal a checkpoint if one is due (or ``force``); then send the latest to the witnesses that lack it.

    Returns the new checkpoint (None if none was due) and what each witness
    contacted made of it. A checkpoint sealed elsewhere (export, retention, the
    demo's seeding), or one a witness could not cosign last time, is sent here.
    """
    if force:
        checkpoint: AuditCheckpoint | None = seal(db, signer, origin, heartbeat_after=policy.heartbeat_after)
    else:
        checkpoint = seal_if_due(db, signer, origin, policy)
    if not witnesses:
        return checkpoint, []
    latest = checkpoint
    if latest is None:
        with db.session(all_communes=True) as session:
            latest = latest_checkpoint(session)
    return checkpoint, witness_checkpoint(db, latest, witnesses) if latest is not None else []


class WitnessUnavailable(RuntimeError):
    """A witness's checkpoint of our log could not be fetched, or does not carry its valid cosignature."""


def fetch_witnessed(url: str, origin: str, verifier: CosignatureVerifier | None, *, client: httpx.Client) -> str:
    """The latest checkpoint of ``origin`` a witness holds (``GET <url>/checkpoint/<origin>``).

    With the witness's ``verifier``, its cosignature must be on it and valid;
    the gateway's own signature is checked by ``verify`` like any held checkpoint.
    """
    import httpx

    try:
        response = client.get(f"{url.rstrip('/')}/checkpoint/{origin}")
    except httpx.HTTPError as error:
        raise WitnessUnavailable(f"witness {url} unreachable ({type(error).__name__})") from None
    if response.status_code != 200:
        raise WitnessUnavailable(f"witness {url} answered HTTP {response.status_code}: {response.text.strip()[:200]}")
    note = response.text
    if verifier is not None:
        try:
            found = verifier.find(note)
        except NoteError as error:
            raise WitnessUnavailable(f"witness {url} sent a malformed note: {error}") from None
        if found is None:
            raise WitnessUnavailable(f"witness {url}'s checkpoint carries no valid cosignature by {verifier.name}")
    return note
