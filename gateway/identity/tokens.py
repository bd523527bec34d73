"""Personal API tokens for staff integrations: scoped, expiring, stored as SHA-256 hashes.

The token is shown once at creation (``gtk_`` followed by 43 random
characters); the database keeps only its hash, so a leaked database does not
leak usable tokens.

Checking a token only reads (:func:`check_token`, in a read session that
waits for no writer); its last use is written apart, at most once a minute
(:func:`note_use`), so a script calling the API in a loop does not take the
write lock for every call.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from gateway.identity.grants import grants_of
from gateway.identity.principal import Principal
from gateway.models import ApiToken, StaffRole, StaffUser

PREFIX = "gtk_"
MAX_LIFETIME = timedelta(days=365)
#: how stale ``last_used_at`` may get before a use is written again
LAST_USE_PRECISION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_token(
    session: Session,
    staff: StaffUser,
    *,
    name: str,
    scopes: list[str],
    lifetime: timedelta,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token limited to ``scopes`` (role names the person holds); return the row and the secret."""
    now = now or datetime.now(UTC)
    if not timedelta(hours=1) <= lifetime <= MAX_LIFETIME:
        raise ValueError("a token lives between one hour and one year")
    held = {grant.role for grant in session.exec(select(StaffRole).where(StaffRole.staff_id == staff.id))}
    if not scopes or not set(scopes) <= held:
        raise ValueError(f"scopes must be among the roles this person holds: {', '.join(sorted(held)) or 'none'}")
    secret = PREFIX + secrets.token_urlsafe(32)
    assert staff.id is not None
    row = ApiToken(staff_id=staff.id, name=name[:100], token_hash=_hash(secret), scopes=sorted(set(scopes)),
                   created_at=now, expires_at=now + lifetime)  # fmt: skip
    session.add(row)
    session.flush()
    return row, secret


@dataclass(frozen=True)
class TokenCheck:
    """A live token's principal, and when the token was last used (written at most once a minute)."""

    principal: Principal
    token_id: int
    last_used_at: datetime | None

    def use_is_stale(self, now: datetime) -> bool:
        """Whether this use is to be written (:func:`note_use`): never written, or over a minute ago."""
        return self.last_used_at is None or _aware(self.last_used_at) <= now - LAST_USE_PRECISION


def check_token(session: Session, token: str, *, now: datetime | None = None) -> TokenCheck | None:
    """The staff member behind a live token, with only the grants its scopes allow; reads only."""
    now = now or datetime.now(UTC)
    if not token.startswith(PREFIX):
        return None
    row = session.execute(_TOKEN_AND_OWNER, {"token_hash": _hash(token)}).first()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now or row.disabled_at is not None:
        return None
    grants = tuple(grant for grant in grants_of(session, row.staff_id) if grant.role in row.scopes)
    principal = Principal(
        "staff", f"token:{row.id}", row.staff_id, row.username, row.display_name, _aware(row.created_at), grants=grants
    )
    return TokenCheck(principal, row.id, row.last_used_at)


_TOKENS, _STAFF = ApiToken.__table__, StaffUser.__table__  # type: ignore[attr-defined]
#: the token and its owner in one Core statement, built once: every call of the API reads it
_TOKEN_AND_OWNER = (
    sa_select(
        _TOKENS.c.id,
        _TOKENS.c.staff_id,
        _TOKENS.c.scopes,
        _TOKENS.c.created_at,
        _TOKENS.c.expires_at,
        _TOKENS.c.last_used_at,
        _TOKENS.c.revoked_at,
        _STAFF.c.username,
        _STAFF.c.display_name,
        _STAFF.c.disabled_at,
    )
    .join_from(_TOKENS, _STAFF, _STAFF.c.id == _TOKENS.c.staff_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


def note_use(session: Session, token_id: int, now: datetime) -> None:
    """Write the token's last use (to the minute: see :data:`LAST_USE_PRECISION`)."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = now
        session.add(row)
