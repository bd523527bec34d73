"""One request's story in the audit log, oldest first, for the console's timeline page and its API twin.

A request is named in a commune by its reference (references restart in
each commune), and every entry about it names it in its resource
(``request/<reference>``, and what hangs under it). A request shared with
another commune (docs/shared_requests.md) has a linked request there, with
its own reference: its entries join the timeline when the auditor may read
that commune too, and never otherwise. The reading is recorded like a
search, with the request's person as the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import select
from starlette.requests import Request

from gateway.audit.builders import auditor_event
from gateway.audit.log import record
from gateway.audit.search import MAX_RESULTS, REFERENCE, AuditQuery, Scope, search
from gateway.audit.search_purposes import AUDIT_PURPOSES, ROUTINE
from gateway.identity.access import AccessDenied
from gateway.identity.principal import Principal
from gateway.models import AuditEntry, ServiceRequest
from gateway.services import Localized
from gateway.web.access import record_denial
from gateway.web.errors import PageError
from gateway.web.lookups import registry_of, request_origin

_REFERENCE = re.compile(REFERENCE)
NO_SUCH_REQUEST = Localized("Aucune demande ne porte cette référence dans cette commune.",
                            "No request has this reference in this commune.")  # fmt: skip


@dataclass(frozen=True)
class Side:
    """One request of the timeline: the one asked for, or its linked request in another commune."""

    commune: str
    reference: str
    linked: bool


@dataclass(frozen=True)
class RequestTimeline:
    sides: list[Side]
    entries: list[AuditEntry]
    #: the request's last entries were left out: more than the search answers at once
    truncated: bool


def stated_purpose(request: Request) -> str:
    """The purpose the auditor stated (``?purpose=``), recorded with the reading; the routine control's by default."""
    key = request.query_params.get("purpose") or ROUTINE
    unknown = set(request.query_params) - {"purpose"}
    if unknown:
        name = sorted(unknown)[0]
        raise PageError(400, Localized(f"Paramètre inconnu : {name}", f"{name}: unknown parameter"))
    if key not in AUDIT_PURPOSES:
        choices = ", ".join(AUDIT_PURPOSES)
        raise PageError(400, Localized(f"purpose : une de {choices}", f"purpose: must be one of {choices}"))
    return AUDIT_PURPOSES[key].fr


def request_link(entry: AuditEntry) -> str | None:
    """The timeline page of the request an entry names (``request/<reference>...`` in a commune), if it names one."""
    kind, _, rest = entry.resource.partition("/")
    reference = rest.partition("/")[0]
    if kind != "request" or not entry.commune or not _REFERENCE.match(reference):
        return None
    return f"/audit/demandes/{quote(entry.commune)}/{quote(reference)}"


async def request_timeline(request: Request, principal: Principal, scope: Scope) -> RequestTimeline:
    """Every entry about the path's request (and its linked request within ``scope``), oldest first."""
    commune, reference = str(request.path_params["commune"]), str(request.path_params["reference"])
    purpose = stated_purpose(request)
    if commune not in registry_of(request).communes or not _REFERENCE.match(reference):
        raise PageError(404, NO_SUCH_REQUEST)
    if not scope.allows(commune):
        await record_denial(request, principal, role="auditor", commune=commune)
        raise AccessDenied
    db = request.app.state.db
    origin = request_origin(request)

    def load() -> RequestTimeline | None:
        with db.session(all_communes=True) as session:
            row = session.exec(
                select(ServiceRequest).where(ServiceRequest.commune == commune, ServiceRequest.reference == reference)
            ).first()
            sides = [Side(commune, reference, linked=False)]
            if row is not None and row.linked_commune and row.linked_reference and scope.allows(row.linked_commune):
                sides.append(Side(row.linked_commune, row.linked_reference, linked=True))
            entries: list[AuditEntry] = []
            truncated = False
            for side in sides:
                query = AuditQuery(commune=side.commune, reference=side.reference, order="oldest", limit=MAX_RESULTS)
                found = search(session, query, scope)
                entries.extend(found)
                truncated = truncated or len(found) == MAX_RESULTS
            if row is None and not entries:
                return None
            record(session, auditor_event("audit.search", principal.actor("auditor"), commune=commune,
                                          resource=f"audit-request/{commune}/{reference}",
                                          subject=row.subject if row is not None else None, purpose=purpose,
                                          origin=origin))  # fmt: skip
            return RequestTimeline(sides, sorted(entries, key=lambda entry: entry.seq), truncated)

    timeline: RequestTimeline | None = await db.run(load)
    if timeline is None:
        raise PageError(404, NO_SUCH_REQUEST)
    return timeline
