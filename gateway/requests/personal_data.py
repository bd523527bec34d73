"""Everything the gateway holds about a citizen, as one ZIP file they download (GDPR, articles 15 and 20).

The archive holds ``data.json`` (UTF-8, indented) and the files they
attached, under ``attachments/<reference>/<filename>``, and the documents issued to
them (certificates), under ``issued/<reference>/<number>.pdf``. In it:

- their account: names, e-mail, the claims kept from their identity
  provider, dates; for a local account its e-mail and dates. Never a secret
  (no password hash, no session or token);
- every request they own, in every commune: the form as filled, status,
  dates, the whole history *including the agents' internal notes*, marked
  ``"internal": true``. The right of access covers every personal data about
  the person, notes written about them included, so they are not held back;
  the page says so before the download;
- their access log: every audit entry about them (the newest
  :data:`ACCESS_LOG_LIMIT`), as their access-log page shows it.

Downloading is itself recorded in the audit log (``account.export``).
Blocking: call through :meth:`Database.run`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from gateway.audit.builders import account_event
from gateway.audit.events import format_time
from gateway.audit.labels import ROLES, action_label
from gateway.audit.log import record
from gateway.db import Database
from gateway.identity.subjects import citizen_subjects, confirmed_email
from gateway.models import (
    Attachment,
    AuditEntry,
    Citizen,
    IssuedDocument,
    LocalAccount,
    OutboxMessage,
    RequestEvent,
    ServiceRequest,
)
from gateway.registry import Registry
from gateway.requests.attachments import clean_filename
from gateway.requests.attachments import read as read_attachment
from gateway.requests.caller import Caller
from gateway.requests.errors import ActionForbidden, DocumentUnreadable
from gateway.requests.finders import staff_names
from gateway.services import Localized

ACCESS_LOG_LIMIT = 5000
PURPOSE = "droit d'accès et à la portabilité de la personne concernée (RGPD, articles 15 et 20)"
SIGN_IN_FIRST = Localized("Connectez-vous pour télécharger vos données.", "Sign in to download your data.")
FORMAT = "guichet-personal-data/1"


@dataclass(frozen=True)
class PersonalArchive:
    filename: str
    content: bytes


def _when(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def _content(session: Session, attachment: Attachment) -> bytes | None:
    """An attachment's bytes, or None when they are gone or changed since the upload."""
    try:
        return read_attachment(session, attachment.storage_name, sha256=attachment.sha256)
    except DocumentUnreadable:
        return None


def export_personal_data(db: Database, registry: Registry, caller: Caller) -> PersonalArchive:
    """The signed-in citizen's archive; the export is audited in the transaction that reads the data."""
    if caller.citizen_id is None:
        raise ActionForbidden(SIGN_IN_FIRST)
    secret = registry.settings.secret_key
    with db.session(all_communes=True) as session:
        citizen = session.get(Citizen, caller.citizen_id)
        if citizen is None:
            raise ActionForbidden(SIGN_IN_FIRST)
        account = session.exec(select(LocalAccount).where(LocalAccount.citizen_id == citizen.id)).first()
        requests = session.exec(
            select(ServiceRequest)
            .where(ServiceRequest.citizen_id == citizen.id)
            .order_by(col(ServiceRequest.created_at), col(ServiceRequest.id))
        ).all()
        ids = [row.id for row in requests]
        events = session.exec(
            select(RequestEvent)
            .where(col(RequestEvent.request_id).in_(ids))
            .order_by(col(RequestEvent.at), col(RequestEvent.id))
        ).all()
        attached = session.exec(
            select(Attachment)
            .where(col(Attachment.request_id).in_(ids))
            .order_by(col(Attachment.created_at), col(Attachment.id))
        ).all()
        issued = session.exec(
            select(IssuedDocument).where(col(IssuedDocument.request_id).in_(ids)).order_by(col(IssuedDocument.id))
        ).all()
        names = staff_names(session, {event.staff_id for event in events if event.staff_id})
        # the mail sent to their own requests' addresses, and to their address once it is known to be theirs
        confirmed = confirmed_email(session, citizen)
        addresses = {row.notify_email.casefold() for row in requests if row.notify_email}
        addresses |= {confirmed.casefold()} if confirmed else set()
        mail = session.exec(
            select(OutboxMessage)
            .where(func.lower(OutboxMessage.recipient).in_(sorted(addresses)))
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        ).all()
        subjects = citizen_subjects(session, citizen, secret)
        log = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.subject).in_(subjects))
            .order_by(col(AuditEntry.seq).desc())
            .limit(ACCESS_LOG_LIMIT)
        ).all()
        event = account_event("account.export", caller.actor, resource="personal-data.zip", purpose=PURPOSE,
                              origin=caller.origin, subject=subjects[0])  # fmt: skip
        record(session, event)
        access_log = [_access(entry, registry) for entry in log]
    with db.read_session(all_communes=True) as session:
        contents = {a.storage_name: _content(session, a) for a in attached}
    files: list[tuple[str, bytes]] = []
    used: set[str] = set()
    by_request: dict[int, list[dict[str, Any]]] = {}
    for attachment in attached:
        folder = _folder(next(row for row in requests if row.id == attachment.request_id))
        path = _unique(f"attachments/{folder}/{clean_filename(attachment.filename)}", used)
        entry = {
            "document": attachment.document,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "uploaded_by": attachment.uploaded_by,
            "created_at": _when(attachment.created_at),
            "file": path,
        }
        content = contents[attachment.storage_name]
        if content is None:
            entry["file"] = None  # said rather than hidden: the file could not be read back intact
        else:
            files.append((path, content))
        by_request.setdefault(attachment.request_id, []).append(entry)
    issued_entries = []
    for paper in issued:
        owner = next(row for row in requests if row.id == paper.request_id)
        path = _unique(f"issued/{_folder(owner)}/{paper.number}.pdf", used)
        files.append((path, paper.pdf))
        issued_entries.append({"request": owner.reference, "number": paper.number, "title": paper.title,
                               "issued_at": _when(paper.issued_at), "revoked_at": _when(paper.revoked_at),
                               "confirmable": paper.confirmable, "file": path})  # fmt: skip
    document = {
        "format": FORMAT,
        "about": (
            "Toutes les données que le guichet conserve sur vous. Les notes internes des agents sont incluses "
            'et signalées par "internal": true.'
        ),
        "account": _account(citizen, account),
        "requests": [
            _request(
                row, registry, [e for e in events if e.request_id == row.id], by_request.get(row.id or 0, []), names
            )
            for row in requests
        ],
        "issued_documents": issued_entries,
        "access_log": access_log,
        "messages": [_message(message) for message in mail],
    }
    return PersonalArchive("mes-donnees-guichet.zip", _zip(document, files))


