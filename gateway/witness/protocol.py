"""The ``add-checkpoint`` call of C2SP tlog-witness: read a submission, check it, cosign or refuse.

A submission is ``old <size>``, up to 63 consistency-proof lines (base64
hashes), a blank line, then the log's signed checkpoint. The witness answers:

- 200 with its cosignature line when the checkpoint is signed by a key it
  trusts for that origin and is consistent with the latest one it cosigned;
- 400 for a malformed submission, or an old size above the checkpoint's;
- 403 when no signature is by a key it trusts for the origin, 404 for an origin it does not follow;
- 409 (``text/x.tlog.size``, its size and a newline) when ``old`` is not the size it holds;
- 422 when the consistency proof does not verify.

When the log itself is caught — a proof that fails from the size the witness
holds, another root at the same size, or the log saying it moved from the
witness's size to a smaller one — the witness refuses and writes a report
holding both signed checkpoints, which anyone holding the log's key can check.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.checkpoint import Checkpoint, NoteError, open_note, parse_note, split_note
from gateway.audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from gateway.witness.config import WitnessConfig
from gateway.witness.state import WitnessState

logger = logging.getLogger(__name__)

MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class BadSubmission(ValueError):
    """A submission that is not an add-checkpoint body."""


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = TEXT_TYPE


def parse_submission(raw: bytes) -> Submission:
    """The old size, the proof and the checkpoint note of an add-checkpoint body; raises BadSubmission."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSubmission("the body is not UTF-8 text") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise BadSubmission("no blank line between the old size and proof lines and the checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if match is None or int(match.group(1)) > 2**64 - 1:
        raise BadSubmission("the first line must be `old <size>`, the size in decimal without leading zeros")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadSubmission(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:], start=1):
        try:
            node = base64.b64decode(line.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            raise BadSubmission(f"proof line {number} is not base64") from None
        if len(node) != HASH_SIZE:
            raise BadSubmission(f"proof line {number} is not a {HASH_SIZE}-byte hash")
        proof.append(node)
    return Submission(int(match.group(1)), tuple(proof), note)


def add_checkpoint(config: WitnessConfig, state: WitnessState, raw: bytes, *, now: datetime | None = None) -> Answer:
    """Check a submission against the witness's state; cosign and remember it, or say why not."""
    try:
        submission = parse_submission(raw)
        checkpoint, _ = parse_note(submission.note)
    except (BadSubmission, NoteError) as error:
        return Answer(400, f"{error}\n")
    verifiers = config.logs.get(checkpoint.origin)
    if not verifiers:
        return Answer(404, f"this witness does not follow the log {checkpoint.origin}\n")
    try:
        body, signatures = open_note(submission.note, verifiers)
    except NoteError as error:
        return Answer(403, f"the checkpoint is not signed by a key this witness trusts for the log: {error}\n")
    signed = body + "\n" + "".join(signature.line() for signature in signatures)  # the log's own signatures only
    moment = now or datetime.now(UTC)

    def decide(held_note: str | None) -> tuple[Answer, str | None]:
        held = parse_note(held_note)[0] if held_note else None
        held_size = held.size if held else 0
        if submission.old_size > checkpoint.size:
            if held_note is not None and submission.old_size == held_size:
                _report(config, "backwards", held_note, signed, submission, moment)
            return Answer(400, f"old size {submission.old_size} is above the checkpoint's {checkpoint.size}\n"), None
        if held is not None and checkpoint.size == held.size and checkpoint.root_hash != held.root_hash:
            _report(config, "fork", held_note or "", signed, submission, moment)
            return Answer(409, f"{held_size}\n", SIZE_TYPE), None
        if submission.old_size != held_size:
            return Answer(409, f"{held_size}\n", SIZE_TYPE), None
        if not _consistent(held, checkpoint, submission.proof):
            if held_note is not None:
                _report(config, "inconsistent", held_note, signed, submission, moment)
            return Answer(422, f"the consistency proof from {held_size} to {checkpoint.size} does not verify\n"), None
        cosignature = config.signer.cosign(body, int(moment.timestamp())).line()
        return Answer(200, cosignature), signed + cosignature

    return state.update(checkpoint.origin, decide)


def _consistent(held: Checkpoint | None, checkpoint: Checkpoint, proof: tuple[bytes, ...]) -> bool:
    old_size, old_root = (held.size, held.root_hash) if held else (0, EMPTY_ROOT)
    return verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash, proof)


REASONS = {
    "backwards": "the log said it moved from the size this witness holds to a smaller one",
    "fork": "the log signed two checkpoints of the same size with different roots",
    "inconsistent": "the log's new checkpoint is not consistent with the one this witness holds",
}


def _report(config: WitnessConfig, kind: str, held: str, submitted: str, submission: Submission, now: datetime) -> Path:
    """Write the evidence: both signed checkpoints, the proof offered, and what was wrong."""
    origin = split_note(held)[0].split("\n", 1)[0]
    document = {
        "format": "guichet-witness-report/1",
        "kind": kind,
        "reason": REASONS[kind],
        "origin": origin,
        "detected_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "held_checkpoint": held,
        "submitted_checkpoint": submitted,
        "old_size": submission.old_size,
        "consistency_proof": [base64.b64encode(node).decode("ascii") for node in submission.proof],
    }
    config.reports_dir.mkdir(parents=True, exist_ok=True)
    path = config.reports_dir / f"{now:%Y%m%dT%H%M%SZ}-{kind}-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.error("witness refused a checkpoint of %s: %s; evidence in %s", origin, REASONS[kind], path)
    return path
