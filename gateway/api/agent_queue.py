"""The agents' queue as JSON (``/api/v1/communes/{commune}/requests``): filters, paging, CSV export, bulk transitions.

Every query parameter is checked: an unknown, repeated or malformed one is a
400 problem naming it, never a silently wider list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.agents import AGENT, GRANTED, NO_COMMUNE, _acting_agent, _agent, _staff
from gateway.api.request_input import JSON_BODY_ERRORS, ShapeError, answers_shape_errors, at_most, read_body
from gateway.api.request_json import PREFIX, iso_time, status_label, workflow_of
from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.requests.backoffice.queries import QueueFilter, QueuePage
from gateway.requests.text import TEXT_MAX
from gateway.services import Localized
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of
from gateway.web.numbers import integer_in
from gateway.web.openapi import json_body, json_response, operation, or_empty, problem_response

QUERY_ERRORS = Localized("Paramètres de recherche incorrects.", "Incorrect query parameters.")
UNKNOWN_PARAMETER = Localized("Ce paramètre n'existe pas.", "This parameter does not exist.")
REPEATED_PARAMETER = Localized("Ce paramètre est donné plusieurs fois.", "This parameter is given more than once.")


def _between(low: int, high: int) -> Localized:
    return Localized(f"Un nombre entier de {low} à {high}.", f"An integer from {low} to {high}.")


def _one_of(values: Sequence[str]) -> Localized:
    listed = ", ".join(values)
    return Localized(f"Valeurs possibles : {listed}.", f"Possible values: {listed}.")


# --- the queue's query string ----------------------------------------------------------------------------------------

QUEUE_PARAMETERS = ("service", "status", "assigned", "awaiting", "q", "older_than_days", "page", "per_page")
Q_MAX = 100


def _integer(params: Mapping[str, str], name: str, low: int, high: int, errors: list[tuple[str, Localized]]) -> int:
    value = integer_in(params[name], low, high)
    if value is None:
        errors.append((name, _between(low, high)))
        return low
    return value


def _queue_filter(request: Request, commune: Commune, *, paged: bool) -> QueueFilter:
    """The queue's filter from the query string, every parameter checked (400 naming the ones at fault)."""
    allowed = QUEUE_PARAMETERS if paged else QUEUE_PARAMETERS[:-2]
    query = request.query_params
    errors: list[tuple[str, Localized]] = [(name, UNKNOWN_PARAMETER) for name in query if name not in allowed]
    errors += [(name, REPEATED_PARAMETER) for name in dict.fromkeys(query) if len(query.getlist(name)) > 1]
    params = {name: value for name, value in query.items() if name in allowed}
    service = params.get("service") or None
    if service is not None and not commune.enables(service):
        errors.append(("service", _one_of(list(commune.services))))
    status: str | None = params.get("status") or "open"
    states = ["open", "decided", "all", *_states(request, commune)]
    if status not in states:
        errors.append(("status", _one_of(states)))
    elif status == "all":
        status = None
    assigned = params.get("assigned") or None
    if assigned not in (None, "me", "none"):
        errors.append(("assigned", _one_of(["me", "none"])))
    awaiting: bool | None = None
    if params.get("awaiting"):
        if params["awaiting"] not in ("true", "false"):
            errors.append(("awaiting", _one_of(["true", "false"])))
        awaiting = params["awaiting"] == "true"
    q = params.get("q") or None
    if q is not None and len(q) > Q_MAX:
        errors.append(("q", at_most(Q_MAX)))
    older = _integer(params, "older_than_days", 1, 3650, errors) if params.get("older_than_days") else None
    page = _integer(params, "page", 1, 100_000, errors) if "page" in params else 1
    per_page = _integer(params, "per_page", 1, 200, errors) if "per_page" in params else 50
    if errors:
        raise ShapeError(400, QUERY_ERRORS, errors, "urn:guichet:problem:bad-query-parameter")
    return QueueFilter(
        service=service,
        status=status,
        assigned=assigned,
        awaiting=awaiting,
        q=q,
        older_than_days=older,
        page=page,
        per_page=per_page,
    )


def _states(request: Request, commune: Commune) -> list[str]:
    names: dict[str, None] = {}
    for key in commune.services:
        for workflow in (workflow_of(request, key), workflow_of(request, key, linked=True)):
            if workflow is not None:
                names.update(dict.fromkeys(state.name for state in workflow.states))
    names["withdrawn"] = None
    return list(names)


