"""What a verified OpenID Connect identity becomes: a resident's account, or a commune's agent, and the audit trail.

Residents are found or created by (issuer, ``sub``) — never by name or
address, which are not unique and can change — keeping only the claims the
provider was asked for. Staff are never created here: an agent signs in
through their commune's provider only once an administrator has linked the
account to that provider's ``sub`` (``guichet users link-oidc``), and only
when every grant of the account is for that commune: a commune's directory
vouches for its own agents, not for the syndicate's auditors or another
commune's staff. The commune's provider does the second factor, so no TOTP
is asked on top.

Every decision is an audit event written in the same transaction as its
effect: ``auth.login`` with ``success``, ``failure`` or ``denied``, and a
reason code in the resource (``oidc-login/<provider>/<reason>``). Tokens,
codes, states and nonces never go into the log.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlmodel import Session, select

from gateway.audit.builders import account_event, sign_in
from gateway.audit.events import ANONYMOUS, SYSTEM, Actor, pseudonym
from gateway.audit.log import record
from gateway.identity.grants import grants_of, staff_actor
from gateway.identity.oidc import Identity
from gateway.identity.principal import Principal
from gateway.identity.providers import Provider
from gateway.identity.sessions import open_session, revoke
from gateway.models import Citizen, StaffUser, UserSession
from gateway.services import Localized

CITIZEN_PURPOSE = "authentification des usagers par fournisseur d'identité"
STAFF_PURPOSE = "authentification des agents"
Outcome = Literal["success", "failure", "denied"]
#: claims kept in columns of their own; the others requested go to ``Citizen.claims``
COLUMN_CLAIMS = ("given_name", "family_name", "email")

STAFF_UNKNOWN = Localized(
    "Aucun compte d'agent du guichet n'est relié à votre compte. Demandez à l'administrateur du guichet "
    "de relier votre compte d'agent à celui de votre commune.",
    "No staff account of this portal is linked to your account. Ask the portal's administrator "
    "to link your staff account to your commune's.",
)
STAFF_DISABLED = Localized(
    "Votre compte d'agent est désactivé. Adressez-vous à l'administrateur du guichet.",
    "Your staff account is disabled. Ask the portal's administrator.",
)
STAFF_NOT_YOU = Localized(
    "Le fournisseur d'identité a confirmé l'identité d'une autre personne que celle connectée ici. Rien n'a été "
    "modifié ; confirmez votre identité avec votre propre compte.",
    "The identity provider confirmed the identity of someone other than the person signed in here. Nothing was "
    "changed; confirm your identity with your own account.",
)
STAFF_OTHER_COMMUNE = Localized(
    "Votre compte d'agent a des droits en dehors de cette commune : connectez-vous avec votre identifiant, "
    "votre mot de passe et votre code.",
    "Your staff account has rights outside this commune: sign in with your username, password and code.",
)


@dataclass(frozen=True)
class StaffRefused:
    """Why an agent may not sign in through their commune's provider."""

    reason: str
    message: Localized


def resource(provider_key: str | None, reason: str | None = None, *, staff: bool = False) -> str:
    prefix = "staff-oidc-login" if staff else "oidc-login"
    text = f"{prefix}/{provider_key or '-'}" + (f"/{reason}" if reason else "")
    return text[:200]


def record_failure(
    session: Session,
    *,
    provider_key: str | None,
    reason: str,
    origin: str,
    staff: bool = False,
    outcome: Outcome = "failure",
    actor: Actor = ANONYMOUS,
    commune: str | None = None,
) -> None:
    """A refused sign-in: who is unknown (or the account refused), the reason is a code."""
    purpose = STAFF_PURPOSE if staff else CITIZEN_PURPOSE
    event = sign_in(actor, resource=resource(provider_key, reason, staff=staff), purpose=purpose, origin=origin,
                    outcome=outcome, commune=commune)  # fmt: skip
    record(session, event)


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    user_id: int


def sign_in_citizen(
    session: Session, identity: Identity, *, secret_key: bytes, origin: str, previous_session: str | None
) -> SignedIn:
    """Find or create the resident, refresh the kept claims, open a new session; record it all."""
    provider = identity.provider
    citizen = session.exec(
        select(Citizen).where(Citizen.issuer == provider.issuer, Citizen.sub == identity.sub)
    ).first()
    now = datetime.now(UTC)
    created = citizen is None
    if citizen is None:
        citizen = Citizen(public_id=secrets.token_hex(16), issuer=provider.issuer, sub=identity.sub, created_at=now)
    claims = identity.claims
    # the provider's current answer replaces what was kept: a claim no longer asked for is forgotten
    citizen.given_name = _text(claims.get("given_name"), 200)
    citizen.family_name = _text(claims.get("family_name"), 200)
    citizen.email = _text(claims.get("email"), 254)
    citizen.claims = {name: value for name, value in claims.items() if name not in COLUMN_CLAIMS}
    citizen.last_login_at = now
    session.add(citizen)
    session.flush()
    assert citizen.id is not None
    if previous_session is not None:  # whoever was signed in on this browser is not any more
        revoke(session, previous_session, now=now)
    session_id = open_session(
        session, "citizen", citizen.id, id_token=identity.id_token, provider=provider.key, now=now
    )
    event = sign_in(Actor(f"citizen:{citizen.public_id}", "citizen"),
                    resource=resource(provider.key, "first-sign-in" if created else None), purpose=CITIZEN_PURPOSE,
                    origin=origin, commune=provider.commune,
                    subject=pseudonym(secret_key, "citizen", citizen.public_id))  # fmt: skip
    record(session, event)
    return SignedIn(session_id, citizen.id)


