"""The demo's staff: the agents the activity works with, and the accounts a newcomer signs in as.

Both :mod:`gateway.demo.activity` (weeks of ordinary use) and
:mod:`gateway.demo.anomalies` (the week an auditor should notice) act as
these agents, through the back office as a person at its pages would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlmodel import Session

from gateway.audit.builders import account_event
from gateway.audit.events import SYSTEM
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.demo.form_filling import EMAIL_DOMAIN, ORIGIN
from gateway.demo.identity_provider.clients import staff_client_credentials
from gateway.demo.identity_provider.people import SYNDICATE, staff_people
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.identity import staff as staff_accounts
from gateway.identity.federation import link_staff
from gateway.identity.principal import Grant, Principal
from gateway.identity.providers import provider_registry
from gateway.models import StaffRole, StaffUser
from gateway.registry import Registry
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller

#: Demo agents created in each commune that enables a service: (username suffix, display name).
AGENTS: tuple[tuple[str, str], ...] = (("instructeur", "Agent démo A"), ("instructrice", "Agente démo B"))
#: The accounts a newcomer signs in as through the demo staff directory: role there → (username suffix, grant).
#: The agent is the first of AGENTS, so the requests the activity gives it are the newcomer's own.
STAFF_PERSONAS: Mapping[str, tuple[str, str]] = {
    "agent": ("instructeur", "agent:{commune}"),
    "supervisor": ("responsable", "supervisor:{commune}"),
    "auditor": ("auditeur", "auditor:{commune}"),
}
#: the same for the syndicate's demo directory (``demo.<suffix>.syndicat``): they act for every commune
SYNDICATE_PERSONAS: Mapping[str, tuple[str, str]] = {
    "auditor": ("auditrice", "auditor"),
    "administrator": ("administrateur", "administrator"),
}


class Agents(BackOfficeQueries, BackOfficeCommands):
    """The demo's agents read and act through the back office, as a person at its pages would."""


def staff_caller(staff: StaffUser, grants: Sequence[Grant], *, origin: str = ORIGIN) -> Caller:
    """Act as a staff member with these grants through the service layer."""
    assert staff.id is not None
    principal = Principal(
        kind="staff",
        session_hash="demo-activity",
        user_id=staff.id,
        handle=staff.username,
        display_name=staff.display_name,
        authenticated_at=datetime.now(UTC),
        grants=tuple(grants),
    )
    return Caller(actor=principal.actor(), origin=origin, principal=principal)


def demo_agents(db: Database, commune: Commune) -> list[Caller]:
    """The commune's demo agents (instructors for all its services), created when missing."""
    grants = [Grant("agent", commune.slug, None, "instructor")]
    callers = []
    with db.session() as session:
        for suffix, name in AGENTS:
            username = f"demo.{suffix}.{commune.slug}"
            staff = staff_accounts.find(session, username)
            if staff is None:
                staff = create_agent(session, username, f"{name} ({commune.name})", grants)
            callers.append(staff_caller(staff, grants))
    return callers


def demo_staff(db: Database, registry: Registry) -> int:
    """Create the staff a newcomer signs in as through the demo directories, and link them; how many were linked.

    For each commune whose staff sign in through the demo provider (demo only,
    on loopback, no staff provider of its own): an agent instructing every
    service, a supervisor and an auditor of that commune; and for the
    syndicate's demo directory, its auditor and its administrator (every
    commune); each with no password and linked to its fictitious person (as
    ``guichet users link-oidc`` would, with the same checks). Runs at every
    seed: the link follows the issuer, which is the address the demo is
    served at. An account of the same name that has a password or a TOTP
    seed is a real one: it is left alone, never linked to a fictitious person.
    """
    settings = registry.settings
    providers = provider_registry(settings)
    directories: list[tuple[str | None, str, str]] = [
        (commune.slug, commune.slug, commune.name) for commune in registry.communes.values()
    ]
    directories.append((None, SYNDICATE, "syndicat"))  # the syndicate's: a staff provider of no commune
    linked = 0
    with db.session() as session:
        for slug, directory, name in directories:
            provider = providers.staff_of(slug, with_demo=True)
            if provider is None or not provider.demo:
                continue
            client_id, _secret = staff_client_credentials(settings, directory)
            for person in staff_people(directory):
                suffix, grant = STAFF_PERSONAS[person.role] if slug else SYNDICATE_PERSONAS[person.role]
                username = f"demo.{suffix}.{slug or 'syndicat'}"
                display_name = f"{person.display_name} ({name})"
                staff = staff_accounts.find(session, username)
                if staff is None:
                    grants = [staff_accounts.parse_grant(grant.format(commune=slug))]
                    staff = create_agent(session, username, display_name, grants)
                elif staff.password_hash is not None or staff.totp_secret is not None:
                    continue
                sub = pairwise_subject(settings.secret_key, client_id, person.id)
                if (staff.oidc_issuer, staff.oidc_sub) != (provider.issuer, sub):
                    staff.display_name = display_name
                    link_staff(session, staff, provider, sub)
                    linked += 1
    return linked


def create_agent(session: Session, username: str, display_name: str, grants: list[Grant]) -> StaffUser:
    """An account with no password (never signed in with one: the demo directory, if any, vouches for it), audited."""
    staff = StaffUser(
        username=username, display_name=display_name, email=f"{username}@{EMAIL_DOMAIN}", created_at=datetime.now(UTC)
    )
    session.add(staff)
    session.flush()
    assert staff.id is not None
    for grant in grants:
        role = StaffRole(staff_id=staff.id, role=grant.role, commune=grant.commune, service=grant.service)
        role.level = grant.level
        session.add(role)
    purpose = "comptes d'agents de démonstration"
    record(session, account_event("staff.create", SYSTEM, resource=f"staff/{staff.id}", purpose=purpose, origin=ORIGIN))
    return staff
