"""Personal API tokens for staff integrations: scoped, expiring, stored as SHA-256 hashes.

The token is shown once at creation (``gtk_`` followed by 43 random
characters); the database keeps only its hash, so a leaked database does not
leak usable tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from gateway.identity.grants import grants_of
from gateway.identity.principal import Principal
from gateway.models import ApiToken, StaffRole, StaffUser

PREFIX = "gtk_"
MAX_LIFETIME = timedelta(days=365)


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


def principal_for_token(session: Session, token: str, *, now: datetime | None = None) -> Principal | None:
    """The staff member behind a live token, with only the grants its scopes allow."""
    now = now or datetime.now(UTC)
    if not token.startswith(PREFIX):
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    staff = session.get(StaffUser, row.staff_id)
    if staff is None or staff.disabled_at is not None:
        return None
    row.last_used_at = now
    session.add(row)
    grants = tuple(grant for grant in grants_of(session, row.staff_id) if grant.role in row.scopes)
    created = _aware(row.created_at)
    return Principal(
        "staff", f"token:{row.id}", row.staff_id, staff.username, staff.display_name, created, grants=grants
    )
