"""Staff accounts: creation, grants, password and second factor, and the sign-in decisions.

Every decision — sign-in success or failure, second factor, lock-out — is an
audit event written in the same transaction as its effect. The username a
person typed is never logged when it matches no account (it might be a
password typed in the wrong field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from gateway.audit.builders import account_event
from gateway.audit.events import SYSTEM, Actor, Outcome
from gateway.audit.log import record
from gateway.identity import throttle, totp
from gateway.identity.grants import staff_actor
from gateway.identity.passwords import hash_password, password_problem, verify_password
from gateway.identity.principal import LEVELS, STAFF_ROLES, Grant, Principal
from gateway.models import StaffRole, StaffUser, UserSession

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
PURPOSE = "authentification des agents"
#: the purpose of the acts of administration: accounts created, roles given or withdrawn, disabled, reset
MANAGEMENT = "gestion des comptes des agents"


class StaffError(ValueError):
    """A refused administrative change (bad grant, duplicate username, weak password...)."""


@dataclass(frozen=True)
class SignInResult:
    staff: StaffUser | None = None
    locked: throttle.Locked | None = None

    @property
    def ok(self) -> bool:
        return self.staff is not None


def parse_grant(text: str) -> Grant:
    """``role[:commune[:service[:level]]]``, e.g. ``agent:venissieux:contact:instructor`` or ``auditor``."""
    parts = [part or None for part in text.split(":")]
    role, commune, service, level = (parts + [None] * 4)[:4]
    if role not in STAFF_ROLES or len(parts) > 4:
        raise StaffError(f"unknown role in {text!r} (roles: {', '.join(STAFF_ROLES)})")
    if role == "agent":
        if commune is None:
            raise StaffError(
                "an agent belongs to a commune: agent:<commune>[:<service>][:reader|instructor|supervisor]"
            )
        level = level or "instructor"
        if level not in LEVELS:
            raise StaffError(f"level must be one of {', '.join(LEVELS)}")
    elif level is not None or (service is not None and role != "agent"):
        raise StaffError(f"only agents have a service and a level ({text!r})")
    if role == "supervisor" and commune is None:
        raise StaffError("a supervisor belongs to a commune: supervisor:<commune>")
    return Grant(role, commune, service, level)


def grant_text(grant: Grant) -> str:
    """The grant written as :func:`parse_grant` reads it (``agent:venissieux::reader``, ``administrator``)."""
    parts = [grant.role, grant.commune or "", grant.service or "", grant.level or ""]
    while parts[-1] == "":
        parts.pop()
    return ":".join(parts)


def find(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()


def create(
    session: Session,
    *,
    username: str,
    display_name: str,
    email: str,
    password: str,
    grants: list[Grant],
    actor: Actor = SYSTEM,
    origin: str = "cli users create",
    commune: str | None = None,
) -> StaffUser:
    """A new account with its grants, its second factor to set up at the first sign-in; ``actor`` is recorded."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise StaffError("a username is 2 to 80 lower-case letters, digits, dots, dashes or underscores")
    if find(session, username) is not None:
        raise StaffError(f"the username {username!r} is taken")
    problem = password_problem(password)
    if problem:
        raise StaffError(f"the password needs {problem}")
    if not grants:
        raise StaffError("give at least one role (--role)")
    staff = StaffUser(username=username, display_name=display_name, email=email,
                      password_hash=hash_password(password), created_at=datetime.now(UTC))  # fmt: skip
    session.add(staff)
    session.flush()
    assert staff.id is not None
    for grant in grants:
        session.add(StaffRole(staff_id=staff.id, role=grant.role, commune=grant.commune, service=grant.service,
                              level=grant.level))  # fmt: skip
    record_management(session, "staff.create", actor, staff, origin=origin, commune=commune)
    return staff


def set_disabled(
    session: Session,
    staff: StaffUser,
    disabled: bool,
    *,
    actor: Actor = SYSTEM,
    origin: str = "cli users",
    commune: str | None = None,
) -> None:
    """Disable the account (its open sessions end at once) or enable it again; ``actor`` is recorded."""
    staff.disabled_at = datetime.now(UTC) if disabled else None
    session.add(staff)
    if disabled:  # every open session ends now
        for row in session.exec(select(UserSession).where(UserSession.staff_id == staff.id)):
            row.revoked_at = row.revoked_at or datetime.now(UTC)
            session.add(row)
    record_management(session, "staff.disable" if disabled else "staff.enable", actor, staff, origin=origin,
                      commune=commune)  # fmt: skip


