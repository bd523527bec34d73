"""JSON API v1 for the agents' casework (``/api/v1/communes/{commune}/requests``): queue, files, actions, downloads.

Every route goes through the back office (:mod:`gateway.requests.backoffice`),
which checks grants and records the audit trail; this module only reads the
HTTP request and writes JSON. Agents use their session (both factors) or a
personal API token; citizens are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.openapi import IDEMPOTENCY_KEY, file_response, json_body, json_response, operation, problem_response
from gateway.api.request_input import (
    JSON_BODY_ERRORS,
    Body,
    ShapeError,
    answers_shape_errors,
    at_most,
    form_problem,
    read_body,
    submission_key,
)
from gateway.api.request_json import (
    PREFIX,
    attachment_json,
    both,
    event_change,
    iso_time,
    run,
    status_label,
    workflow_of,
)
from gateway.communes import Commune
from gateway.identity.access import refuse_citizens, require_staff_session
from gateway.models import RequestEvent, ServiceRequest
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import AgentCase, BackOfficeQueries, QueueFilter, QueuePage
from gateway.requests.caller import Caller
from gateway.requests.rules import rules_for
from gateway.services import Localized, Transition
from gateway.web.callers import caller_of
from gateway.web.downloads import download_response
from gateway.web.i18n import choose_locale
from gateway.web.lookups import commune_or_404, enabled_service_or_404, registry_of

QUERY_ERRORS = Localized("Paramètres de recherche incorrects.", "Incorrect query parameters.")
UNKNOWN_PARAMETER = Localized("Ce paramètre n'existe pas.", "This parameter does not exist.")
REPEATED_PARAMETER = Localized("Ce paramètre est donné plusieurs fois.", "This parameter is given more than once.")


def _between(low: int, high: int) -> Localized:
    return Localized(f"Un nombre entier de {low} à {high}.", f"An integer from {low} to {high}.")


def _one_of(values: Sequence[str]) -> Localized:
    listed = ", ".join(values)
    return Localized(f"Valeurs possibles : {listed}.", f"Possible values: {listed}.")


async def _agent(request: Request) -> tuple[Caller, Commune, BackOfficeQueries]:
    """A staff member (session with both factors, or API token), the commune named in the path, and what they read.

    Citizens are refused (403, recorded); grants are checked by the service layer.
    """
    caller, commune = await _signed_in_staff(request)
    return caller, commune, BackOfficeQueries(request.app.state.db, registry_of(request))


async def _acting_agent(request: Request) -> tuple[Caller, Commune, BackOfficeCommands]:
    """As :func:`_agent`, with what they change."""
    caller, commune = await _signed_in_staff(request)
    return caller, commune, BackOfficeCommands(request.app.state.db, registry_of(request))


async def _signed_in_staff(request: Request) -> tuple[Caller, Commune]:
    commune = commune_or_404(request)
    await refuse_citizens(request, "agent", commune=commune.slug)
    require_staff_session(request)
    return await caller_of(request), commune


# --- the queue's query string ----------------------------------------------------------------------------------------

QUEUE_PARAMETERS = ("service", "status", "assigned", "awaiting", "q", "older_than_days", "page", "per_page")
_INTEGER = re.compile(r"[0-9]{1,7}")
Q_MAX = 100


def _integer(params: Mapping[str, str], name: str, low: int, high: int, errors: list[tuple[str, Localized]]) -> int:
    value = params[name]
    if not _INTEGER.fullmatch(value) or not low <= int(value) <= high:
        errors.append((name, _between(low, high)))
        return low
    return int(value)


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
        workflow = workflow_of(request, key)
        if workflow is not None:
            names.update(dict.fromkeys(state.name for state in workflow.states))
    names["withdrawn"] = None
    return list(names)


# --- JSON ------------------------------------------------------------------------------------------------------------


def _staff(names: Mapping[int, str], staff_id: int | None) -> dict[str, Any] | None:
    return {"id": staff_id, "name": names.get(staff_id, "")} if staff_id else None


def _queue_item(request: Request, page: QueuePage, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": status_label(workflow_of(request, row.service), row.status),
        "summary": row.summary,
        "submitted_at": iso_time(row.submitted_at),
        "decided_at": iso_time(row.decided_at),
        "assigned_to": _staff(page.staff_names, row.assigned_to),
        "awaiting_citizen": row.awaiting_citizen,
    }


def _transition(transition: Transition) -> dict[str, Any]:
    return {
        "name": transition.name,
        "label": both(transition.label),
        "target": transition.target,
        "comment_required": transition.comment_required,
        "reasons": [{"value": choice.value, "label": both(choice.label)} for choice in transition.reasons],
    }


def _event(case: AgentCase, event: RequestEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": iso_time(event.at),
        "actor_role": event.actor_role,
        "agent": _staff(case.staff_names, event.staff_id),
        "internal": event.internal,
        **event_change(event, case.rules.definition.workflow),
    }


def _detail(case: AgentCase) -> dict[str, Any]:
    row, definition = case.request, case.rules.definition
    return {
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "title": both(definition.title),
        "status": row.status,
        "status_label": status_label(definition.workflow, row.status),
        "decided": definition.workflow.is_decided(row.status),
        "summary": row.summary,
        "data": dict(row.data),
        "form_version": row.form_version,
        "version": row.version,
        "submitted_at": iso_time(row.submitted_at),
        "decided_at": iso_time(row.decided_at),
        "purge_after": iso_time(row.purge_after),
        "awaiting_citizen": row.awaiting_citizen,
        "assigned_to": _staff(case.staff_names, row.assigned_to),
        "filed_by": _staff(case.staff_names, row.filed_by_staff_id),
        "can_act": case.can_act,
        "transitions": [_transition(transition) for transition in case.transitions],
        "assignees": [{"id": staff_id, "name": name} for staff_id, name in case.assignees],
        "history": [_event(case, event) for event in case.events],
        "attachments": [attachment_json(attachment) for attachment in case.attachments],
    }


def _state(request: Request, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": status_label(workflow_of(request, row.service), row.status),
        "version": row.version,
        "awaiting_citizen": row.awaiting_citizen,
        "assigned_to": row.assigned_to,
        "decided_at": iso_time(row.decided_at),
    }


# --- endpoints -------------------------------------------------------------------------------------------------------

AGENT = {"security": [{"bearer": []}, {"cookie": []}], "tags": ["casework"]}
NO_STAFF = problem_response("No valid API token or staff session.")
NO_GRANT = problem_response("A citizen, or no grant for this commune or service (the refusal is audited).")
READ_ONLY = problem_response("No grant, or a read-only grant for an action (the refusal is audited).")
NO_REQUEST = problem_response("No such commune, or no such submitted request in this commune.")
NO_COMMUNE = problem_response("No such commune.")
BAD_QUERY = problem_response("A query parameter is unknown, repeated or malformed; `errors` names them.")
STALE = problem_response(
    "`urn:guichet:problem:stale-request`: someone changed the request since `version`; nothing was written. "
    "`urn:guichet:problem:action-not-allowed`: the request's state does not allow this."
)
CONCURRENT = problem_response("Someone changed the request at the same moment; nothing was written.")
#: the refusals of a read, or of an action checked request by request, after the success
GRANTED = {"401": NO_STAFF, "403": NO_GRANT}
#: what an action on one request answers besides its success and conflicts
CASE_ACTION = {**JSON_BODY_ERRORS, "401": NO_STAFF, "403": READ_ONLY, "404": NO_REQUEST}
QUEUE_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
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
    page = await run(request, lambda: back_office.queue(caller, commune.slug, wanted))
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
    text = await run(request, lambda: back_office.export_csv(caller, commune.slug, wanted))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{commune.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )


@operation(
    summary="A request's file",
    operationId="getCase",
    description="Everything about the request, internal notes included. Each view is audited with the purpose.",
    **AGENT,
    responses={
        "200": json_response("The request's file.", "Case"),
        **GRANTED,
        "404": NO_REQUEST,
    },
)
async def get_case(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    reference = request.path_params["reference"]
    case = await run(request, lambda: back_office.case(caller, commune.slug, reference))
    return JSONResponse(_detail(case))


async def _case(request: Request, *fields: str) -> tuple[Caller, str, str, BackOfficeCommands, Body]:
    """Who acts, on which commune and request (from the path), and the body holding ``fields``."""
    caller, commune, back_office = await _acting_agent(request)
    body = await read_body(request, *fields)
    return caller, commune.slug, request.path_params["reference"], back_office, body


def _changed(status: str, conflict: dict[str, Any]) -> dict[str, Any]:
    """The responses of an action on one request that answers the request's new state."""
    return {status: json_response("The request's new state.", "CaseState"), **CASE_ACTION, "409": conflict}


