"""The back office's reads: a commune's queue, a request's case file, its documents, the queue as CSV.

Every view of a request's personal data, every download and export is
audited with the service's purpose, as the citizen's access log shows; a
queue page, a search and an export record each person they showed
(:mod:`.listings`).

Blocking: pages and the API call these through :meth:`Database.run`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select

from gateway.audit.search import defuse_cell
from gateway.communes import Commune
from gateway.models import Attachment, RequestEvent, ServiceRequest
from gateway.requests import attachments as files
from gateway.requests.backoffice.access import Desk, acting_role, recording_denials, staff_of
from gateway.requests.backoffice.choices import transition_choices
from gateway.requests.backoffice.listings import record_listing
from gateway.requests.caller import Caller
from gateway.requests.clock import now
from gateway.requests.finders import attachments_of, family_of, find_attachment, staff_names
from gateway.requests.issuing import IssuedSummary, issued_of
from gateway.requests.linked import workflows_of
from gateway.requests.rules import ServiceRules
from gateway.requests.text import answers_of
from gateway.requests.trail import record_read
from gateway.services import DRAFT, Choice, Transition

QUEUE_LIMIT = 200
CSV_COLUMNS = ("reference", "service", "status", "submitted_at", "decided_at", "assigned_to", "awaiting_citizen",
               "summary")  # fmt: skip


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
class QueueCounts:
    """How many undecided requests an agent's queue holds in a commune, by whose hands they are in."""

    open: int
    unassigned: int
    mine: int


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
    issued: Sequence[IssuedSummary] = ()
    #: the other requests filed with it as one family (API 1.2), those this agent may read only
    family: Sequence[ServiceRequest] = ()
    #: the options of each offered transition asking a choice (API 1.2), by transition name
    choices: Mapping[str, Sequence[Choice]] = field(default_factory=dict)


