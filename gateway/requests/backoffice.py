"""The agents' side: a commune's queue, a request's file, transitions, assignment, notes, messages.

Each method checks the caller's grant for *this* commune and *this* service
before reading anything (a reader may look, an instructor may act), and
records refusals in the audit log. The session is opened for the commune,
so another commune's request is not found even by reference. Every view of
a request's personal data, every download and export is audited with the
service's purpose, as the citizen's access log shows.

Blocking: pages and the API call these through :meth:`Database.run`.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from gateway.audit.events import AuditEvent, pseudonym
from gateway.audit.log import record
from gateway.audit.search import defuse_cell
from gateway.communes import Commune
from gateway.db import Database
from gateway.identity.principal import Principal
from gateway.models import Attachment, RequestEvent, ServiceRequest, StaffRole, StaffUser
from gateway.registry import Registry
from gateway.request_handle import RequestHandle
from gateway.requests import attachments as files
from gateway.requests.context import (
    Caller,
    ServiceRules,
    audit,
    bump,
    checked_text,
    days_from,
    find_attachment,
    history,
    now,
    plugin_call,
    rules_for,
    staff_names,
    text_values,
)
from gateway.requests.errors import (
    ActionForbidden,
    ActionNotAllowed,
    InvalidInput,
    RequestError,
    RequestNotFound,
    StaleRequest,
)
from gateway.requests.filing import Filed, StoredFile, file_request
from gateway.requests.notices import CORRECTION_ASKED, NEW_MESSAGE, notify_citizen
from gateway.services import DRAFT, Localized, Transition

COMMENT = Localized("Commentaire", "Comment")
NOTE = Localized("Note interne", "Internal note")
NO_GRANT = Localized(
    "Votre compte n'a pas accès aux demandes de ce service dans cette commune.",
    "Your account has no access to this service's requests in this commune.",
)
READ_ONLY = Localized(
    "Votre accès à ce service est en lecture seule : vous ne pouvez pas agir sur ses demandes.",
    "Your access to this service is read-only: you cannot act on its requests.",
)
REASON_REQUIRED = Localized("Choisissez un motif dans la liste.", "Choose a reason from the list.")
NOT_AN_ASSIGNEE = Localized(
    "Cette personne ne traite pas les demandes de ce service dans cette commune.",
    "This person does not process this service's requests in this commune.",
)
UNKNOWN_DOCUMENT = Localized(
    "Ce document n'est pas demandé par cette démarche.", "This document is not asked for by this service."
)
DECIDED = Localized(
    "Cette demande a déjà reçu une réponse : elle ne peut plus changer.",
    "This request has already been decided: it can no longer change.",
)
QUEUE_LIMIT = 200
P = ParamSpec("P")
R = TypeVar("R")


def unknown_transition(name: str) -> Localized:
    return Localized(f"L'action « {name} » n'existe pas pour ce service.", f"This service has no action '{name}'.")


def wrong_state(transition: Transition, state_label: Localized) -> Localized:
    return Localized(
        f"L'action « {transition.label.fr} » n'est pas possible : la demande est « {state_label.fr} ».",
        f"The action '{transition.label('en')}' is not possible: the request is '{state_label('en')}'.",
    )


@dataclass(frozen=True)
class QueueFilter:
    """What an agent narrows the queue to. ``status`` may be a state, ``open`` (undecided) or ``decided``."""

    service: str | None = None
    status: str | None = "open"
    assigned: str | None = None  # "me", "none" or None (anyone)
    awaiting: bool | None = None
    q: str | None = None
    older_than_days: int | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class QueuePage:
    rows: Sequence[ServiceRequest]
    total: int
    page: int
    per_page: int
    services: Sequence[str]
    staff_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentCase:
    """A request as its commune's agent sees it: everything, internal notes included."""

    request: ServiceRequest
    rules: ServiceRules
    events: Sequence[RequestEvent]
    attachments: Sequence[Attachment]
    transitions: Sequence[Transition]
    can_act: bool
    staff_names: Mapping[int, str]
    assignees: Sequence[tuple[int, str]]


