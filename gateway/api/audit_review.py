"""The weekly review of the audit log as JSON, for auditors: the API twin of :mod:`gateway.pages.audit_review_pages`.

Who may read, the scope and the record of each look are in
:mod:`gateway.web.audit_review_reading`; marking a finding is done from the
console's page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.audit.events import format_time
from gateway.audit.review.collect import Review
from gateway.audit.review.findings import KINDS, Finding
from gateway.audit.review.words import sentence, title
from gateway.web.audit_log_reading import auditor
from gateway.web.audit_review_reading import load_review, review_ask
from gateway.web.i18n import choose_locale
from gateway.web.openapi import operation, or_empty, problem_response

_TEXT = {"type": "string"}
_FINDING = {
    "type": "object",
    "required": ["kind", "commune", "finding", "title", "description", "count", "first", "last", "entries", "marks"],
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "commune": {"type": ["string", "null"]},
        "finding": {**_TEXT, "description": "the finding's key, stable within its week and commune"},
        "title": _TEXT,
        "description": _TEXT,
        "actor": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"], "description": "a person's pseudonym"},
        "count": {"type": "integer", "minimum": 1},
        "first": _TEXT,
        "last": _TEXT,
        "entries": {"type": "array", "items": {"type": "integer"}, "description": "the entries' positions (seq)"},
        "marks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["note", "reviewed_by", "reviewed_at"],
                "properties": {"note": _TEXT, "reviewed_by": _TEXT, "reviewed_at": _TEXT},
            },
        },
    },
}
REVIEW_SCHEMA = {
    "type": "object",
    "required": ["week", "communes", "findings"],
    "properties": {
        "week": {**_TEXT, "description": "the ISO week reviewed, e.g. 2026-W48 (Monday to Sunday, Europe/Paris)"},
        "communes": {"type": ["array", "null"], "items": _TEXT, "description": "null: the whole syndicate"},
        "findings": {"type": "array", "items": _FINDING},
    },
}


def _finding(review: Review, finding: Finding, locale: str) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "commune": finding.commune,
        "finding": finding.key,
        "title": title(finding, locale),
        "description": sentence(finding, locale),
        "actor": finding.actor,
        "subject": finding.subject,
        "count": finding.count,
        "first": format_time(finding.first),
        "last": format_time(finding.last),
        "entries": list(finding.seqs),
        "marks": [
            {"note": mark.note, "reviewed_by": mark.reviewed_by, "reviewed_at": format_time(mark.reviewed_at)}
            for mark in review.marks_of(finding)
        ],
    }


@operation(
    summary="The weekly review of the audit log (auditors)",
    operationId="getAuditReview",
    parameters=[
        {
            "name": "week",
            "in": "query",
            "required": False,
            "schema": or_empty({"type": "string", "pattern": r"^\d{4}-W\d{2}$"}),
        },
        {"name": "commune", "in": "query", "required": False, "schema": or_empty({"type": "string", "maxLength": 60})},
    ],
    security=[{"bearer": []}, {"cookie": []}],
    responses={
        "200": {
            "description": "What deserves a look that week, each finding with its entries and marks.",
            "content": {"application/json": {"schema": REVIEW_SCHEMA}},
        },
        "400": problem_response("A parameter is unknown or malformed."),
        "401": problem_response("No valid API token or session."),
        "403": problem_response("Not an auditor, or outside the auditor's communes."),
    },
)
async def api_review(request: Request) -> Response:
    principal, scope = await auditor(request)
    ask = await review_ask(request, principal, scope, dict(request.query_params))
    review = await load_review(request, principal, ask, "audit.review")
    locale = choose_locale(request)
    return JSONResponse(
        {
            "week": review.week.label,
            "communes": None if review.communes is None else sorted(review.communes),
            "findings": [_finding(review, finding, locale) for finding in review.findings],
        }
    )


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/audit/review", api_review, name="api_audit_review")]
