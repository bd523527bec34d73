"""What the audit log publishes, read for its public page and its API alike: the latest witnessed checkpoint, its key.

Public: a checkpoint is a size and a hash, the cosignatures say which witness
vouched for it and when; nothing here is personal, so nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from gateway.audit.keys import NoSigningKey, signer_for
from gateway.audit.publication import cosignatures, latest_checkpoint
from gateway.web.lookups import registry_of


@dataclass(frozen=True)
class Published:
    """The latest checkpoint: its size, its note with the cosignature lines, and who cosigned it when."""

    size: int
    sealed_at: datetime
    note: str
    witnesses: list[tuple[str, datetime]]


async def published_checkpoint(request: Request) -> Published | None:
    db = request.app.state.db

    def load() -> Published | None:
        with db.session(all_communes=True) as session:
            latest = latest_checkpoint(session)
            if latest is None:
                return None
            rows = cosignatures(session, [latest.size])[latest.size]
            note = latest.note + "".join(row.line for row in rows)
            return Published(latest.size, latest.created_at, note, [(row.witness, row.cosigned_at) for row in rows])

    result: Published | None = await db.run(load)
    return result


def verifier_key_text(request: Request) -> str | None:
    """The verifier key of the gateway's checkpoints, or None when no signing key is configured."""
    try:
        return signer_for(registry_of(request).settings).verifier().to_text()
    except NoSigningKey:
        return None
