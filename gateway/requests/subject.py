"""Whom a request is about, as the audit log names them: one pseudonym, decided here and nowhere else.

Every audit entry on a request carries its subject, so a person's access log
gathers every entry about them. In order: the signed-in citizen; the citizen
an agent files for at the counter, by the e-mail address given; the value of
the service's ``subject_field`` (the address typed in a contact form); else
the request itself (nobody identifiable).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.audit.events import pseudonym
from gateway.requests.caller import Caller
from gateway.services import ServiceDefinition


def audit_subject(
    secret: bytes, caller: Caller, definition: ServiceDefinition, answers: Mapping[str, object], *, request_id: str
) -> str:
    """The pseudonym of the person a request is about; ``request_id`` is the request's public id."""
    if caller.citizen_public_id:
        return pseudonym(secret, "citizen", caller.citizen_public_id)
    if caller.on_behalf_of is not None and caller.on_behalf_of.email:
        return pseudonym(secret, "email", caller.on_behalf_of.email)
    field = definition.subject_field
    value = answers.get(field) if field else None
    if field and isinstance(value, str) and value:
        return pseudonym(secret, field, value)
    return pseudonym(secret, "request", request_id)