def _queue_item(request: Request, page: QueuePage, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": status_label(workflow_of(request, row.service, linked=row.is_linked_copy), row.status),
        "summary": row.summary,
        "submitted_at": iso_time(row.submitted_at),
        "decided_at": iso_time(row.decided_at),
        "assigned_to": _staff(page.staff_names, row.assigned_to),
        "awaiting_citizen": row.awaiting_citizen,
    }


BAD_QUERY = problem_response("A query parameter is unknown, repeated or malformed; `errors` names them.")
QUEUE_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": or_empty(schema), "description": description}
    for name, schema, description in (
        ("service", {"type": "string"}, "one service of the commune (default: every service you are granted)"),
        ("status", {"type": "string"}, "`open` (default), `decided`, `all`, or one state of the workflow"),
        ("assigned", {"type": "string", "enum": ["me", "none"]}, "assigned to you, or to nobody"),
        ("awaiting", {"type": "string", "enum": ["true", "false"]}, "waiting for the citizen's answer or not"),
        ("q", {"type": "string", "maxLength": Q_MAX}, "part of the reference or summary"),
        ("older_than_days", {"type": "integer", "minimum": 1, "maximum": 3650}, "submitted more than N days ago"),
    )
]
PAGING = [
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
]


@operation(
    summary="A commune's queue of requests",
    operationId="listQueue",
    description="Requests of the services you are granted, oldest first, without their form content.",
    **AGENT,
    parameters=[*QUEUE_QUERY, *PAGING],
    responses={
        "200": json_response("One page of the queue.", "QueuePage"),
        "400": BAD_QUERY,
        **GRANTED,
        "404": NO_COMMUNE,
    },
)
@answers_shape_errors
async def list_queue(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    wanted = _queue_filter(request, commune, paged=True)
    page = await database_of(request).run(lambda: back_office.queue(caller, commune.slug, wanted))
    return JSONResponse(
        {
            "items": [_queue_item(request, page, row) for row in page.rows],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "services": list(page.services),
        }
    )


@operation(
    summary="A commune's queue as CSV",
    operationId="exportQueue",
    description="The first 200 requests matching the filter, without form content. The export is audited.",
    **AGENT,
    parameters=QUEUE_QUERY,
    responses={
        "200": {"description": "The queue as CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}},
        "400": BAD_QUERY,
        **GRANTED,
        "404": NO_COMMUNE,
    },
)
@answers_shape_errors
async def export_queue(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    wanted = _queue_filter(request, commune, paged=False)
    text = await database_of(request).run(lambda: back_office.export_csv(caller, commune.slug, wanted))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{commune.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )


@operation(
    summary="The same transition on several requests",
    operationId="bulkTransition",
    description="Each request is changed on its own: one refusal stops only itself, and `results` says which.",
    **AGENT,
    requestBody=json_body("BulkTransitionBody"),
    responses={
        "200": json_response("The outcome for each reference, in the order sent.", "BulkResults"),
        **JSON_BODY_ERRORS,
        **GRANTED,
        "404": NO_COMMUNE,
    },
)
@answers_shape_errors
async def bulk_transition(request: Request) -> Response:
    caller, commune, back_office = await _acting_agent(request)
    body = await read_body(request, "references", "transition", "comment", "reason")
    references, name = body.references(), body.text("transition", required=True)
    comment, reason = body.text("comment", max_length=TEXT_MAX), body.text("reason")
    body.check()
    outcomes = await database_of(request).run(
        lambda: back_office.bulk_transition(caller, commune.slug, references, name, comment=comment, reason=reason),
    )
    locale = choose_locale(request)
    return JSONResponse(
        {
            "results": [
                {
                    "reference": outcome.reference,
                    "done": outcome.done,
                    "detail": outcome.reason(locale) if outcome.reason is not None else None,
                }
                for outcome in outcomes
            ]
        }
    )


def routes() -> list[BaseRoute]:
    communes = f"{PREFIX}/communes/{{commune}}"
    return [
        Route(f"{communes}/requests", list_queue, methods=["GET"], name="api_queue"),
        Route(f"{communes}/requests.csv", export_queue, methods=["GET"], name="api_queue_csv"),
        Route(f"{communes}/requests/bulk-transitions", bulk_transition, methods=["POST"], name="api_bulk_transition"),
    ]