class BackOfficeQueries(Desk):
    """What an agent reads; each read of personal data is audited."""

    @recording_denials("queue.read")
    def queue(self, caller: Caller, commune_slug: str, wanted: QueueFilter) -> QueuePage:
        """One page of the queue; each person it shows is recorded (``request.search`` when searched)."""
        return self._listed(caller, commune_slug, wanted, "request.search" if wanted.q else "request.list")

    def counts(self, caller: Caller, commune_slug: str) -> QueueCounts:
        """The numbers of the agent's open queue in a commune (for their home page): counts only, no one is shown,
        so nothing is recorded; a commune where they read no service counts nothing."""
        commune = self._commune(commune_slug)
        services = self.services_for(staff_of(caller), commune)
        if not services:
            return QueueCounts(0, 0, 0)
        query = select(ServiceRequest.assigned_to).where(
            col(ServiceRequest.service).in_(services), ServiceRequest.status != DRAFT
        )
        listed = self._filtered(query, caller, services, QueueFilter()).subquery()
        with self.db.read_session(commune=commune.slug) as session:
            found = session.exec(select(listed.c.assigned_to, func.count()).group_by(listed.c.assigned_to)).all()
        by_hands = {assigned: int(count) for assigned, count in found}
        return QueueCounts(sum(by_hands.values()), by_hands.get(None, 0), by_hands.get(caller.staff_id, 0))

    def _listed(self, caller: Caller, commune_slug: str, wanted: QueueFilter, action: str) -> QueuePage:
        """The page, and its record: one ``action`` entry per subject and service shown, in the same transaction."""
        commune = self._commune(commune_slug)
        principal = staff_of(caller)
        services = self.services_for(principal, commune)
        if wanted.service is not None and wanted.service not in services:
            self._deny(caller, commune.slug, wanted.service)
        if not services:
            self._deny(caller, commune.slug, None)
        keys = [wanted.service] if wanted.service else services
        query = select(ServiceRequest).where(col(ServiceRequest.service).in_(keys), ServiceRequest.status != DRAFT)
        query = self._filtered(query, caller, keys, wanted)
        per_page = max(1, min(wanted.per_page, QUEUE_LIMIT))
        page = max(1, wanted.page)
        with self.db.read_session(commune=commune.slug) as session:
            total = session.exec(select(func.count()).select_from(query.subquery())).one()
            rows = session.exec(
                query.order_by(col(ServiceRequest.submitted_at).asc(), col(ServiceRequest.id).asc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
            names = staff_names(session, {row.assigned_to for row in rows if row.assigned_to})
        if rows:  # read without waiting for writers, then recorded in a short write transaction: nothing is
            # shown unless its record committed
            with self.db.session(commune=commune.slug) as session:
                record_listing(
                    session, self.registry,
                    lambda service: principal.actor(acting_role(principal, commune.slug, service)),
                    action=action, commune=commune.slug, rows=rows, origin=caller.origin,
                )  # fmt: skip
        return QueuePage(list(rows), int(total), page, per_page, services, names)

    def _filtered(self, query: Any, caller: Caller, keys: list[str], wanted: QueueFilter) -> Any:
        status = wanted.status
        if status in ("open", "decided"):
            decided: set[str] = {"withdrawn"}
            for key in keys:
                provided = self.registry.services.get(key)
                if provided is not None:
                    for workflow in workflows_of(provided.definition):
                        decided |= {state.name for state in workflow.states if state.final}
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

    @recording_denials("request.read")
    def case(self, caller: Caller, commune_slug: str, reference: str) -> AgentCase:
        """Open a request's file; the view of its personal data is recorded with the service's purpose."""
        commune = self._commune(commune_slug)
        with self.db.read_session(commune=commune.slug) as session:
            row, rules, acting = self._load(session, caller, commune, reference, level="reader")
            events = session.exec(
                select(RequestEvent)
                .where(RequestEvent.request_id == row.id)
                .order_by(col(RequestEvent.at), col(RequestEvent.id))
            ).all()
            attached = attachments_of(session, row)
            ids = {event.staff_id for event in events if event.staff_id} | {
                row.assigned_to or 0,
                row.filed_by_staff_id or 0,
            }
            names = staff_names(session, ids - {0})
            can_act = staff_of(caller).can("agent", commune=commune.slug, service=row.service, level="instructor")
            assignees = self._assignees(session, commune.slug, row.service) if can_act else []
            issued = issued_of(session, row)
            principal = staff_of(caller)
            family = [
                other
                for other in family_of(session, row)
                if principal.can("agent", commune=commune.slug, service=other.service, level="reader")
            ]
        # read without waiting for writers; the view is recorded in the next batch of writes, and nothing is
        # returned unless that batch committed (fail closed)
        record_read(self.db, acting, row, rules.definition, self.writer)
        transitions = self._transitions(caller, commune, row, rules)
        choices = {
            transition.name: transition_choices(self.registry, rules, answers_of(row.data), transition)
            for transition in transitions
            if transition.choice is not None
        }
        return AgentCase(
            row, rules, list(events), attached,
            tuple(transition for transition in transitions if choices.get(transition.name, True)), can_act, names,
            assignees, issued, family, choices,
        )  # fmt: skip

    def _transitions(
        self, caller: Caller, commune: Commune, row: ServiceRequest, rules: ServiceRules
    ) -> tuple[Transition, ...]:
        principal = staff_of(caller)
        return tuple(
            transition
            for transition in rules.definition.workflow.available(row.status, answers_of(row.data))
            if principal.can("agent", commune=commune.slug, service=row.service, level=transition.level)
        )

    @recording_denials("request.read")
    def download(
        self, caller: Caller, commune_slug: str, reference: str, attachment_id: str
    ) -> tuple[Attachment, bytes]:
        with self._open(caller, commune_slug, reference, level="reader") as file:
            attachment = find_attachment(file.session, file.row, attachment_id)
            file.audit("request.read", target=f"request/{reference}/attachment/{attachment.public_id}")
        return attachment, self.read_files(commune_slug, [attachment])[0]

    @recording_denials("request.read")
    def archive(self, caller: Caller, commune_slug: str, reference: str) -> tuple[str, bytes]:
        """Every attachment of a request as one ZIP file."""
        with self._open(caller, commune_slug, reference, level="reader") as file:
            attached = file.session.exec(select(Attachment).where(Attachment.request_id == file.row.id)).all()
            file.audit("request.read", target=f"request/{reference}/attachments.zip")
        contents = self.read_files(commune_slug, attached)
        return f"{reference}.zip", files.zip_archive(
            (a.filename, data) for a, data in zip(attached, contents, strict=True)
        )

    @recording_denials("queue.read")
    def export_csv(self, caller: Caller, commune_slug: str, wanted: QueueFilter) -> str:
        """The queue as CSV (no form content: what the queue shows), each person in it recorded as exported."""
        page = self._listed(caller, commune_slug, replace(wanted, page=1, per_page=QUEUE_LIMIT), "request.export")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
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
        return buffer.getvalue()
