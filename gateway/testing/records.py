"""What a test's steps left behind: the requests stored, the mails queued, the audit log's entries.

Each test has a database of its own, so everything read here was produced by the
test itself. The ``assert_*`` helpers fail with what *was* recorded, which is
what one needs to read when an expectation is wrong.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlmodel import col, select
from starlette.applications import Starlette

from gateway.models import AuditEntry, IssuedDocument, OutboxMessage, ServiceRequest
from gateway.testing.views import AuditRecord, FiledRequest, IssuedRecord, QueuedMessage


def stored_request(app: Starlette, public_id: str) -> FiledRequest:
    """The request as the database holds it now."""
    with app.state.db.read_session(all_communes=True) as session:
        return FiledRequest.of(session.exec(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).one())


def commune_requests(app: Starlette, commune: str) -> list[FiledRequest]:
    """Every request filed with ``commune``, oldest first (drafts included)."""
    with app.state.db.read_session(commune=commune) as session:
        rows = session.exec(select(ServiceRequest).order_by(col(ServiceRequest.id))).all()
        return [FiledRequest.of(row) for row in rows]


def issued_documents(app: Starlette, public_id: str) -> list[IssuedRecord]:
    """The documents issued for the request ``public_id`` (API 1.1), oldest first, revoked ones included."""
    with app.state.db.read_session(all_communes=True) as session:
        row = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).one()
        found = session.exec(
            select(IssuedDocument).where(IssuedDocument.request_id == row.id).order_by(col(IssuedDocument.id))
        ).all()
        return [IssuedRecord(doc.number, doc.kind, doc.pdf, doc.revoked_at is not None) for doc in found]


def queued_messages(app: Starlette, *, public_id: str | None = None, kind: str | None = None) -> list[QueuedMessage]:
    """The mails queued (about the request ``public_id``, of ``kind``), oldest first."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if public_id is not None:
        query = query.where(col(OutboxMessage.dedupe_key).startswith(f"request:{public_id}:"))
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    with app.state.db.read_session(all_communes=True) as session:
        return [QueuedMessage(row.kind, row.recipient, row.locale, row.subject, row.body)
                for row in session.exec(query).all()]  # fmt: skip


def audit_records(app: Starlette, action: str | None = None) -> list[AuditRecord]:
    """The audit log's entries (for ``action``, e.g. ``request.read``, when given), oldest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.seq))
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with app.state.db.read_session(all_communes=True) as session:
        return [AuditRecord(row.action, row.outcome, row.actor_id, row.subject, row.purpose, row.commune,
                            row.service, row.resource) for row in session.exec(query).all()]  # fmt: skip


def assert_audited(app: Starlette, action: str, **expected: Any) -> list[AuditRecord]:
    """The entries for ``action`` whose fields equal ``expected`` (e.g. ``outcome="success"``, ``commune="ville-a"``).

    Fails, listing the entries recorded for ``action`` (or every action recorded when
    there is none), when no entry matches.
    """
    _check_names(AuditRecord, expected)
    recorded = audit_records(app, action)
    found = [record for record in recorded if _matches(record, expected)]
    if not found:
        seen = recorded or audit_records(app)
        listing = "\n".join(f"  {record}" for record in seen) or "  (the audit log is empty)"
        raise AssertionError(f"no audit entry {action!r} with {expected}; recorded:\n{listing}")
    return found


def assert_mailed(
    app: Starlette, *, to: str | None = None, containing: str | None = None, **expected: Any
) -> list[QueuedMessage]:
    """The queued mails to ``to`` whose subject or body contains ``containing`` and whose fields equal ``expected``.

    Fails, listing every queued mail, when none matches.
    """
    _check_names(QueuedMessage, expected)
    if to is not None:
        expected["recipient"] = to
    queued = queued_messages(app)
    found = [
        message
        for message in queued
        if _matches(message, expected) and (containing is None or containing in message.subject + message.body)
    ]
    if not found:
        listing = "\n".join(f"  {m.kind} to {m.recipient}: {m.subject!r}" for m in queued) or "  (the outbox is empty)"
        wanted = {**expected, **({"containing": containing} if containing else {})}
        raise AssertionError(f"no mail queued with {wanted}; queued:\n{listing}")
    return found


def assert_nothing_mailed(app: Starlette, *, to: str | None = None) -> None:
    """No mail is queued (to ``to``, when given)."""
    queued = [message for message in queued_messages(app) if to is None or message.recipient == to]
    assert not queued, "mails queued: " + ", ".join(f"{m.kind} to {m.recipient}: {m.subject!r}" for m in queued)


def _check_names(view: type, expected: dict[str, Any]) -> None:
    known = {field.name for field in fields(view)}
    unknown = sorted(set(expected) - known)
    if unknown:
        raise TypeError(f"{view.__name__} has no field {', '.join(unknown)} (fields: {', '.join(sorted(known))})")


def _matches(record: object, expected: dict[str, Any]) -> bool:
    return all(getattr(record, name) == value for name, value in expected.items())
