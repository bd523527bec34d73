"""The trail each change of a request leaves: its version claimed, a history line, an audit entry.

Shared by the citizen side (:mod:`gateway.requests.lifecycle`), the agents'
side (:mod:`gateway.requests.backoffice`) and filing, so all record the same
entries and take the same care over concurrent changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlmodel import Session, update

from gateway.audit.builders import outcome_of, request_event
from gateway.audit.events import Actor, AuditEvent, Outcome
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.models import RequestEvent, ServiceRequest
from gateway.models.new_rows import new_row
from gateway.request_handle import RequestHandle
from gateway.requests.caller import Caller
from gateway.requests.clock import now
from gateway.requests.errors import StaleRequest
from gateway.requests.issuing import RequestDocuments
from gateway.services import ServiceDefinition
from gateway.settings import Settings


def resource(row: ServiceRequest) -> str:
    return f"request/{row.reference}" if row.reference else f"draft/{row.public_id}"


def audit(
    session: Session,
    caller: Caller,
    row: ServiceRequest,
    definition: ServiceDefinition,
    action: str,
    *,
    outcome: Outcome = "success",
    target: str | None = None,
) -> None:
    """Record one action on ``row``, citing the service's purpose, in the action's transaction."""
    audit_as(session, caller.actor, caller.origin, row, definition, action, outcome=outcome, target=target)


def audit_as(
    session: Session,
    actor: Actor,
    origin: str,
    row: ServiceRequest,
    definition: ServiceDefinition,
    action: str,
    *,
    outcome: Outcome = "success",
    target: str | None = None,
) -> None:
    """As :func:`audit`, for an actor without a caller (the retention job)."""
    record(session, _event(actor, origin, row, definition, action, outcome=outcome, target=target))


def record_read(
    db: Database,
    caller: Caller,
    row: ServiceRequest,
    definition: ServiceDefinition,
    writer: GroupCommit | None = None,
) -> None:
    """Record that ``caller`` read ``row``; returns once the entry has committed, raises if it could not.

    The one place an audited read's entry is written: the read itself ran in
    a read session (no write lock). With the process's ``writer`` the entry
    joins the next batch of writes (:mod:`gateway.group_commit`): many reads
    and filings share one lock, one audit append and one commit, instead of
    each read queueing for the write lock alone. Without one, a short
    transaction of its own. The event is built before either, so the lock is
    held for the append alone. Whoever calls it shows the read only after it
    returned (fail closed). Blocking: call it from a worker thread.
    """
    event = _event(caller.actor, caller.origin, row, definition, "request.read")
    if writer is not None:
        writer.submit(row.commune, functools.partial(record, event=event)).result()
        return
    with db.session(commune=row.commune) as session:
        record(session, event)


def _event(
    actor: Actor,
    origin: str,
    row: ServiceRequest,
    definition: ServiceDefinition,
    action: str,
    *,
    outcome: Outcome = "success",
    target: str | None = None,
) -> AuditEvent:
    return request_event(
        action,
        actor,
        commune=row.commune,
        service=row.service,
        resource=target or resource(row),
        subject=row.subject,
        purpose=definition.purpose.fr,
        origin=origin,
        outcome=outcome,
    )


def history(
    session: Session,
    row: ServiceRequest,
    kind: str,
    caller: Caller,
    *,
    body: str | None = None,
    internal: bool = False,
    from_status: str | None = None,
    to_status: str | None = None,
    transition: str | None = None,
    reason: str | None = None,
) -> RequestEvent:
    assert row.id is not None
    role = "citizen" if caller.actor.role in ("citizen", "anonymous") else caller.actor.role
    event = new_row(
        RequestEvent,
        commune=row.commune,
        request_id=row.id,
        at=now(),
        kind=kind,
        actor_role="agent" if role in ("supervisor", "administrator") else role,
        staff_id=caller.staff_id,
        from_status=from_status,
        to_status=to_status,
        transition=transition,
        reason=reason,
        body=body,
        internal=internal,
    )
    session.add(event)
    return event


def bump(session: Session, row: ServiceRequest, expected_version: int | None = None) -> None:
    """Claim the row for this change: its version must still be the one the caller saw.

    One conditional UPDATE: of two agents acting at once, the second finds the
    version already moved on and gets :class:`StaleRequest` with nothing written.
    """
    expected = row.version if expected_version is None else expected_version
    result = session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == row.id, ServiceRequest.version == expected)  # type: ignore[arg-type]
        .values(version=expected + 1, updated_at=now())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRequest
    session.refresh(row)


def check_version(row: ServiceRequest, expected_version: int | None) -> None:
    """Someone who acted on an older view is told so first, whatever the request's state has become."""
    if expected_version is not None and row.version != expected_version:
        raise StaleRequest


def plugin_handle(
    session: Session,
    caller: Caller,
    row: ServiceRequest,
    definition: ServiceDefinition,
    *,
    settings: Settings | None = None,
    commune: Commune | None = None,
    stored: Callable[[], None] | None = None,
) -> RequestHandle:
    """The request as its plugin sees it, recording ``<service>.<verb>`` events in this transaction.

    Given the deployment's settings and the commune, it can issue and revoke documents too;
    ``stored`` inserts a new request not stored yet before a document refers to it.
    """
    documents = None
    if settings is not None and commune is not None:
        documents = RequestDocuments(
            session, settings, commune, row,
            lambda action, target: audit(session, caller, row, definition, action, target=target),
            stored,
        )  # fmt: skip
    return RequestHandle(
        row,
        emit=lambda verb, outcome: audit(
            session, caller, row, definition, f"{row.service}.{verb}", outcome=outcome_of(outcome)
        ),
        documents=documents,
        derived=definition.derived,
    )
