"""What both halves of the back office share: the grant checks, the recorded refusals, a request opened for an agent.

Each action checks the caller's grant for *this* commune and *this* service
before reading anything (a reader may look, an instructor may act). A
refusal is raised inside the action's transaction and recorded in a
transaction of its own once that one has ended, naming the role the person
acts in, the request's reference and the action tried, under the target
commune and the person's own (:mod:`gateway.identity.denials`). The session is
opened for the commune, so another commune's request is not found even by
reference; and someone whose grants do not reach the commune at all is
answered as for an unknown reference (404), so references cannot be probed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.identity.denials import Refused, denial_events
from gateway.identity.principal import Principal
from gateway.models import Attachment, ServiceRequest, StaffRole, StaffUser
from gateway.registry import Registry
from gateway.requests import attachments as files
from gateway.requests.caller import Caller
from gateway.requests.errors import ActionForbidden, RequestNotFound
from gateway.requests.linked import linked_rules
from gateway.requests.rules import ServiceRules, rules_for
from gateway.requests.trail import audit, history
from gateway.services import DRAFT, Localized

NO_GRANT = Localized(
    "Votre compte n'a pas accès aux demandes de ce service dans cette commune.",
    "Your account has no access to this service's requests in this commune.",
)
READ_ONLY = Localized(
    "Votre accès à ce service est en lecture seule : vous ne pouvez pas agir sur ses demandes.",
    "Your access to this service is read-only: you cannot act on its requests.",
)
SUPERVISOR_ONLY = Localized(
    "Cette décision revient à un superviseur du service dans la commune : vous pouvez préparer le dossier.",
    "This decision belongs to a supervisor of the service in the commune: you may prepare the file.",
)
P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound="Desk")


class _Denied(ActionForbidden):
    """A refusal raised inside the action's transaction, carrying what to record after it.

    ``hidden``: the person's grants do not reach the commune, so they are
    answered as for an unknown reference.
    """

    def __init__(self, reason: Localized, caller: Caller, refused: Refused, *, hidden: bool) -> None:
        super().__init__(reason)
        self.caller = caller
        self.refused = refused
        self.hidden = hidden


def recording_denials(
    attempted: str,
) -> Callable[[Callable[Concatenate[D, P], R]], Callable[Concatenate[D, P], R]]:
    """Write a refusal's audit records in a transaction of their own, after the action's has ended.

    ``attempted`` names the action tried (``request.read``, ``request.update``...).
    Not from inside the action's transaction: SQLite has a single writer, and
    the action's open transaction holds the lock, so a second session would
    wait on it forever.
    """

    def decorate(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
        @functools.wraps(method)
        def checked(self: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except _Denied as denied:
                refused = replace(denied.refused, attempted=denied.refused.attempted or attempted)
                with self.db.session() as session:
                    for event in denial_events(denied.caller.principal, refused, actor=denied.caller.actor):
                        record(session, event)
                if denied.hidden:
                    raise RequestNotFound from None
                raise ActionForbidden(denied.reason) from None

        return checked

    return decorate


@dataclass(frozen=True)
class OpenCase:
    """A request opened by an agent in one transaction: what each action reads and records."""

    session: Session
    commune: Commune
    row: ServiceRequest
    rules: ServiceRules
    acting: Caller

    def audit(self, action: str, *, target: str | None = None) -> None:
        audit(self.session, self.acting, self.row, self.rules.definition, action, target=target)

    def record(self, kind: str, *, body: str | None = None, internal: bool = False) -> None:
        """A history line and its audit entry (``request.update``)."""
        history(self.session, self.row, kind, self.acting, body=body, internal=internal)
        self.audit("request.update")


class Desk:
    """The ground both halves stand on: the database and the running services."""

    def __init__(self, db: Database, registry: Registry, writer: GroupCommit | None = None) -> None:
        self.db = db
        self.registry = registry
        #: the process's group commit, which audited reads join (None: each read commits its entry alone)
        self.writer = writer

    def read_files(self, commune_slug: str, attached: Sequence[Attachment]) -> list[bytes]:
        """The attachments' bytes, in a read transaction of their own (the write lock is not held meanwhile)."""
        with self.db.read_session(commune=commune_slug) as session:
            return [files.read(session, a.storage_name, sha256=a.sha256) for a in attached]

    def services_for(self, principal: Principal, commune: Commune, *, level: str = "reader") -> list[str]:
        return [
            key for key in commune.services if principal.can("agent", commune=commune.slug, service=key, level=level)
        ]

    @contextmanager
    def _open(self, caller: Caller, commune_slug: str, reference: str, *, level: str) -> Iterator[OpenCase]:
        """One transaction on one request of the commune, after the grant check at ``level``."""
        commune = self._commune(commune_slug)
        with self.db.session(commune=commune.slug) as session:
            row, rules, acting = self._load(session, caller, commune, reference, level=level)
            yield OpenCase(session, commune, row, rules, acting)

    def _commune(self, slug: str) -> Commune:
        commune = self.registry.commune(slug)
        if commune is None:
            raise RequestNotFound
        return commune

    def _load(
        self, session: Session, caller: Caller, commune: Commune, reference: str, *, level: str
    ) -> tuple[ServiceRequest, ServiceRules, Caller]:
        principal = staff_of(caller)
        row = session.exec(
            select(ServiceRequest).where(ServiceRequest.reference == reference, ServiceRequest.status != DRAFT)
        ).first()
        if row is None:
            raise RequestNotFound
        if not principal.can("agent", commune=commune.slug, service=row.service, level="reader"):
            self._deny(caller, commune.slug, row.service, row=row)
        if level == "instructor" and not principal.can("agent", commune=commune.slug, service=row.service, level=level):
            self._deny(caller, commune.slug, row.service, reason=READ_ONLY, row=row)
        rules = linked_rules(rules_for(self.registry, commune, row.service), row)
        return row, rules, replace(caller, actor=principal.actor(acting_role(principal, commune.slug, row.service)))

    def _assignees(self, session: Session, commune: str, service: str) -> list[tuple[int, str]]:
        rows = session.execute(
            columns(
                col(StaffUser.id),
                col(StaffUser.display_name),
                col(StaffRole.role),
                col(StaffRole.service),
                col(StaffRole.level),
            )
            .join(StaffRole, col(StaffRole.staff_id) == col(StaffUser.id))
            .where(
                col(StaffUser.disabled_at).is_(None),
                col(StaffRole.role).in_(("agent", "supervisor")),
                col(StaffRole.commune) == commune,
            )
        ).all()  # columns, not objects: making two ORM objects a row was most of this query's cost
        found: dict[int, str] = {}
        for staff_id, name, role, grant_service, level in rows:
            if role == "supervisor" or (grant_service in (None, service) and level != "reader"):
                found[staff_id] = name
        return sorted(found.items(), key=lambda item: item[1])

    def _deny(
        self,
        caller: Caller,
        commune: str,
        service: str | None,
        *,
        reason: Localized = NO_GRANT,
        row: ServiceRequest | None = None,
        resource: str | None = None,
    ) -> None:
        """Refuse; :func:`recording_denials` records the refusal once the action's transaction is rolled back.

        ``resource`` names what was refused when it is not a request (the queue by default).
        With ``row``, the refusal names the request (and its data subject) and,
        for someone whose grants do not reach the commune, is answered as not found.
        """
        principal = caller.principal
        resource = f"request/{row.reference}" if row is not None else resource or f"queue/{commune}"
        refused = Refused(role="agent", resource=resource, origin=caller.origin, commune=commune, service=service,
                          subject=row.subject if row is not None else None)  # fmt: skip
        hidden = row is not None and not (principal is not None and principal.reaches(commune))
        raise _Denied(reason, caller, refused, hidden=hidden)


def staff_of(caller: Caller) -> Principal:
    principal = caller.principal
    if principal is None or not principal.is_staff:
        raise ActionForbidden(NO_GRANT)
    return principal


def acting_role(principal: Principal, commune: str, service: str) -> str:
    for grant in principal.grants:
        if grant.covers("agent", commune, service, None):
            return grant.role if grant.role in ("agent", "supervisor", "administrator") else "agent"
    return "agent"
