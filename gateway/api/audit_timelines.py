"""The auditor's timelines as JSON: one request's entries, and one person's, oldest first.

Registered by the default plugin :mod:`gateway.builtin.audit_console`, beside
the pages of :mod:`gateway.pages.audit_timeline_pages`; what is found, and
the record of each reading, come from the same functions.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.audit_log import AUDIT_PARAMETERS
from gateway.audit.search import as_dict
from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.services import Localized
from gateway.web.audit_log_reading import audit_query, auditor, person_kinds, run_search
from gateway.web.audit_timelines import request_timeline
from gateway.web.errors import PageError
from gateway.web.openapi import json_response, operation, or_empty, problem_response

_PURPOSE = {"name": "purpose", "in": "query", "required": False,
            "schema": or_empty({"type": "string", "enum": list(AUDIT_PURPOSES)})}  # fmt: skip
_CREDENTIALS = {
    "401": problem_response("No valid API token or session."),
}


@operation(
    summary="Every audit entry about one request, and its linked request, oldest first (auditors)",
    operationId="getAuditRequestTimeline",
    parameters=[_PURPOSE],
    security=[{"bearer": []}, {"cookie": []}],
    responses={
        "200": json_response(
            "The request (and its linked request, when the auditor may read its commune) and every entry about them.",
            "AuditRequestTimeline",
        ),
        "400": problem_response("An unknown parameter, or a purpose not in the list."),
        **_CREDENTIALS,
        "403": problem_response("Not an auditor, or not one of this commune."),
        "404": problem_response("No request has this reference in this commune."),
    },
)
async def api_request_timeline(request: Request) -> Response:
    principal, scope = await auditor(request)
    timeline = await request_timeline(request, principal, scope)
    return JSONResponse({
        "requests": [{"commune": side.commune, "reference": side.reference, "linked": side.linked}
                     for side in timeline.sides],
        "entries": [as_dict(entry) for entry in timeline.entries],
        "truncated": timeline.truncated,
    })  # fmt: skip


#: the search's filters; the person and the purpose are required here
_PERSON_PARAMETERS = [
    {**parameter, "required": True, "schema": {**parameter["schema"]["anyOf"][0], "minLength": 1}}
    if parameter["name"] in ("citizen", "purpose") else parameter
    for parameter in AUDIT_PARAMETERS if parameter["name"] not in ("format", "order", "before")
]  # fmt: skip


@operation(
    summary="Every audit entry about one person, found from one of their identifiers, oldest first (auditors)",
    description="The identifier (`citizen`: an e-mail address, an identity provider's subject, `citizen:<id>` or a "
    "pseudonym) is resolved to all the person's pseudonyms; the resolution is recorded with the `purpose`. "
    "A commune auditor is told only the pseudonyms their commune's entries are under.",
    operationId="getAuditPersonTimeline",
    parameters=_PERSON_PARAMETERS,
    security=[{"bearer": []}, {"cookie": []}],
    responses={
        "200": json_response("The person's pseudonyms and the entries about them.", "AuditPersonTimeline"),
        "400": problem_response("A parameter is missing, unknown or malformed."),
        **_CREDENTIALS,
        "403": problem_response("Not an auditor, or outside the auditor's communes."),
    },
)
async def api_person_timeline(request: Request) -> Response:
    principal, scope = await auditor(request)
    params = dict(request.query_params)
    for name in ("order", "format"):  # a timeline runs oldest first, in JSON
        if name in params:
            raise PageError(400, Localized(f"{name} : paramètre inconnu", f"{name}: unknown parameter"))
    if not params.get("citizen"):
        raise PageError(400, Localized("citizen : l'identifiant de la personne est requis",
                                       "citizen: the person's identifier is required"))  # fmt: skip
    query = audit_query({**params, "order": "oldest"})
    found = await run_search(request, "audit.search", query, principal, scope)
    body: dict[str, Any] = {
        "pseudonyms": [{"pseudonym": value, "kind": kind} for value, kind in person_kinds(found, scope).items()],
        "entries": [as_dict(entry) for entry in found.entries],
    }
    return JSONResponse(body)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/audit/people", api_person_timeline, name="api_audit_person"),
        Route("/api/v1/audit/requests/{commune}/{reference}", api_request_timeline, name="api_audit_request"),
    ]