@operation(
    summary="Take a workflow transition",
    operationId="transitionCase",
    **AGENT,
    requestBody=json_body("TransitionBody"),
    responses={
        **_changed("200", STALE),
        "422": problem_response("A body field is wrong (`errors`), or the comment or reason the transition needs."),
        "503": problem_response("The service is temporarily unavailable; nothing was written."),
    },
)
@answers_shape_errors
async def transition_case(request: Request) -> Response:
    caller, commune, reference, back_office, body = await _case(request, "transition", "comment", "reason", "version")
    name, comment, reason = body.text("transition", required=True), body.text("comment"), body.text("reason")
    version = body.version()
    body.check()
    row = await run(
        request,
        lambda: back_office.transition(
            caller, commune, reference, name, expected_version=version, comment=comment, reason=reason
        ),
    )
    return JSONResponse(_state(request, row))


@operation(
    summary="Assign a request to an agent, or to nobody",
    operationId="assignCase",
    **AGENT,
    requestBody=json_body("AssignmentBody"),
    responses={
        **_changed("200", STALE),
        "422": problem_response("A body field is wrong, or the person does not process this service here."),
    },
)
@answers_shape_errors
async def assign_case(request: Request) -> Response:
    caller, commune, reference, back_office, body = await _case(request, "staff_id", "version")
    staff_id, version = body.staff_id(), body.version()
    body.check()
    row = await run(request, lambda: back_office.assign(caller, commune, reference, staff_id, expected_version=version))
    return JSONResponse(_state(request, row))


