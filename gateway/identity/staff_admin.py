"""Administering staff accounts: who may manage whom, what they may grant, and each act audited.

The command line (``guichet users``) and the staff pages both go through here,
so a rule holds whichever door is used. An administrator's *reach* decides:

- the syndicate's administrator (``administrator``) manages every account and may give any role;
- a commune's administrator (``administrator:<commune>``) manages the accounts whose every role
  is in a commune they administer, and gives roles in those communes only — never a
  syndicate-wide one (an account shared with another commune is the syndicate's to manage);
- an account keeps at least one role (to end someone's access, disable the account);
- nobody disables themselves or withdraws their own last administrator role here, so the
  acting administrator always stays one (and the syndicate always keeps an active administrator).

Every act is recorded in the same transaction as its effect, with the acting administrator as actor,
the commune it concerns and the purpose ``gestion des comptes des agents``. A refused act changes
nothing; the HTTP side records the refusals that concern access (another commune's account or role).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gateway.audit.events import Actor
from gateway.identity import staff as staff_accounts
from gateway.identity.local_accounts import AccountProblem, normalized_email
from gateway.identity.principal import Grant
from gateway.models import StaffRole, StaffUser
from gateway.registry import Registry
from gateway.services import Localized

#: characters of the initial password shown once to the administrator (about 96 bits)
INITIAL_PASSWORD_BYTES = 12
DISPLAY_NAME_MAX = 200


class AdminProblem(Exception):
    """A refused act of administration: the HTTP status that says why, and a sentence in both languages."""

    def __init__(self, status: int, message: Localized, *, field: str | None = None) -> None:
        super().__init__(message.fr)
        self.status = status
        self.message = message
        self.field = field


NO_ACCOUNT = Localized("Ce compte d'agent n'existe pas.", "There is no such staff account.")
NO_ROLE = Localized("Ce compte n'a pas ce rôle.", "This account does not hold this role.")
UNKNOWN_ROLE = Localized("Ce rôle n'existe pas. Choisissez-en un dans la liste.",
                         "There is no such role. Choose one from the list.")  # fmt: skip
ROLE_OUT_OF_REACH = Localized(
    "Vous ne pouvez donner que des rôles dans les communes que vous administrez.",
    "You may only give roles in the communes you administer.",
)
ALREADY_HELD = Localized("Ce compte a déjà ce rôle.", "This account already holds this role.")
LAST_ROLE = Localized(
    "C'est le dernier rôle de ce compte : pour lui retirer tout accès, désactivez le compte.",
    "This is the account's last role: to end all its access, disable the account.",
)
OWN_LAST_ADMIN = Localized(
    "Vous ne pouvez pas retirer votre propre dernier rôle d'administrateur.",
    "You cannot withdraw your own last administrator role.",
)
DISABLE_SELF = Localized("Vous ne pouvez pas désactiver votre propre compte.", "You cannot disable your own account.")
BAD_USERNAME = Localized(
    "L'identifiant compte de 2 à 80 caractères : lettres minuscules sans accent, chiffres, points, tirets.",
    "A username is 2 to 80 characters: lower-case letters without accents, digits, dots, dashes.",
)
TAKEN = Localized("Cet identifiant est déjà pris.", "This username is taken.")
BAD_NAME = Localized(f"Indiquez le nom de la personne ({DISPLAY_NAME_MAX} caractères au plus).",
                     f"Give the person's name (at most {DISPLAY_NAME_MAX} characters).")  # fmt: skip


@dataclass(frozen=True)
class Reach:
    """What an administrator manages: everything (the syndicate's) or the accounts of some communes."""

    syndicate: bool
    communes: frozenset[str]

    def may_give(self, grant: Grant) -> bool:
        return self.syndicate or (grant.commune is not None and grant.commune in self.communes)

    def manages(self, grants: tuple[Grant, ...]) -> bool:
        """Whether an account with these grants is this administrator's (one without any: the syndicate's)."""
        return self.syndicate or (bool(grants) and all(self.may_give(grant) for grant in grants))


#: the command line's reach: it runs with the server's own rights, for the whole syndicate
SYNDICATE = Reach(True, frozenset())


def reach_of(grants: tuple[Grant, ...]) -> Reach | None:
    """The reach of someone holding ``grants``; ``None`` when they administer nothing."""
    held = [grant for grant in grants if grant.role == "administrator"]
    if not held:
        return None
    syndicate = any(grant.commune is None for grant in held)
    return Reach(syndicate, frozenset(grant.commune for grant in held if grant.commune is not None))


def commune_of(grants: tuple[Grant, ...] | list[Grant]) -> str | None:
    """The commune an act concerns, for the audit entry: the one every grant names, else none (syndicate-wide)."""
    communes = {grant.commune for grant in grants}
    return next(iter(communes)) if len(communes) == 1 else None


def checked_grant(registry: Registry, text: str) -> Grant:
    """The grant ``text`` names, checked against the deployment (the commune exists and enables the service)."""
    grant = staff_accounts.parse_grant(text)
    if grant.commune is not None and grant.commune not in registry.communes:
        raise staff_accounts.StaffError(f"no commune {grant.commune!r}")
    if grant.service is not None and not registry.communes[grant.commune or ""].enables(grant.service):
        raise staff_accounts.StaffError(f"{grant.commune} does not enable {grant.service!r}")
    return grant


@dataclass(frozen=True)
class Account:
    """A staff account as its administrator reads it: who, its state, and each role with its row id."""

    id: int
    username: str
    display_name: str
    email: str
    disabled_at: datetime | None
    enrolled: bool
    federated: bool
    roles: tuple[tuple[int, Grant], ...]

    @property
    def grants(self) -> tuple[Grant, ...]:
        return tuple(grant for _id, grant in self.roles)


def _account(session: Session, staff: StaffUser) -> Account:
    assert staff.id is not None
    rows = session.exec(select(StaffRole).where(StaffRole.staff_id == staff.id).order_by(col(StaffRole.id))).all()
    roles = tuple((row.id or 0, Grant(row.role, row.commune, row.service, row.level)) for row in rows)
    return Account(staff.id, staff.username, staff.display_name, staff.email, staff.disabled_at,
                   staff.totp_enrolled_at is not None, staff.oidc_sub is not None, roles)  # fmt: skip


def accounts(session: Session, reach: Reach) -> list[Account]:
    """Every account this administrator manages, by username."""
    found = [_account(session, staff) for staff in session.exec(select(StaffUser).order_by(col(StaffUser.username)))]
    return [account for account in found if reach.manages(account.grants)]


def managed(session: Session, reach: Reach, staff_id: int) -> tuple[StaffUser, Account]:
    """The account ``staff_id`` if this administrator manages it; 404 when there is none, 403 when it is not theirs."""
    staff = session.get(StaffUser, staff_id, with_for_update=True)
    if staff is None:
        raise AdminProblem(404, NO_ACCOUNT)
    account = _account(session, staff)
    if not reach.manages(account.grants):
        raise AdminProblem(403, NO_ACCOUNT)
    return staff, account


def giveable(registry: Registry, reach: Reach, text: str) -> Grant:
    """The grant a form names, if it exists in this deployment and this administrator may give it."""
    try:
        grant = checked_grant(registry, text)
    except staff_accounts.StaffError:
        raise AdminProblem(422, UNKNOWN_ROLE, field="role") from None
    if not reach.may_give(grant):
        raise AdminProblem(403, ROLE_OUT_OF_REACH, field="role")
    return grant


def create_account(
    session: Session, reach: Reach, actor: Actor, *, username: str, display_name: str, email: str, grant: Grant,
    origin: str,
) -> tuple[StaffUser, str]:  # fmt: skip
    """A new account with one role, and its initial password (to hand over once; it is never stored in clear).

    As with ``guichet users create``, the person sets up their second factor at their first sign-in.
    """
    if not reach.may_give(grant):
        raise AdminProblem(403, ROLE_OUT_OF_REACH, field="role")
    username = username.strip().lower()
    if not staff_accounts.USERNAME.match(username):
        raise AdminProblem(422, BAD_USERNAME, field="username")
    display_name = " ".join(display_name.split())
    if not display_name or len(display_name) > DISPLAY_NAME_MAX:
        raise AdminProblem(422, BAD_NAME, field="display_name")
    try:
        address = normalized_email(email)
    except AccountProblem as problem:
        raise AdminProblem(422, problem.message, field="email") from None
    if staff_accounts.find(session, username) is not None:
        raise AdminProblem(409, TAKEN, field="username")
    password = secrets.token_urlsafe(INITIAL_PASSWORD_BYTES)
    try:
        staff = staff_accounts.create(session, username=username, display_name=display_name, email=address,
                                      password=password, grants=[grant], actor=actor, origin=origin,
                                      commune=grant.commune)  # fmt: skip
    except IntegrityError:  # the same username created at the same moment: the transaction is rolled back
        raise AdminProblem(409, TAKEN, field="username") from None
    return staff, password


def give(session: Session, reach: Reach, actor: Actor, staff_id: int, grant: Grant, *, origin: str) -> None:
    """Give the account one more role."""
    staff, account = managed(session, reach, staff_id)
    if not reach.may_give(grant):
        raise AdminProblem(403, ROLE_OUT_OF_REACH, field="role")
    if grant in account.grants:
        raise AdminProblem(409, ALREADY_HELD, field="role")
    session.add(StaffRole(staff_id=staff_id, role=grant.role, commune=grant.commune, service=grant.service,
                          level=grant.level))  # fmt: skip
    staff_accounts.record_management(session, "staff.grant", actor, staff, origin=origin, commune=grant.commune,
                                     resource=f"staff/{staff_id}/role/{staff_accounts.grant_text(grant)}")  # fmt: skip


def withdraw(
    session: Session, reach: Reach, actor: Actor, acting_id: int, staff_id: int, role_id: int, *, origin: str
) -> Grant:
    """Withdraw one of the account's roles (never its last, never the acting administrator's own last one)."""
    staff, account = managed(session, reach, staff_id)
    held = dict(account.roles)
    if role_id not in held:
        raise AdminProblem(404, NO_ROLE)
    grant = held[role_id]
    if len(held) == 1:
        raise AdminProblem(409, LAST_ROLE)
    admin_roles = [other for other in held.values() if other.role == "administrator"]
    if staff_id == acting_id and grant.role == "administrator" and len(admin_roles) == 1:
        raise AdminProblem(409, OWN_LAST_ADMIN)
    row = session.get(StaffRole, role_id)
    assert row is not None
    session.delete(row)
    staff_accounts.record_management(session, "staff.revoke", actor, staff, origin=origin, commune=grant.commune,
                                     resource=f"staff/{staff_id}/role/{staff_accounts.grant_text(grant)}")  # fmt: skip
    return grant


def role_id_of(session: Session, reach: Reach, staff_id: int, grant: Grant) -> int:
    """The number of the account's role ``grant`` (to withdraw it by name, as the command line does)."""
    _staff, account = managed(session, reach, staff_id)
    for role_id, held in account.roles:
        if held == grant:
            return role_id
    raise AdminProblem(404, NO_ROLE)


def set_disabled(
    session: Session, reach: Reach, actor: Actor, acting_id: int, staff_id: int, disabled: bool, *, origin: str
) -> None:
    """Disable the account (its sessions end at once) or enable it again; never one's own."""
    staff, account = managed(session, reach, staff_id)
    if disabled and staff_id == acting_id:
        raise AdminProblem(409, DISABLE_SELF)
    staff_accounts.set_disabled(session, staff, disabled, actor=actor, origin=origin,
                                commune=commune_of(account.grants))  # fmt: skip


def reset_second_factor(session: Session, reach: Reach, actor: Actor, staff_id: int, *, origin: str) -> None:
    """Forget the account's second factor (a lost phone): the person sets it up again at their next sign-in."""
    staff, account = managed(session, reach, staff_id)
    staff_accounts.reset_second_factor(session, staff, actor=actor, origin=origin,
                                       commune=commune_of(account.grants))  # fmt: skip
