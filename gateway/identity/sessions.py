"""Server-side sessions behind a signed cookie.

The cookie carries a random 256-bit id, signed (itsdangerous) so that forged
values are turned away before any database lookup; the database keeps only
its SHA-256. A new id is issued at every sign-in and after the second factor
(no session fixation); signing out revokes the row, so a copied cookie is
dead too. Sessions end after an idle time (30 minutes for staff) and an
absolute lifetime, whichever comes first. :func:`expire_sessions` (run by
``guichet worker``) deletes the rows that can sign nobody in any more.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from itsdangerous import BadSignature, Signer
from sqlmodel import Session, col, delete, select

from gateway.identity.grants import grants_of
from gateway.identity.principal import Principal
from gateway.models import Citizen, StaffUser, UserSession

COOKIE = "guichet_session"
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


LIFETIMES = {
    "citizen": Lifetimes(idle=timedelta(hours=1), absolute=timedelta(hours=12)),
    "staff": Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=10)),
}


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _signer(secret_key: bytes) -> Signer:
    return Signer(secret_key, salt="guichet-session")


def cookie_value(secret_key: bytes, session_id: str) -> str:
    return _signer(secret_key).sign(session_id).decode()


def session_id_from_cookie(secret_key: bytes, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _signer(secret_key).unsign(value).decode()
    except BadSignature:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_session(
    session: Session,
    kind: Literal["citizen", "staff"],
    user_id: int,
    *,
    mfa_pending: bool = False,
    id_token: str | None = None,
    provider: str | None = None,
    now: datetime | None = None,
) -> str:
    """Create a session row and return the new session id (for the cookie)."""
    now = now or datetime.now(UTC)
    lifetimes = LIFETIMES[kind]
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=_hash(session_id),
            kind=kind,
            citizen_id=user_id if kind == "citizen" else None,
            staff_id=user_id if kind == "staff" else None,
            mfa_pending=mfa_pending,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
            idle_seconds=int(lifetimes.idle.total_seconds()),
            authenticated_at=now,
            id_token=id_token,
            provider=provider,
        )
    )
    return session_id


def revoke(session: Session, session_hash: str, *, now: datetime | None = None) -> UserSession | None:
    row = session.get(UserSession, session_hash)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
        session.add(row)
    return row


def rotate(session: Session, principal: Principal, *, mfa_passed: bool = False, now: datetime | None = None) -> str:
    """Replace the session by a fresh one (new id), e.g. once the second factor is passed."""
    now = now or datetime.now(UTC)
    old = revoke(session, principal.session_hash, now=now)
    return open_session(
        session,
        principal.kind,
        principal.user_id,
        mfa_pending=principal.mfa_pending and not mfa_passed,
        id_token=old.id_token if old else None,
        provider=old.provider if old else None,
        now=now,
    )


def mark_reauthenticated(session: Session, principal: Principal, *, now: datetime | None = None) -> None:
    row = session.get(UserSession, principal.session_hash)
    if row is not None:
        row.authenticated_at = now or datetime.now(UTC)
        session.add(row)


def load_principal(session: Session, session_id: str, *, now: datetime | None = None) -> Principal | None:
    """The live session's principal, or None if it is unknown, revoked, idle too long or too old."""
    now = now or datetime.now(UTC)
    row = session.get(UserSession, _hash(session_id))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    if now - _aware(row.last_seen_at) > timedelta(seconds=row.idle_seconds):
        row.revoked_at = now
        session.add(row)
        return None
    if now - _aware(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    if row.kind == "citizen" and row.citizen_id is not None:
        citizen = session.get(Citizen, row.citizen_id)
        if citizen is None:
            return None
        name = " ".join(part for part in (citizen.given_name, citizen.family_name) if part) or (citizen.email or "")
        return Principal("citizen", row.id_hash, row.citizen_id, citizen.public_id, name, _aware(row.authenticated_at),
                         provider=row.provider)  # fmt: skip
    if row.staff_id is None:
        return None
    staff = session.get(StaffUser, row.staff_id)
    if staff is None or staff.disabled_at is not None:
        return None
    grants = grants_of(session, row.staff_id)
    return Principal("staff", row.id_hash, row.staff_id, staff.username, staff.display_name,
                     _aware(row.authenticated_at), mfa_pending=row.mfa_pending, grants=grants,
                     provider=row.provider)  # fmt: skip


def expire_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Delete the sessions past their absolute lifetime, revoked, or idle too long; how many went.

    A dead session's row only holds a hash and an id token nobody will use: kept no longer than it serves.
    Idle ones are found among those unseen for the shortest idle time, then checked row by row.
    """
    now = now or datetime.now(UTC)
    dead = (col(UserSession.expires_at) <= now) | col(UserSession.revoked_at).is_not(None)
    hashes = set(session.exec(select(UserSession.id_hash).where(dead)).all())
    shortest_idle = min(lifetimes.idle for lifetimes in LIFETIMES.values())
    unseen = session.exec(
        select(UserSession.id_hash, UserSession.last_seen_at, UserSession.idle_seconds).where(
            col(UserSession.last_seen_at) < now - shortest_idle
        )
    ).all()
    hashes.update(id_hash for id_hash, seen, idle in unseen if now - _aware(seen) > timedelta(seconds=idle))
    if hashes:
        session.exec(delete(UserSession).where(col(UserSession.id_hash).in_(hashes)))
    return len(hashes)
