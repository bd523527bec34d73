"""The audit log as JSON, for auditors: search (JSON or CSV) and one entry with its inclusion proof.

Registered by the default plugin :mod:`gateway.builtin.audit_console`, beside
the console's pages. Who may read, and the record of each reading, are in
:mod:`gateway.web.audit_log_reading`.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.events import OUTCOMES, ROLES
from gateway.audit.search import DATE_FIRST, REFERENCE, AuditQuery, as_dict, csv_rows
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.services import Localized
from gateway.web.audit_log_reading import audit_query, auditor, load_entry, run_search
from gateway.web.errors import PageError
from gateway.web.openapi import json_response, operation, or_empty, problem_response


def _bounds(name: str) -> dict[str, Any]:
    """The limits :class:`AuditQuery` puts on a parameter (length, range), so the document states the same ones."""
    found = _query_schema()["properties"][name]
    branches = found.get("anyOf", [found])
    return {key: value for branch in branches for key, value in branch.items() if key in _BOUND_KEYS}


@cache
def _query_schema() -> dict[str, Any]:
    """:class:`AuditQuery`'s JSON schema, generated once for the eight parameters that read it."""
    return AuditQuery.model_json_schema()


_BOUND_KEYS = ("maxLength", "minimum", "maximum")
_PERIOD_BOUND = {
    "type": "string",
    "pattern": f"^{DATE_FIRST.pattern}",
    "description": "a date (`2026-01-31`) or an ISO 8601 date and time (`2026-01-31T08:00:00+01:00`), in UTC "
    "when it has no offset",
}
AUDIT_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": or_empty(schema)}
    for name, schema in (
        ("citizen", {"type": "string", **_bounds("citizen")}),
        ("reference", {"type": "string", "pattern": REFERENCE}),
        ("purpose", {"type": "string", "enum": list(AUDIT_PURPOSES)}),
        ("agent", {"type": "string", **_bounds("agent")}),
        ("role", {"type": "string", "enum": list(ROLES)}),
        ("commune", {"type": "string", **_bounds("commune")}),
        ("service", {"type": "string", **_bounds("service")}),
        ("action", {"type": "string", **_bounds("action")}),
        ("outcome", {"type": "string", "enum": list(OUTCOMES)}),
        ("since", _PERIOD_BOUND),
        ("until", _PERIOD_BOUND),
        ("order", {"type": "string", "enum": ["newest", "oldest"]}),
        ("before", {"type": "integer", **_bounds("before")}),
        ("after", {"type": "integer", **_bounds("after")}),
        ("limit", {"type": "integer", **_bounds("limit")}),
        ("format", {"type": "string", "enum": ["json", "csv"]}),
    )
]


@operation(
    summary="Search the audit log (auditors)",
    operationId="searchAudit",
    parameters=AUDIT_PARAMETERS,
    security=[{"bearer": []}, {"cookie": []}],
    responses={
        "200": {
            "description": "Matching entries, newest first: JSON, or CSV with `format=csv`.",
            "content": {
                **json_response("", "AuditEntries")["content"],
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        "400": problem_response("A parameter is unknown or malformed."),
        "401": problem_response("No valid API token or session."),
        "403": problem_response("Not an auditor, or outside the auditor's communes."),
    },
)
async def api_search(request: Request) -> Response:
    principal, scope = await auditor(request)
    params = dict(request.query_params)
    kind = params.pop("format", "json")
    if kind not in ("json", "csv"):
        raise PageError(400, Localized("format : json ou csv", "format: must be json or csv"))
    query = audit_query(params)
    found = await run_search(request, "audit.export" if kind == "csv" else "audit.search", query, principal, scope)
    entries = found.entries
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(csv_rows(entries))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse({"entries": [as_dict(entry) for entry in entries]})


@operation(
    summary="One audit entry with its inclusion proof (auditors)",
    operationId="getAuditEntry",
    security=[{"bearer": []}, {"cookie": []}],
    responses={
        "200": json_response("The entry, its text and its proof.", "AuditEntryProof"),
        "401": problem_response("No valid API token or session."),
        "403": problem_response("Not an auditor."),
        "404": problem_response("No entry there within the auditor's scope."),
    },
)
async def api_entry(request: Request) -> Response:
    principal, scope = await auditor(request)
    entry, proof = await load_entry(request, principal, scope)
    body: dict[str, Any] = {"entry": as_dict(entry), "text": entry.encoded, "proof": None}
    if proof is not None:
        body["proof"] = {
            "checkpoint": proof.checkpoint,
            "tree_size": proof.tree_size,
            "inclusion_proof": list(proof.path),
        }
    return JSONResponse(body)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/audit/entries", api_search, name="api_audit_search"),
        Route("/api/v1/audit/entries/{seq}", api_entry, name="api_audit_entry"),
    ]