def _account(citizen: Citizen, account: LocalAccount | None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": citizen.public_id,
        "identity_provider": citizen.issuer,
        "identifier_at_provider": citizen.sub,
        "given_name": citizen.given_name,
        "family_name": citizen.family_name,
        "email": citizen.email,
        "claims": citizen.claims or {},
        "created_at": _when(citizen.created_at),
        "last_login_at": _when(citizen.last_login_at),
    }
    if account is not None:
        found["local_account"] = {
            "email": account.email,
            "email_verified_at": _when(account.email_verified_at),
            "created_at": _when(account.created_at),
        }
    return found


def _request(
    row: ServiceRequest,
    registry: Registry,
    events: Sequence[RequestEvent],
    attachments: list[dict[str, Any]],
    names: dict[int, str],
) -> dict[str, Any]:
    commune = registry.communes.get(row.commune)
    provided = registry.services.get(row.service)
    if commune is None or not commune.shows_agent_names:
        names = {}  # agents by role, as on the request's page, unless the commune shows their names
    status = row.status
    if provided is not None:
        try:
            status_label = provided.definition.workflow.state(row.status).label.fr
        except KeyError:
            status_label = row.status
    else:
        status_label = row.status
    return {
        "reference": row.reference,
        "commune": commune.name if commune else row.commune,
        "service": provided.definition.title.fr if provided else row.service,
        "status": status,
        "status_label": status_label,
        "awaiting_you": row.awaiting_citizen,
        "form": row.data,
        "summary": row.summary,
        "notify_email": row.notify_email,
        "created_at": _when(row.created_at),
        "submitted_at": _when(row.submitted_at),
        "decided_at": _when(row.decided_at),
        "deleted_after": _when(row.purge_after),
        "history": [_event(event, names) for event in events],
        "attachments": attachments,
    }


def _event(event: RequestEvent, names: dict[int, str]) -> dict[str, Any]:
    """One history line; ``internal`` flags what agents wrote for themselves, never the person's own acts.

    The stored flag also hides lines from the request's page that say
    nothing to its owner (the draft's « created » line, written by the
    citizen): in the archive "internal" means an agent's line kept from them.
    """
    return {
        "at": _when(event.at),
        "kind": event.kind,
        "by": event.actor_role,
        "agent": names.get(event.staff_id) if event.staff_id else None,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "transition": event.transition,
        "reason": event.reason,
        "text": event.body,
        "internal": event.internal and event.actor_role != "citizen",
    }


def _message(message: OutboxMessage) -> dict[str, Any]:
    """A message the gateway wrote to one of the citizen's addresses, sent or not."""
    state = "sent" if message.sent_at else "failed" if message.failed_at else "pending"
    return {
        "to": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "written_at": _when(message.created_at),
        "sent_at": _when(message.sent_at),
        "state": state,
    }


def _access(entry: AuditEntry, registry: Registry) -> dict[str, Any]:
    commune = registry.communes.get(entry.commune or "")
    provided = registry.services.get(entry.service or "")
    role = ROLES.get(entry.actor_role)
    return {
        "time": format_time(entry.time),
        "commune": commune.name if commune else entry.commune,
        "service": provided.definition.title.fr if provided else entry.service,
        "who": role.fr if role else entry.actor_role,
        "what": action_label(entry.action).fr,
        "purpose": entry.purpose,
        "outcome": entry.outcome,
    }


def _folder(row: ServiceRequest) -> str:
    return clean_filename(row.reference.replace("/", "-")) if row.reference else f"brouillon-{row.public_id}"


def _unique(path: str, used: set[str]) -> str:
    stem, dot, extension = path.rpartition(".")
    if not dot or "/" in extension:
        stem, extension = path, ""
    candidate, number = path, 2
    while candidate.casefold() in used:
        candidate = f"{stem} ({number}).{extension}" if extension else f"{stem} ({number})"
        number += 1
    used.add(candidate.casefold())
    return candidate


def _zip(document: dict[str, Any], files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        for path, data in files:
            archive.writestr(path, data)
    return buffer.getvalue()