@dataclass(frozen=True)
class BulkOutcome:
    reference: str
    done: bool
    reason: Localized | None = None


class _Denied(ActionForbidden):
    """A refusal raised inside the action's transaction, carrying the audit record to write after it."""

    def __init__(self, reason: Localized, event: AuditEvent) -> None:
        super().__init__(reason)
        self.event = event


def _recording_denials(method: Callable[Concatenate[BackOffice, P], R]) -> Callable[Concatenate[BackOffice, P], R]:
    """Write a refusal's audit record in a transaction of its own, after the action's has ended.

    Not from inside it: SQLite has a single writer, and the action's open
    transaction holds the lock, so a second session would wait on it forever.
    """

    @functools.wraps(method)
    def checked(self: BackOffice, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except _Denied as denied:
            with self.db.session() as session:
                record(session, denied.event)
            raise ActionForbidden(denied.reason) from None

    return checked


@dataclass(frozen=True)
class _File:
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


class BackOffice:
    def __init__(self, db: Database, registry: Registry) -> None:
        self.db = db
        self.registry = registry
        self.files = files.AttachmentStore(registry.settings.data_dir / "attachments")

    # Reading ----------------------------------------------------------------------

    def services_for(self, principal: Principal, commune: Commune, *, level: str = "reader") -> list[str]:
        return [
            key for key in commune.services if principal.can("agent", commune=commune.slug, service=key, level=level)
        ]

    @_recording_denials
    def queue(self, caller: Caller, commune_slug: str, wanted: QueueFilter) -> QueuePage:
        commune = self._commune(commune_slug)
        principal = _staff(caller)
        services = self.services_for(principal, commune)
        if wanted.service is not None and wanted.service not in services:
            self._deny(caller, commune.slug, wanted.service)
        if not services:
            self._deny(caller, commune.slug, None)
        keys = [wanted.service] if wanted.service else services
        query = select(ServiceRequest).where(col(ServiceRequest.service).in_(keys), ServiceRequest.status != DRAFT)
        query = self._filtered(query, caller, commune, keys, wanted)
        per_page = max(1, min(wanted.per_page, QUEUE_LIMIT))
        page = max(1, wanted.page)
        with self.db.session(commune=commune.slug) as session:
            total = session.exec(select(func.count()).select_from(query.subquery())).one()
            rows = session.exec(
                query.order_by(col(ServiceRequest.submitted_at).asc(), col(ServiceRequest.id).asc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
            names = staff_names(session, {row.assigned_to for row in rows if row.assigned_to})
        return QueuePage(list(rows), int(total), page, per_page, services, names)

    def _filtered(self, query, caller: Caller, commune: Commune, keys: list[str], wanted: QueueFilter):  # type: ignore[no-untyped-def]
        status = wanted.status
        if status in ("open", "decided"):
            decided: set[str] = {"withdrawn"}
            for key in keys:
                provided = self.registry.services.get(key)
                if provided is not None:
                    decided |= {state.name for state in provided.definition.workflow.states if state.final}
            clause = col(ServiceRequest.status).in_(sorted(decided))
            query = query.where(~clause if status == "open" else clause)
        elif status:
            query = query.where(ServiceRequest.status == status)
        if wanted.assigned == "me":
            query = query.where(ServiceRequest.assigned_to == caller.staff_id)
        elif wanted.assigned == "none":
            query = query.where(col(ServiceRequest.assigned_to).is_(None))
        if wanted.awaiting is not None:
            query = query.where(ServiceRequest.awaiting_citizen == wanted.awaiting)
        if wanted.q:
            needle = wanted.q.strip()[:60]  # % and _ are searched for, not wildcards
            query = query.where(
                or_(
                    col(ServiceRequest.reference).icontains(needle, autoescape=True),
                    col(ServiceRequest.summary).icontains(needle, autoescape=True),
                )
            )
        if wanted.older_than_days:
            query = query.where(col(ServiceRequest.submitted_at) < now() - timedelta(days=wanted.older_than_days))
        return query

    @_recording_denials
    def case(self, caller: Caller, commune_slug: str, reference: str) -> AgentCase:
        """Open a request's file; the view of its personal data is recorded with the service's purpose."""
        commune = self._commune(commune_slug)
        with self.db.session(commune=commune.slug) as session:
            row, rules, acting = self._load(session, caller, commune, reference, level="reader")
            events = session.exec(
                select(RequestEvent)
                .where(RequestEvent.request_id == row.id)
                .order_by(col(RequestEvent.at), col(RequestEvent.id))
            ).all()
            attached = session.exec(
                select(Attachment).where(Attachment.request_id == row.id).order_by(col(Attachment.created_at))
            ).all()
            ids = {event.staff_id for event in events if event.staff_id} | {
                row.assigned_to or 0,
                row.filed_by_staff_id or 0,
            }
            names = staff_names(session, ids - {0})
            can_act = _staff(caller).can("agent", commune=commune.slug, service=row.service, level="instructor")
            assignees = self._assignees(session, commune.slug, row.service) if can_act else []
            audit(session, acting, row, rules.definition, "request.read")
        principal = _staff(caller)
        transitions = tuple(
            transition
            for transition in rules.definition.workflow.available(row.status, text_values(row.data))
            if principal.can("agent", commune=commune.slug, service=row.service, level=transition.level)
        )
        return AgentCase(row, rules, list(events), list(attached), transitions, can_act, names, assignees)

    # Acting -----------------------------------------------------------------------

    @_recording_denials
    def transition(
        self,
        caller: Caller,
        commune_slug: str,
        reference: str,
        name: str,
        *,
        expected_version: int | None,
        comment: object = "",
        reason: object = "",
    ) -> ServiceRequest:
        """Take one workflow transition: state, history, plugin reaction, message, audit — or nothing."""
        commune = self._commune(commune_slug)
        with self.db.session(commune=commune.slug) as session:
            # reader level here: the transition says which level it needs (a reader may take a reader's step)
            row, rules, acting = self._load(session, caller, commune, reference, level="reader")
            workflow = rules.definition.workflow
            transition = workflow.transition(name)
            if transition is None:
                raise ActionNotAllowed(unknown_transition(name))
            if not _staff(caller).can("agent", commune=commune.slug, service=row.service, level=transition.level):
                self._deny(caller, commune.slug, row.service, reason=READ_ONLY)
            _check_version(row, expected_version)
            if row.status not in transition.source or not transition.applies(text_values(row.data)):
                raise ActionNotAllowed(wrong_state(transition, workflow.state(row.status).label))
            text = checked_text(comment, required=transition.comment_required, label=COMMENT)
            chosen = reason if isinstance(reason, str) else ""
            if transition.reasons and chosen not in {choice.value for choice in transition.reasons}:
                raise InvalidInput(REASON_REQUIRED)
            bump(session, row, expected_version)
            previous = row.status
            row.status = transition.target
            target = workflow.state(transition.target)
            if target.final:
                moment = now()
                row.decided_at, row.awaiting_citizen = moment, False
                row.purge_after = days_from(moment, commune.retention_days(rules.definition))
            history(
                session,
                row,
                "transition",
                acting,
                body=text or None,
                from_status=previous,
                to_status=row.status,
                transition=transition.name,
                reason=chosen or None,
            )
            audit(session, acting, row, rules.definition, "request.transition")
            handle = RequestHandle(
                row,
                emit=lambda verb, outcome: audit(
                    session,
                    acting,
                    row,
                    rules.definition,
                    f"{row.service}.{verb}",
                    outcome=outcome,  # type: ignore[arg-type]
                ),
            )
            with plugin_call(row.service):
                self.registry.hooks.all(
                    "guichet_request_transition",
                    only=rules.provided.plugin,
                    request=handle,
                    transition=transition,
                    **rules.hook_args,
                )
            if transition.notify is not None:
                notify_citizen(
                    session,
                    self.registry.settings,
                    commune,
                    rules.definition,
                    row,
                    cause=f"transition:{transition.name}:{row.version}",
                    message=transition.notify,
                    comment=text or None,
                )
        return row

    def bulk_transition(
        self,
        caller: Caller,
        commune_slug: str,
        references: Sequence[str],
        name: str,
        *,
        comment: object = "",
        reason: object = "",
    ) -> list[BulkOutcome]:
        """The same transition on several requests, each in its own transaction: one refusal stops only itself."""
        outcomes = []
        for reference in dict.fromkeys(references):
            try:
                self.transition(
                    caller, commune_slug, reference, name, expected_version=None, comment=comment, reason=reason
                )
            except RequestError as error:
                outcomes.append(BulkOutcome(reference, False, error.reason))
            else:
                outcomes.append(BulkOutcome(reference, True))
        return outcomes

    @_recording_denials
    def assign(
        self, caller: Caller, commune_slug: str, reference: str, staff_id: int | None, *, expected_version: int | None
    ) -> ServiceRequest:
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            _check_version(file.row, expected_version)
            assignees = dict(self._assignees(file.session, file.commune.slug, file.row.service))
            if staff_id is not None and staff_id not in assignees:
                raise InvalidInput(NOT_AN_ASSIGNEE)
            bump(file.session, file.row, expected_version)
            file.row.assigned_to = staff_id
            body = f"Attribuée à {assignees[staff_id]}" if staff_id is not None else "Attribution retirée"
            file.record("assignment", body=body, internal=True)
        return file.row

    @_recording_denials
    def note(self, caller: Caller, commune_slug: str, reference: str, body: object) -> ServiceRequest:
        """An internal note: agents only, never shown to the citizen."""
        text = checked_text(body, required=True, label=NOTE)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            bump(file.session, file.row)
            file.record("note", body=text, internal=True)
        return file.row

    @_recording_denials
    def message(self, caller: Caller, commune_slug: str, reference: str, body: object) -> ServiceRequest:
        """A message the citizen reads on their request's page; they are told by mail there is one."""
        text = checked_text(body, required=True, label=COMMENT)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            bump(file.session, file.row)
            file.record("message", body=text)
            self._notify(file, "message", NEW_MESSAGE)
        return file.row

    @_recording_denials
    def ask_citizen(
        self, caller: Caller, commune_slug: str, reference: str, body: object, *, expected_version: int | None
    ) -> ServiceRequest:
        """Ask for a correction or a document: the request waits for the citizen's answer."""
        text = checked_text(body, required=True, label=COMMENT)
        with self._open(caller, commune_slug, reference, level="instructor") as file:
            _check_version(file.row, expected_version)
            if file.rules.definition.workflow.is_decided(file.row.status):
                raise ActionNotAllowed(DECIDED)
            bump(file.session, file.row, expected_version)
            file.row.awaiting_citizen = True
            file.record("correction-asked", body=text)
            self._notify(file, "correction", CORRECTION_ASKED, text)
        return file.row

    # Documents and exports ----------------------------------------------------------

    @_recording_denials
    def download(
        self, caller: Caller, commune_slug: str, reference: str, attachment_id: str
    ) -> tuple[Attachment, bytes]:
        with self._open(caller, commune_slug, reference, level="reader") as file:
            attachment = find_attachment(file.session, file.row, attachment_id)
            file.audit("request.read", target=f"request/{reference}/attachment/{attachment.public_id}")
        return attachment, self.files.read(attachment.storage_name, sha256=attachment.sha256)

    @_recording_denials
    def archive(self, caller: Caller, commune_slug: str, reference: str) -> tuple[str, bytes]:
        """Every attachment of a request as one ZIP file."""
        with self._open(caller, commune_slug, reference, level="reader") as file:
            attached = file.session.exec(select(Attachment).where(Attachment.request_id == file.row.id)).all()
            file.audit("request.read", target=f"request/{reference}/attachments.zip")
        entries = [(a.filename, self.files.read(a.storage_name, sha256=a.sha256)) for a in attached]
        return f"{reference}.zip", files.zip_archive(entries)

    def export_csv(self, caller: Caller, commune_slug: str, wanted: QueueFilter) -> str:
        """The queue as CSV (no form content: what the queue shows), the export itself audited."""
        page = self.queue(caller, commune_slug, replace(wanted, page=1, per_page=QUEUE_LIMIT))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "reference",
                "service",
                "status",
                "submitted_at",
                "decided_at",
                "assigned_to",
                "awaiting_citizen",
                "summary",
            ]
        )
        for row in page.rows:
            writer.writerow(
                [
                    defuse_cell(str(value))
                    for value in (
                        row.reference,
                        row.service,
                        row.status,
                        row.submitted_at.isoformat() if row.submitted_at else "",
                        row.decided_at.isoformat() if row.decided_at else "",
                        page.staff_names.get(row.assigned_to or 0, ""),
                        "yes" if row.awaiting_citizen else "no",
                        row.summary or "",
                    )
                ]
            )
        with self.db.session(commune=commune_slug) as session:
            acting = replace(caller, actor=_staff(caller).actor("agent"))
            record(
                session,
                AuditEvent(
                    action="request.export",
                    actor_id=acting.actor.id,
                    actor_role=acting.actor.role,
                    commune=commune_slug,
                    service=wanted.service,
                    resource=f"queue/{commune_slug}",
                    purpose="suivi du traitement des demandes (export de la file)",
                    origin=caller.origin,
                ),
            )
        return buffer.getvalue()

    # Assisted filing --------------------------------------------------------------

    @_recording_denials
    def file_for_citizen(
        self,
        caller: Caller,
        commune_slug: str,
        key: str,
        raw: Mapping[str, object],
        *,
        submission_key: str,
        citizen_email: str | None,
        documents: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> Filed:
        """File at the counter for a citizen who cannot do it alone: recorded as such, receipt to the citizen.

        ``documents`` maps a document's name to the (file name, bytes) the agent
        scanned at the counter; each is checked like a citizen's upload before
        anything is written, and removed again if no request is stored.
        """
        commune = self._commune(commune_slug)
        principal = _staff(caller)
        if not principal.can("agent", commune=commune.slug, service=key, level="instructor"):
            self._deny(caller, commune.slug, key)
        acting = replace(caller, actor=principal.actor("agent"))
        email = (citizen_email or "").strip() or None
        # without an address, file_request takes the person from the service's subject field
        subject = pseudonym(self.registry.settings.secret_key, "email", email) if email else None
        stored = self._store_counter_documents(commune, key, documents or {})
        filed: Filed | None = None
        try:
            filed = file_request(
                self.db,
                self.registry,
                commune,
                key,
                raw,
                submission_key=submission_key,
                locale=caller.locale,
                origin=caller.origin,
                actor=acting.actor,
                subject=subject,
                notify_email=email,
                filed_by_staff_id=principal.user_id,
                files=stored,
            )
        finally:
            if filed is None or filed.errors or filed.replayed:
                for document in stored:
                    self.files.delete(document.storage_name)
        return filed

    def _store_counter_documents(
        self, commune: Commune, key: str, documents: Mapping[str, tuple[str, bytes]]
    ) -> list[StoredFile]:
        """Check every document first (size, type from content, antivirus), then write them all."""
        provided = self.registry.services.get(key)
        specs = {spec.name: spec for spec in provided.definition.documents} if provided else {}
        checked = []
        for name, (filename, data) in documents.items():
            if name not in specs:
                raise ActionNotAllowed(UNKNOWN_DOCUMENT)
            content_type = files.check_upload(specs[name], filename, data)
            shown = files.clean_filename(filename)
            files.scan(self.registry.hooks, commune, shown, content_type, data)
            checked.append((name, shown, content_type, data))
        stored = []
        for name, shown, content_type, data in checked:
            storage_name, digest = self.files.save(data)
            stored.append(StoredFile(name, shown, content_type, len(data), digest, storage_name, "agent"))
        return stored

    # Internals --------------------------------------------------------------------

    @contextmanager
    def _open(self, caller: Caller, commune_slug: str, reference: str, *, level: str) -> Iterator[_File]:
        """One transaction on one request of the commune, after the grant check at ``level``."""
        commune = self._commune(commune_slug)
        with self.db.session(commune=commune.slug) as session:
            row, rules, acting = self._load(session, caller, commune, reference, level=level)
            yield _File(session, commune, row, rules, acting)

    def _notify(self, file: _File, cause: str, message: Localized, comment: str | None = None) -> None:
        notify_citizen(file.session, self.registry.settings, file.commune, file.rules.definition, file.row,
                       cause=f"{cause}:{file.row.version}", message=message, comment=comment)  # fmt: skip

    def _commune(self, slug: str) -> Commune:
        commune = self.registry.commune(slug)
        if commune is None:
            raise RequestNotFound
        return commune

    def _load(
        self, session: Session, caller: Caller, commune: Commune, reference: str, *, level: str
    ) -> tuple[ServiceRequest, ServiceRules, Caller]:
        principal = _staff(caller)
        row = session.exec(
            select(ServiceRequest).where(ServiceRequest.reference == reference, ServiceRequest.status != DRAFT)
        ).first()
        if row is None:
            raise RequestNotFound
        if not principal.can("agent", commune=commune.slug, service=row.service, level="reader"):
            self._deny(caller, commune.slug, row.service)
        if level == "instructor" and not principal.can("agent", commune=commune.slug, service=row.service, level=level):
            self._deny(caller, commune.slug, row.service, reason=READ_ONLY)
        rules = rules_for(self.registry, commune, row.service)
        return row, rules, replace(caller, actor=principal.actor(_acting_role(principal, commune.slug, row.service)))

    def _assignees(self, session: Session, commune: str, service: str) -> list[tuple[int, str]]:
        rows = session.exec(
            select(StaffUser, StaffRole)
            .join(StaffRole, col(StaffRole.staff_id) == col(StaffUser.id))
            .where(
                col(StaffUser.disabled_at).is_(None),
                col(StaffRole.role).in_(("agent", "supervisor")),
                StaffRole.commune == commune,
            )
        ).all()
        found: dict[int, str] = {}
        for staff, grant in rows:
            if grant.role == "supervisor" or (grant.service in (None, service) and grant.level != "reader"):
                assert staff.id is not None
                found[staff.id] = staff.display_name
        return sorted(found.items(), key=lambda item: item[1])

    def _deny(self, caller: Caller, commune: str, service: str | None, *, reason: Localized = NO_GRANT) -> None:
        """Refuse; :func:`_recording_denials` records the refusal once the action's transaction is rolled back."""
        principal = caller.principal
        actor = principal.actor("agent") if principal is not None and principal.is_staff else caller.actor
        raise _Denied(
            reason,
            AuditEvent(
                action="access.denied",
                actor_id=actor.id,
                actor_role=actor.role,
                commune=commune,
                service=service,
                resource=f"requests/{commune}",
                purpose="contrôle d'accès : rôle agent requis",
                origin=caller.origin,
                outcome="denied",
            ),
        )


def _staff(caller: Caller) -> Principal:
    principal = caller.principal
    if principal is None or not principal.is_staff:
        raise ActionForbidden(NO_GRANT)
    return principal


def _check_version(row: ServiceRequest, expected_version: int | None) -> None:
    """An agent who acted on an older view is told so first, whatever the request's state has become."""
    if expected_version is not None and row.version != expected_version:
        raise StaleRequest


def _acting_role(principal: Principal, commune: str, service: str) -> str:
    for grant in principal.grants:
        if grant.covers("agent", commune, service, None):
            return grant.role if grant.role in ("agent", "supervisor", "administrator") else "agent"
    return "agent"