def reset_second_factor(
    session: Session,
    staff: StaffUser,
    *,
    actor: Actor = SYSTEM,
    origin: str = "cli users reset-mfa",
    commune: str | None = None,
) -> None:
    """Forget the second factor (a lost phone): it is set up again at the next sign-in; ``actor`` is recorded."""
    staff.totp_secret, staff.totp_enrolled_at, staff.totp_last_step = None, None, None
    session.add(staff)
    record_management(session, "staff.mfa-reset", actor, staff, origin=origin, commune=commune)


def _keys(staff: StaffUser | None, address: str) -> list[str]:
    keys = [f"address:{address}"]
    if staff is not None:
        keys.insert(0, f"account:staff:{staff.id}")
    return keys


def sign_in(session: Session, username: str, password: str, *, address: str, origin: str) -> SignInResult:
    """Check a username and password under throttling; record the decision."""
    staff = find(session, username)
    keys = _keys(staff, address)
    locked = throttle.check(session, keys)
    if locked is not None:
        _event(
            session,
            "auth.login",
            staff_actor(session, staff),
            staff,
            "denied",
            origin=origin,
            resource="staff-login/locked",
        )
        return SignInResult(locked=locked)
    # the hash is checked whoever asks (the dummy one for an unknown name): answering takes as long either way
    password_ok = verify_password(staff.password_hash if staff is not None else None, password)
    if staff is None or staff.disabled_at is not None or not password_ok:
        caused = throttle.fail(session, keys)
        _event(session, "auth.login", staff_actor(session, staff), staff, "failure", origin=origin)
        if caused is not None:
            _event(session, "auth.lockout", staff_actor(session, staff), staff, "denied", origin=origin)
        return SignInResult(locked=caused)
    throttle.succeed(session, keys)
    _event(
        session,
        "auth.login",
        staff_actor(session, staff),
        staff,
        "success",
        origin=origin,
        resource="staff-login/password",
    )
    return SignInResult(staff=staff)


def check_second_factor(
    session: Session, principal: Principal, code: str, secret_key: bytes, *, address: str, origin: str
) -> SignInResult:
    """Check a TOTP code (never the same code twice) under throttling; record the decision."""
    staff = session.get(StaffUser, principal.user_id, with_for_update=True)
    if staff is None or staff.totp_secret is None:
        return SignInResult()
    keys = [f"account:staff-mfa:{staff.id}", f"address:{address}"]
    locked = throttle.check(session, keys)
    if locked is not None:
        _event(
            session,
            "auth.mfa",
            staff_actor(session, staff),
            staff,
            "denied",
            origin=origin,
            resource="staff-login/locked",
        )
        return SignInResult(locked=locked)
    step = totp.accepted_step(totp.open_seed(secret_key, staff.totp_secret), code, staff.totp_last_step)
    if step is None:
        caused = throttle.fail(session, keys)
        _event(session, "auth.mfa", staff_actor(session, staff), staff, "failure", origin=origin)
        if caused is not None:
            _event(session, "auth.lockout", staff_actor(session, staff), staff, "denied", origin=origin)
        return SignInResult(locked=caused)
    staff.totp_last_step = step
    if staff.totp_enrolled_at is None:
        staff.totp_enrolled_at = datetime.now(UTC)
    session.add(staff)
    throttle.succeed(session, keys)
    _event(session, "auth.mfa", staff_actor(session, staff), staff, "success", origin=origin)
    return SignInResult(staff=staff)


def start_enrolment(session: Session, staff: StaffUser, secret_key: bytes) -> str:
    """Give a not-yet-enrolled account a fresh seed (kept until the first good code confirms it)."""
    if staff.totp_enrolled_at is not None:
        raise StaffError("this account already has a second factor")
    seed = totp.new_seed()
    staff.totp_secret = totp.seal_seed(secret_key, seed)
    session.add(staff)
    return seed


def _event(
    session: Session,
    action: str,
    actor: Actor,
    staff: StaffUser | None,
    outcome: Outcome,
    *,
    origin: str,
    resource: str | None = None,
    commune: str | None = None,
    purpose: str = PURPOSE,
) -> None:
    target = resource or (f"staff/{staff.id}" if staff is not None else "staff-login")
    record(session, account_event(action, actor, resource=target, purpose=purpose, origin=origin, outcome=outcome,
                                  commune=commune))  # fmt: skip


def record_management(
    session: Session, action: str, actor: Actor, staff: StaffUser, *, origin: str, commune: str | None,
    resource: str | None = None,
) -> None:  # fmt: skip
    """An act of administration on ``staff`` enters the audit log, with the commune it concerns."""
    _event(session, action, actor, staff, "success", origin=origin, resource=resource, commune=commune,
           purpose=MANAGEMENT)  # fmt: skip
