"""Authorisation codes in the database: stored hashed, short-lived, redeemed once.

Redeeming is one conditional ``UPDATE`` (``used_at IS NULL`` and not expired),
so two processes racing with the same code cannot both win. A code presented
a second time is refused and its row deleted, which also revokes the access
token issued the first time (RFC 6749 §4.1.2): ``/userinfo`` only honours a
token whose code row is still there. Rows are purged once no token issued
from them can still be alive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import delete, update
from sqlmodel import col

from gateway.db import Database
from gateway.models import DemoAuthorizationCode

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(seconds=120)
#: FranceConnect's test accounts sign in with a password; the demo mirrors what it reports
AMR = ("pwd",)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):  # type: ignore[misc]  # authlib ships no type hints
    """What a code stands for, as authlib's grants and the OpenID extension read it."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    acr: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    person: str
    auth_time: datetime

    @classmethod
    def from_row(cls, row: DemoAuthorizationCode) -> IssuedCode:
        return cls(
            code_hash=row.code_hash,
            client_id=row.client_id,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            nonce=row.nonce,
            acr=row.acr,
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            person=row.person,
            auth_time=_aware(row.auth_time),
        )

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return list(AMR)


def save_code(db: Database, issued: IssuedCode) -> None:
    """Store a new code (by its hash) and purge the rows nothing can use any more."""
    now = datetime.now(UTC)
    with db.session() as session:
        stale = now - CODE_LIFETIME - ACCESS_TOKEN_LIFETIME - timedelta(minutes=5)
        session.exec(delete(DemoAuthorizationCode).where(col(DemoAuthorizationCode.expires_at) < stale))
        session.add(
            DemoAuthorizationCode(
                code_hash=issued.code_hash,
                client_id=issued.client_id,
                redirect_uri=issued.redirect_uri,
                scope=issued.scope,
                nonce=issued.nonce,
                acr=issued.acr,
                code_challenge=issued.code_challenge,
                code_challenge_method=issued.code_challenge_method,
                person=issued.person,
                auth_time=issued.auth_time,
                expires_at=issued.auth_time + CODE_LIFETIME,
            )
        )


def redeem_code(db: Database, code: str, client_id: str) -> IssuedCode | None:
    """Use a code once; ``None`` if unknown, expired, another client's or already used (then revoked)."""
    code_hash = hash_code(code)
    now = datetime.now(UTC)
    table = DemoAuthorizationCode
    with db.session() as session:
        claimed = session.exec(
            update(table)
            .where(
                col(table.code_hash) == code_hash,
                col(table.client_id) == client_id,
                col(table.used_at).is_(None),
                col(table.expires_at) > now,
            )
            .values(used_at=now)
        )
        if claimed.rowcount == 1:
            row = session.get(table, code_hash)
            assert row is not None
            return IssuedCode.from_row(row)
        session.exec(delete(table).where(col(table.code_hash) == code_hash, col(table.used_at).is_not(None)))
        return None


def redeemed_code(db: Database, code_hash: str) -> IssuedCode | None:
    """The redeemed code an access token was issued from, unless it was revoked or purged since."""
    with db.session() as session:
        row = session.get(DemoAuthorizationCode, code_hash)
        return IssuedCode.from_row(row) if row is not None and row.used_at is not None else None
