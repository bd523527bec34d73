"""The auditor console: search the audit log, see an entry with its proof, export CSV or JSON.

Auditors only. A commune auditor sees their commune's entries; a syndicate
auditor (or administrator) sees all. Every search, view and export is itself
written to the audit log — with the searched person's pseudonym as the data
subject, so they can see that their record was looked at.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import hookimpl
from gateway.api.openapi import json_response, operation, problem_response
from gateway.audit.builders import auditor_event
from gateway.audit.events import pseudonym
from gateway.audit.log import record
from gateway.audit.search import AuditQuery, QueryError, Scope, as_dict, csv_rows, parse_query, proof_for, search
from gateway.identity.access import AccessDenied, record_denial, refuse_citizens, require_staff_session
from gateway.identity.principal import Principal
from gateway.models import AuditEntry
from gateway.services import Localized
from gateway.web.errors import PageError
from gateway.web.lookups import registry_of, request_origin
from gateway.web.templating import render

PURPOSE = "contrôle de la traçabilité des accès aux données personnelles"


async def _auditor(request: Request) -> tuple[Principal, Scope]:
    await refuse_citizens(request, "auditor")
    principal = require_staff_session(request)
    grants = [grant for grant in principal.grants if grant.role in ("auditor", "administrator")]
    if not grants:
        await record_denial(request, principal, role="auditor")
        raise AccessDenied
    if any(grant.commune is None for grant in grants):
        return principal, Scope(None)
    return principal, Scope(frozenset(grant.commune for grant in grants if grant.commune))


def _query(params: dict[str, str]) -> AuditQuery:
    """The validated query, or a 400 page / problem document naming the parameter at fault."""
    try:
        return parse_query(params)
    except QueryError as error:
        raise PageError(400, Localized(f"Recherche impossible : {error}", f"Cannot search: {error}")) from None


def _subject(request: Request, query: AuditQuery) -> str | None:
    if not query.citizen:
        return None
    if len(query.citizen) == 32 and "@" not in query.citizen:
        return query.citizen
    return pseudonym(registry_of(request).settings.secret_key, "email", query.citizen)


def _recorded_query(query: AuditQuery, subject: str | None) -> str:
    """The query as it enters the log: the citizen only as a pseudonym, never an address."""
    params = {key: str(value) for key, value in query.model_dump(exclude_none=True).items() if key != "citizen"}
    if subject:
        params["subject"] = subject
    return ("audit-log?" + urlencode(sorted(params.items())))[:200]


async def _run(
    request: Request, action: str, query: AuditQuery, principal: Principal, scope: Scope
) -> list[AuditEntry]:
    db = request.app.state.db
    secret = registry_of(request).settings.secret_key
    subject = _subject(request, query)

    def run() -> list[AuditEntry]:
        with db.session(all_communes=True) as session:
            entries = search(session, query, scope, secret)
            actor = principal.actor("auditor")
            event = auditor_event(action, actor, commune=query.commune, resource=_recorded_query(query, subject),
                                  subject=subject, purpose=PURPOSE, origin=request_origin(request))  # fmt: skip
            record(session, event)
            return entries

    try:
        entries: list[AuditEntry] = await db.run(run)
    except PermissionError:
        await record_denial(request, principal, role="auditor", commune=query.commune)
        raise AccessDenied from None
    return entries


async def console(request: Request) -> Response:
    principal, scope = await _auditor(request)
    query = _query(dict(request.query_params))
    searched = bool(request.query_params)
    entries = await _run(request, "audit.search", query, principal, scope) if searched else []
    params = urlencode([(key, value) for key, value in request.query_params.items() if key != "before"])
    communes = sorted(registry_of(request).communes) if scope.communes is None else sorted(scope.communes)
    context = {"query": query, "entries": entries, "searched": searched, "params": params, "communes": communes,
               "next_before": entries[-1].seq if len(entries) == query.limit else None}  # fmt: skip
    return render(request, "audit_search.html", context)


async def _entry(request: Request, principal: Principal, scope: Scope) -> tuple[AuditEntry, Any]:
    raw = request.path_params["seq"]
    if not str(raw).isdigit():
        raise PageError(404)
    seq = int(raw)
    db = request.app.state.db

    def load() -> tuple[AuditEntry | None, Any]:
        with db.session(all_communes=True) as session:
            entry = session.get(AuditEntry, seq)
            if entry is None or not scope.allows(entry.commune):
                return None, None
            actor = principal.actor("auditor")
            record(session, auditor_event("audit.view", actor, commune=entry.commune, resource=f"audit-entry/{seq}",
                                          subject=entry.subject, purpose=PURPOSE,
                                          origin=request_origin(request)))  # fmt: skip
            return entry, proof_for(session, entry)

    entry, proof = await db.run(load)
    if entry is None:
        raise PageError(404, Localized("Aucune entrée à cette position dans votre périmètre.",
                                       "No entry at this position within your scope."))  # fmt: skip
    return entry, proof


async def entry_page(request: Request) -> Response:
    principal, scope = await _auditor(request)
    entry, proof = await _entry(request, principal, scope)
    return render(request, "audit_entry.html", {"entry": entry, "fields": as_dict(entry), "proof": proof})


async def _export(request: Request, kind: str) -> Response:
    principal, scope = await _auditor(request)
    query = _query(dict(request.query_params))
    entries = await _run(request, "audit.export", query, principal, scope)
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(csv_rows(entries))
        body, media = buffer.getvalue(), "text/csv; charset=utf-8"
    else:
        body, media = (
            json.dumps({"entries": [as_dict(entry) for entry in entries]}, ensure_ascii=False),
            "application/json",
        )
    headers = {"Content-Disposition": f'attachment; filename="audit.{kind}"'}
    return Response(body, media_type=media, headers=headers)


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv")


async def export_json(request: Request) -> Response:
    return await _export(request, "json")


AUDIT_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": schema}
    for name, schema in (
        ("citizen", {"type": "string"}),
        ("agent", {"type": "string"}),
        ("role", {"type": "string"}),
        ("commune", {"type": "string"}),
        ("service", {"type": "string"}),
        ("action", {"type": "string"}),
        ("outcome", {"type": "string", "enum": ["success", "denied", "failure"]}),
        ("since", {"type": "string", "format": "date-time"}),
        ("until", {"type": "string", "format": "date-time"}),
        ("before", {"type": "integer", "minimum": 0}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
        ("format", {"type": "string", "enum": ["json", "csv"]}),
    )
]


@operation(
    summary="Search the audit log (auditors)",
    operationId="searchAudit",
    parameters=AUDIT_PARAMETERS,
    security=[{"bearer": []}],
    responses={
        "200": json_response("Matching entries, newest first.", "AuditEntries"),
        "400": problem_response("A parameter is unknown or malformed."),
        "401": problem_response("No valid API token or session."),
        "403": problem_response("Not an auditor, or outside the auditor's communes."),
    },
)
async def api_search(request: Request) -> Response:
    principal, scope = await _auditor(request)
    params = dict(request.query_params)
    kind = params.pop("format", "json")
    if kind not in ("json", "csv"):
        raise PageError(400, Localized("format : json ou csv", "format: must be json or csv"))
    query = _query(params)
    entries = await _run(request, "audit.export" if kind == "csv" else "audit.search", query, principal, scope)
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(csv_rows(entries))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse({"entries": [as_dict(entry) for entry in entries]})


@operation(
    summary="One audit entry with its inclusion proof (auditors)",
    operationId="getAuditEntry",
    security=[{"bearer": []}],
    responses={
        "200": json_response("The entry, its text and its proof.", "AuditEntryProof"),
        "401": problem_response("No valid API token or session."),
        "403": problem_response("Not an auditor."),
        "404": problem_response("No entry there within the auditor's scope."),
    },
)
async def api_entry(request: Request) -> Response:
    principal, scope = await _auditor(request)
    entry, proof = await _entry(request, principal, scope)
    body: dict[str, Any] = {"entry": as_dict(entry), "text": entry.encoded, "proof": None}
    if proof is not None:
        body["proof"] = {
            "checkpoint": proof.checkpoint,
            "tree_size": proof.tree_size,
            "inclusion_proof": list(proof.path),
        }
    return JSONResponse(body)


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [
        Route("/audit", console, name="audit_console"),
        Route("/audit/entrees/{seq}", entry_page, name="audit_entry"),
        Route("/audit/export.csv", export_csv, name="audit_export_csv"),
        Route("/audit/export.json", export_json, name="audit_export_json"),
        Route("/api/v1/audit/entries", api_search, name="api_audit_search"),
        Route("/api/v1/audit/entries/{seq}", api_entry, name="api_audit_entry"),
    ]