#: :meth:`BackOfficeCommands.note` or :meth:`BackOfficeCommands.message`: a text written on the request
Writing = Callable[[BackOfficeCommands, Caller, str, str, object], ServiceRequest]


async def _write(request: Request, write: Writing) -> Response:
    caller, commune, reference, back_office, body = await _case(request, "body")
    text = body.text("body", required=True)
    body.check()
    row = await run(request, lambda: write(back_office, caller, commune, reference, text))
    return JSONResponse(_state(request, row), status_code=201)


@operation(
    summary="Add an internal note",
    operationId="addNote",
    description="Agents only: never shown to the citizen.",
    **AGENT,
    requestBody=json_body("MessageBody"),
    responses=_changed("201", CONCURRENT),
)
@answers_shape_errors
async def add_note(request: Request) -> Response:
    return await _write(request, BackOfficeCommands.note)


@operation(
    summary="Write to the citizen",
    operationId="messageCitizen",
    description="The citizen reads it on their request and is told by e-mail that there is a message.",
    **AGENT,
    requestBody=json_body("MessageBody"),
    responses=_changed("201", CONCURRENT),
)
@answers_shape_errors
async def message_citizen(request: Request) -> Response:
    return await _write(request, BackOfficeCommands.message)


@operation(
    summary="Ask the citizen for a correction or a document",
    operationId="askComplement",
    description="The request then waits for the citizen (`awaiting_citizen`); they are told by e-mail.",
    **AGENT,
    requestBody=json_body("ComplementBody"),
    responses=_changed("200", STALE),
)
@answers_shape_errors
async def ask_complement(request: Request) -> Response:
    caller, commune, reference, back_office, body = await _case(request, "body", "version")
    text, version = body.text("body", required=True), body.version()
    body.check()
    row = await run(
        request, lambda: back_office.ask_citizen(caller, commune, reference, text, expected_version=version)
    )
    return JSONResponse(_state(request, row))


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
    comment, reason = body.text("comment"), body.text("reason")
    body.check()
    outcomes = await run(
        request,
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


@operation(
    summary="Download an attachment of a request",
    operationId="downloadCaseAttachment",
    description="Each download is audited.",
    **AGENT,
    responses={
        "200": file_response("The file, as a download.", "application/octet-stream"),
        **GRANTED,
        "404": problem_response("No such request or attachment in this commune."),
    },
)
async def download_case_attachment(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    reference, attachment_id = request.path_params["reference"], request.path_params["attachment_id"]
    attachment, data = await run(request, lambda: back_office.download(caller, commune.slug, reference, attachment_id))
    return download_response(data, attachment.content_type, attachment.filename)


@operation(
    summary="Every attachment of a request, as one ZIP file",
    operationId="downloadCaseArchive",
    description="The download is audited.",
    **AGENT,
    responses={
        "200": file_response("A ZIP archive.", "application/zip"),
        **GRANTED,
        "404": NO_REQUEST,
    },
)
async def download_case_archive(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    reference = request.path_params["reference"]
    filename, data = await run(request, lambda: back_office.archive(caller, commune.slug, reference))
    return download_response(data, "application/zip", filename)


@operation(
    summary="File a request for a citizen (assisted filing)",
    operationId="fileAssistedRequest",
    description=(
        "For an agent filing at the counter for a citizen who cannot do it alone; recorded as such. "
        "`citizen_email` receives the receipt. Send an `Idempotency-Key` header to make retries safe."
    ),
    **AGENT,
    parameters=[IDEMPOTENCY_KEY],
    requestBody=json_body("AssistedRequest"),
    responses={
        "201": json_response("The request was filed.", "RequestReceipt"),
        "200": json_response("The same Idempotency-Key was already used: the request filed then.", "RequestReceipt"),
        **JSON_BODY_ERRORS,
        "400": problem_response("The body is not a JSON object, or the Idempotency-Key is too long."),
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": problem_response("No such commune, or the commune does not offer this service."),
        "409": problem_response("The Idempotency-Key was already used for another service."),
        "422": problem_response("The form has errors; `errors` lists them field by field."),
        "503": problem_response("The service is temporarily unavailable; nothing was stored."),
    },
)
@answers_shape_errors
async def file_assisted_request(request: Request) -> Response:
    caller, commune, back_office = await _acting_agent(request)
    key = enabled_service_or_404(request, commune)
    body = await read_body(request, "data", "citizen_email")
    data, email = body.mapping("data"), body.text("citizen_email", max_length=254)
    body.check()
    filing_key = submission_key(request)
    rules = rules_for(registry_of(request), commune, key)
    filed = await run(
        request,
        lambda: back_office.file_for_citizen(
            caller, rules, data, submission_key=filing_key, citizen_email=email or None
        ),
    )
    if filed.errors:
        return form_problem(request, filed.errors)
    row = filed.request
    assert row is not None
    receipt = {
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "status": row.status,
        "created_at": iso_time(row.created_at),
    }
    return JSONResponse(receipt, status_code=200 if filed.replayed else 201)


def routes() -> list[BaseRoute]:
    communes = f"{PREFIX}/communes/{{commune}}"
    case = f"{communes}/requests/{{reference}}"
    return [
        Route(f"{communes}/requests", list_queue, methods=["GET"], name="api_queue"),
        Route(f"{communes}/requests.csv", export_queue, methods=["GET"], name="api_queue_csv"),
        Route(f"{communes}/requests/bulk-transitions", bulk_transition, methods=["POST"], name="api_bulk_transition"),
        Route(case, get_case, methods=["GET"], name="api_case"),
        Route(f"{case}/transitions", transition_case, methods=["POST"], name="api_case_transition"),
        Route(f"{case}/assignment", assign_case, methods=["POST"], name="api_case_assignment"),
        Route(f"{case}/notes", add_note, methods=["POST"], name="api_case_note"),
        Route(f"{case}/messages", message_citizen, methods=["POST"], name="api_case_message"),
        Route(f"{case}/complement", ask_complement, methods=["POST"], name="api_case_complement"),
        Route(f"{case}/attachments.zip", download_case_archive, methods=["GET"], name="api_case_archive"),
        Route(
            f"{case}/attachments/{{attachment_id}}",
            download_case_attachment,
            methods=["GET"],
            name="api_case_attachment",
        ),
        Route(
            f"{communes}/services/{{service}}/assisted-requests",
            file_assisted_request,
            methods=["POST"],
            name="api_assisted_request",
        ),
    ]
