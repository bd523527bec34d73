"""The people a test acts as, without HTTP: a verified citizen, a staff member, an agent of a service.

Each is stored in the app's database as the sign-in would store them and comes
back as a :class:`TestCitizen` or :class:`TestAgent` to pass to the steps of
:mod:`gateway.testing.steps`. For the same people behind pages (and for an auditor, whose work is
the audit console's pages), use the sign-ins
of :mod:`gateway.testing.client`, which go through the password and second factor.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.applications import Starlette

from gateway.audit.events import pseudonym
from gateway.identity import staff as staff_accounts
from gateway.identity.principal import Principal
from gateway.models import Citizen
from gateway.requests.caller import Caller
from gateway.testing.client import STAFF_PASSWORD
from gateway.testing.views import TestAgent, TestCitizen
from gateway.web.callers import identity_of


def verified_citizen(
    app: Starlette,
    *,
    given_name: str = "Camille",
    family_name: str = "Exemple",
    email: str | None = None,
    claims: Mapping[str, str] | None = None,
    locale: str = "fr",
) -> TestCitizen:
    """A citizen who signed in through a federated provider, with ``claims`` (e.g. ``birthdate``) verified."""
    with app.state.db.session() as session:
        row = Citizen(public_id=secrets.token_hex(16), issuer="https://franceconnect.test", sub=secrets.token_hex(8),
                      given_name=given_name, family_name=family_name, email=email, claims=dict(claims or {}),
                      created_at=datetime.now(UTC))  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        identity, citizen_id, public_id = identity_of(row), row.id, row.public_id
    principal = Principal("citizen", secrets.token_hex(8), citizen_id, public_id, given_name, datetime.now(UTC))
    caller = Caller(actor=principal.actor(), origin="test", locale=locale, citizen_id=citizen_id,
                    citizen_public_id=public_id, identity=identity)  # fmt: skip
    subject = pseudonym(app.state.registry.settings.secret_key, "citizen", public_id)
    return TestCitizen(caller=caller, public_id=public_id, pseudonym=subject)


def staff_member(app: Starlette, username: str, *grants: str) -> TestAgent:
    """A staff account with ``grants`` (e.g. ``agent:givors:contact:instructor``), as the back office sees it."""
    parsed = [staff_accounts.parse_grant(grant) for grant in grants]
    with app.state.db.session() as session:
        row = staff_accounts.create(session, username=username, display_name=username.title(),
                                    email=f"{username}@guichet.example", password=STAFF_PASSWORD,
                                    grants=parsed)  # fmt: skip
        assert row.id is not None
        staff_id = row.id
    principal = Principal("staff", secrets.token_hex(8), staff_id, username, username.title(), datetime.now(UTC),
                          grants=tuple(parsed))  # fmt: skip
    caller = Caller(actor=principal.actor("agent"), origin="test", principal=principal)
    return TestAgent(caller=caller, actor_id=f"staff:{staff_id}")


def agent_of(
    app: Starlette, commune: str, service: str, *, level: str = "instructor", username: str | None = None
) -> TestAgent:
    """An agent of ``service`` in ``commune``: ``instructor`` (takes transitions), ``reader`` (reads files) or
    ``supervisor`` (also takes the steps a service reserves to supervisors, API 1.2)."""
    return staff_member(app, username or f"agent.{commune}", f"agent:{commune}:{service}:{level}")
