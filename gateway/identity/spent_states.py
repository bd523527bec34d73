"""The ``state`` values of sign-ins that already came back, so a replayed callback is refused here.

The flow cookie alone lets a browser that kept a copy of it (or an attacker
holding a copy of it and of the callback's address) present the same
callback twice: the provider would then be asked to redeem the code again.
Spending the state in the database first refuses the replay locally, in every
process. Only the state's SHA-256 is kept, and only until the flow it belonged
to would have expired anyway.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from gateway.models import SpentOidcState


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def spend(session: Session, state: str, *, keep_for: timedelta, now: datetime | None = None) -> bool:
    """Mark ``state`` used; False when it already was (a replay).

    Two copies of one callback racing both see it unused: the second insert then fails on the primary
    key (``IntegrityError`` at commit), which the caller treats as a replay too.
    """
    now = now or datetime.now(UTC)
    forget_expired(session, now=now)
    digest = _hash(state)
    if session.get(SpentOidcState, digest) is not None:
        return False
    session.add(SpentOidcState(state_hash=digest, expires_at=now + keep_for))
    session.flush()
    return True


def forget_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete the states whose flow would have expired anyway; how many went (each sign-in and the worker call it)."""
    expired = col(SpentOidcState.expires_at) <= (now or datetime.now(UTC))
    found = int(session.exec(select(func.count()).select_from(SpentOidcState).where(expired)).one())
    if found:
        session.exec(delete(SpentOidcState).where(expired))
    return found
