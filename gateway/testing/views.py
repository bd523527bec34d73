"""What the kit's steps return: plain, frozen views of what is stored, so a test needs none of the core's tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from gateway.models import ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.services import FieldError, FormValues


@dataclass(frozen=True)
class FiledRequest:
    """A request as it is stored: what a test checks after a step (times are aware, in UTC)."""

    public_id: str
    reference: str | None
    commune: str
    service: str
    status: str
    version: int
    data: FormValues
    summary: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    purge_after: datetime | None
    #: the family the request belongs to (API 1.2): the same for siblings filed together, None when filed alone
    family_id: str | None = None

    @classmethod
    def of(cls, row: ServiceRequest) -> FiledRequest:
        return cls(public_id=row.public_id, reference=row.reference, commune=row.commune, service=row.service,
                   status=row.status, version=row.version, data=MappingProxyType(dict(row.data)), summary=row.summary,
                   submitted_at=aware(row.submitted_at), decided_at=aware(row.decided_at),
                   purge_after=aware(row.purge_after), family_id=row.family_id)  # fmt: skip


@dataclass(frozen=True)
class Submission:
    """What submitting a form gave: the request (still a draft when ``errors`` is not empty) and the errors.

    A family's drafts (API 1.2) are submitted together: ``family`` holds every request submitted (this one
    included), ``member_errors`` the errors of the other members' drafts, by their public id.
    """

    request: FiledRequest
    errors: Sequence[FieldError]
    family: Sequence[FiledRequest] = ()
    member_errors: Mapping[str, Sequence[FieldError]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueuedMessage:
    """A mail waiting in the outbox, as the citizen would receive it."""

    kind: str
    recipient: str
    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class IssuedRecord:
    """A document issued for a request: its number, kind, the PDF as downloaded, and whether it is revoked."""

    number: str
    kind: str
    pdf: bytes
    revoked: bool


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit log (who is ``actor_id``, about whom is ``subject``, a pseudonym)."""

    action: str
    outcome: str
    actor_id: str
    subject: str | None
    purpose: str
    commune: str | None
    service: str | None
    resource: str


@dataclass(frozen=True)
class AgentView:
    """A request's file as an agent opens it: may they act, and which transitions they are offered."""

    request: FiledRequest
    can_act: bool
    transitions: Sequence[str]


@dataclass(frozen=True)
class TestCitizen:
    """A citizen signed in through a verified identity; pass it to the citizen's steps."""

    __test__ = False  # not a test class, whatever its name
    caller: Caller
    public_id: str
    #: how the audit log names this citizen (see :func:`audit_records`)
    pseudonym: str


@dataclass(frozen=True)
class TestAgent:
    """A staff member with their grants, signed in with both factors; pass it to the agent's steps."""

    __test__ = False
    caller: Caller
    #: how the audit log names this agent
    actor_id: str
