"""JSON API v1 for one request's file (``/api/v1/communes/{commune}/requests/{reference}``): read, act, download.

Each action sends back the ``version`` the agent saw; a change made since is
a 409 and nothing is written. See :mod:`gateway.api.agents` for who may call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.agents import AGENT, GRANTED, NO_REQUEST, NO_STAFF, READ_ONLY, _acting_agent, _agent, _staff
from gateway.api.request_input import JSON_BODY_ERRORS, Body, answers_shape_errors, read_body
from gateway.api.request_json import (
    PREFIX,
    attachment_json,
    both,
    event_change,
    iso_time,
    status_label,
    workflow_of,
)
from gateway.models import RequestEvent, ServiceRequest
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import AgentCase
from gateway.requests.caller import Caller
from gateway.requests.text import TEXT_MAX
from gateway.services import Transition
from gateway.web.downloads import download_response
from gateway.web.lookups import database_of
from gateway.web.openapi import UNREADABLE, file_response, json_body, json_response, operation, problem_response


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
        "family": [{"reference": other.reference, "status": other.status} for other in case.family],
    }


def _state(request: Request, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": status_label(workflow_of(request, row.service, linked=row.is_linked_copy), row.status),
        "version": row.version,
        "awaiting_citizen": row.awaiting_citizen,
        "assigned_to": row.assigned_to,
        "decided_at": iso_time(row.decided_at),
    }


STALE = problem_response(
    "`urn:guichet:problem:stale-request`: someone changed the request since `version`; nothing was written. "
    "`urn:guichet:problem:action-not-allowed`: the request's state does not allow this."
)
CONCURRENT = problem_response("Someone changed the request at the same moment; nothing was written.")
#: what an action on one request answers besides its success and conflicts
CASE_ACTION = {**JSON_BODY_ERRORS, "401": NO_STAFF, "403": READ_ONLY, "404": NO_REQUEST}


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
    case = await database_of(request).run(lambda: back_office.case(caller, commune.slug, reference))
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
    name, reason = body.text("transition", required=True), body.text("reason")
    comment = body.text("comment", max_length=TEXT_MAX)
    version = body.version()
    body.check()
    row = await database_of(request).run(
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
    row = await database_of(request).run(
        lambda: back_office.assign(caller, commune, reference, staff_id, expected_version=version)
    )
    return JSONResponse(_state(request, row))


#: :meth:`BackOfficeCommands.note` or :meth:`BackOfficeCommands.message`: a text written on the request
Writing = Callable[[BackOfficeCommands, Caller, str, str, object], ServiceRequest]


async def _write(request: Request, write: Writing) -> Response:
    caller, commune, reference, back_office, body = await _case(request, "body")
    text = body.text("body", required=True)
    body.check()
    row = await database_of(request).run(lambda: write(back_office, caller, commune, reference, text))
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
    row = await database_of(request).run(
        lambda: back_office.ask_citizen(caller, commune, reference, text, expected_version=version)
    )
    return JSONResponse(_state(request, row))


@operation(
    summary="Download an attachment of a request",
    operationId="downloadCaseAttachment",
    description="Each download is audited.",
    **AGENT,
    responses={
        "200": file_response("The file, as a download.", "application/octet-stream"),
        **GRANTED,
        "404": problem_response("No such request or attachment in this commune."),
        "503": UNREADABLE,
    },
)
async def download_case_attachment(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    reference, attachment_id = request.path_params["reference"], request.path_params["attachment_id"]
    attachment, data = await database_of(request).run(
        lambda: back_office.download(caller, commune.slug, reference, attachment_id)
    )
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
        "503": UNREADABLE,
    },
)
async def download_case_archive(request: Request) -> Response:
    caller, commune, back_office = await _agent(request)
    reference = request.path_params["reference"]
    filename, data = await database_of(request).run(lambda: back_office.archive(caller, commune.slug, reference))
    return download_response(data, "application/zip", filename)


def routes() -> list[BaseRoute]:
    communes = f"{PREFIX}/communes/{{commune}}"
    case = f"{communes}/requests/{{reference}}"
    return [
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
    ]
