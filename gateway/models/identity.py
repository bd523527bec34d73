"""Who can sign in: citizens (federated or local accounts), staff, their roles, sessions and tokens.

Only what the gateway needs is kept: for a citizen, the identity provider's
(issuer, sub) pair and the few claims services use; secrets are stored hashed
(passwords with argon2id, session and API tokens with SHA-256) or encrypted
(TOTP seeds, which must be read back to check a code).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


class Citizen(SQLModel, table=True):
    __tablename__ = "citizen"
    __table_args__ = (UniqueConstraint("issuer", "sub", name="uq_citizen_issuer_sub"),)

    id: int | None = Field(default=None, primary_key=True)
    #: stable random id used as the audit actor id and to derive the citizen's pseudonym
    public_id: str = Field(max_length=32, unique=True)
    #: identity provider and subject for federated sign-in; "local" and the account id for local accounts
    issuer: str = Field(max_length=300)
    sub: str = Field(max_length=255)
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    #: further claims a service needs (e.g. birthdate), only those asked for
    claims: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _when()
    last_login_at: datetime | None = _when(nullable=True)


class LocalAccount(SQLModel, table=True):
    """E-mail and password sign-in for people who cannot use FranceConnect."""

    __tablename__ = "local_account"

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", unique=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=200)
    email_verified_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    password_hash: str | None = Field(default=None, max_length=200)
    #: TOTP seed, encrypted (Fernet, key derived from the gateway secret); None until enrolled
    totp_secret: str | None = Field(default=None, max_length=300)
    totp_enrolled_at: datetime | None = _when(nullable=True)
    #: last accepted TOTP time step: a code is never accepted twice
    totp_last_step: int | None = Field(default=None)
    #: a commune's own identity provider, for staff signing in through it
    oidc_issuer: str | None = Field(default=None, max_length=300)
    oidc_sub: str | None = Field(default=None, max_length=255)
    disabled_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class StaffRole(SQLModel, table=True):
    """One grant: agent (reader, instructor or supervisor level) of a commune's service, supervisor, auditor, admin."""

    __tablename__ = "staff_role"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    role: str = Field(max_length=20)
    #: None: the whole syndicate (auditors and administrators only)
    commune: str | None = Field(default=None, max_length=60)
    #: None: every service of the commune
    service: str | None = Field(default=None, max_length=60)
    #: agents only: "reader", "instructor" or "supervisor"
    level: str | None = Field(default=None, max_length=20)


class UserSession(SQLModel, table=True):
    """A server-side session; the cookie holds only a random id, stored here hashed."""

    __tablename__ = "user_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=10)  # citizen | staff
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    #: staff: the password was right but the second factor is still to come
    mfa_pending: bool = Field(default=False)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    expires_at: datetime = _when(index=True)
    idle_seconds: int = Field(default=1800)
    authenticated_at: datetime = _when()
    revoked_at: datetime | None = _when(nullable=True)
    #: for the identity provider's logout (id_token_hint); never logged
    id_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    provider: str | None = Field(default=None, max_length=60)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-in counters per account and per address, shared by every process."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = Field(default=0)
    window_started_at: datetime = _when()
    locked_until: datetime | None = _when(nullable=True)


class SpentOidcState(SQLModel, table=True):
    """The ``state`` of a sign-in that already came back (its SHA-256), kept until its flow would have expired.

    Shared by every process, so a replayed callback is refused wherever it lands.
    """

    __tablename__ = "spent_oidc_state"

    state_hash: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = _when(index=True)


class ApiToken(SQLModel, table=True):
    """A personal API token of a staff member: scoped, expiring, stored as a SHA-256 hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _when()
    expires_at: datetime = _when()
    last_used_at: datetime | None = _when(nullable=True)
    revoked_at: datetime | None = _when(nullable=True)