def _text(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def sign_in_staff(
    session: Session, identity: Identity, *, origin: str, previous_session: str | None
) -> SignedIn | StaffRefused:
    """Open a staff session for the agent linked to this (issuer, sub), or say why not; recorded either way.

    A refusal is returned, not raised, so that its audit record commits with the transaction.
    """
    provider = identity.provider
    staff = session.exec(
        select(StaffUser).where(StaffUser.oidc_issuer == provider.issuer, StaffUser.oidc_sub == identity.sub)
    ).first()
    refusal = None
    if staff is None:
        refusal = StaffRefused("staff-unknown", STAFF_UNKNOWN)
    elif staff.disabled_at is not None:
        refusal = StaffRefused("staff-disabled", STAFF_DISABLED)
    elif not grants_only_for(session, staff, provider.commune):
        refusal = StaffRefused("staff-other-commune", STAFF_OTHER_COMMUNE)
    actor = staff_actor(session, staff, provider.commune)
    if refusal is not None:
        record_failure(session, provider_key=provider.commune, reason=refusal.reason, origin=origin, staff=True,
                       outcome="denied", actor=actor, commune=provider.commune)  # fmt: skip
        return refusal
    assert staff is not None and staff.id is not None
    now = datetime.now(UTC)
    if previous_session is not None:
        revoke(session, previous_session, now=now)
    session_id = open_session(session, "staff", staff.id, id_token=identity.id_token, provider=provider.key, now=now)
    event = sign_in(actor, resource=resource(provider.commune, None, staff=True), purpose=STAFF_PURPOSE,
                    origin=origin, commune=provider.commune)  # fmt: skip
    record(session, event)
    return SignedIn(session_id, staff.id)


def reauthenticate_staff(
    session: Session, identity: Identity, principal: Principal, *, origin: str
) -> StaffRefused | None:
    """Mark the agent's session recently authenticated if the provider vouched for this same agent again.

    The identity must be the one linked to the signed-in account (issuer and ``sub``), and the session must
    have been opened through this very provider. Recorded like the first sign-in, with ``reauthentication``
    in the resource; a refusal changes nothing but the audit log.
    """
    provider = identity.provider
    staff = session.get(StaffUser, principal.user_id)
    same = (
        staff is not None
        and staff.disabled_at is None
        and principal.provider == provider.key
        and staff.oidc_issuer == provider.issuer
        and staff.oidc_sub is not None
        and hmac.compare_digest(staff.oidc_sub.encode(), identity.sub.encode())
    )
    actor = principal.actor()
    if not same:
        record_failure(session, provider_key=provider.commune, reason="reauthentication-other-person", origin=origin,
                       staff=True, outcome="denied", actor=actor, commune=provider.commune)  # fmt: skip
        return StaffRefused("reauthentication-other-person", STAFF_NOT_YOU)
    row = session.get(UserSession, principal.session_hash)
    if row is not None:
        row.authenticated_at = datetime.now(UTC)
        row.id_token = identity.id_token  # the newest, for the provider's logout
        session.add(row)
    event = sign_in(actor, resource=resource(provider.commune, "reauthentication", staff=True), purpose=STAFF_PURPOSE,
                    origin=origin, commune=provider.commune)  # fmt: skip
    record(session, event)
    return None


def grants_only_for(session: Session, staff: StaffUser, commune: str | None) -> bool:
    """Whether the account has at least one grant and every one of them is for ``commune``.

    ``None`` is the syndicate's staff provider (the demo's only: settings declare staff providers per
    commune): it signs in only accounts whose every grant is syndicate-wide, as a commune's signs in only
    that commune's staff.
    """
    grants = grants_of(session, staff.id) if staff.id is not None else ()
    return bool(grants) and all(grant.commune == commune for grant in grants)


class LinkError(ValueError):
    """A refused link between a staff account and a commune's provider."""


def link_staff(session: Session, staff: StaffUser, provider: Provider, sub: str) -> None:
    """Let ``staff`` sign in through ``provider`` (their commune's, or the syndicate's) as ``sub``; recorded."""
    sub = sub.strip()
    if not sub or len(sub) > 255:
        raise LinkError("the sub is 1 to 255 characters, exactly as the commune's provider gives it")
    if provider.purpose != "staff":
        raise LinkError(f"{provider.key} is not a staff provider")
    if not grants_only_for(session, staff, provider.commune):
        raise LinkError(
            f"{staff.username} has grants outside {provider.commune}: only an account whose every role is for "
            "that commune may sign in through the commune's provider"
        )
    taken = session.exec(
        select(StaffUser).where(StaffUser.oidc_issuer == provider.issuer, StaffUser.oidc_sub == sub)
    ).first()
    if taken is not None and taken.id != staff.id:
        raise LinkError(f"that sub is already linked to {taken.username}")
    staff.oidc_issuer, staff.oidc_sub = provider.issuer, sub
    session.add(staff)
    event = account_event("staff.link-oidc", SYSTEM, resource=f"staff/{staff.id}", purpose=STAFF_PURPOSE,
                          origin="cli users link-oidc", commune=provider.commune)  # fmt: skip
    record(session, event)
