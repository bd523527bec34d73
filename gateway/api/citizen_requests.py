"""JSON API v1 for the citizen's own requests (``/api/v1/me/requests``): drafts, submission, messages, documents.

Every route goes through :class:`~gateway.requests.lifecycle.CitizenRequests`,
which checks ownership and records the audit trail; this module only reads
the HTTP request and writes JSON. Citizens use their session cookie, with the
``x-csrftoken`` header on changes; staff accounts are refused.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.request_input import (
    JSON_BODY_ERRORS,
    answers_shape_errors,
    body_error,
    field_errors,
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
    status_label,
    workflow_of,
)
from gateway.identity.access import principal_of, require_citizen
from gateway.models import RequestEvent, ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.lifecycle import EXTRA_DOCUMENT, CitizenCase, CitizenRequests
from gateway.requests.text import REQUIRED, answers_of
from gateway.services import DocumentSpec, FieldError, Localized
from gateway.web.callers import caller_of
from gateway.web.downloads import download_response
from gateway.web.errors import PageError
from gateway.web.lookups import database_of, registry_of
from gateway.web.openapi import (
    IDEMPOTENCY_KEY,
    UNREADABLE,
    file_response,
    json_body,
    json_response,
    operation,
    problem_response,
)

FOR_CITIZENS = Localized(
    "Ces adresses servent aux habitants connectés à leur compte, pas aux comptes des agents.",
    "These endpoints are for signed-in residents, not for staff accounts.",
)
NOT_MULTIPART = Localized(
    "Envoyez le fichier au format multipart/form-data, avec les champs « document » et « file ».",
    "Send the file as multipart/form-data, with the fields 'document' and 'file'.",
)
NO_SUCH_COMMUNE = Localized("Aucune commune du syndicat ne porte ce nom.", "No commune of the syndicate has this name.")
NOT_OFFERED = Localized(
    "Cette commune ne propose pas cette démarche en ligne.", "This commune does not offer this service online."
)
NO_FILE = Localized("Joignez un fichier dans le champ « file ».", "Attach a file in the 'file' field.")


async def _citizen(request: Request) -> tuple[Caller, CitizenRequests]:
    """The signed-in citizen (401 without a session; a staff account is refused with 403) and their requests."""
    principal = principal_of(request)
    if principal is not None and principal.kind == "staff":
        raise PageError(403, FOR_CITIZENS)
    require_citizen(request)
    return await caller_of(request), CitizenRequests(request.app.state.db, registry_of(request))


def _summary(request: Request, row: ServiceRequest) -> dict[str, Any]:
    return {
        "public_id": row.public_id,
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "status": row.status,
        "status_label": status_label(workflow_of(request, row.service), row.status),
        "awaiting_citizen": row.awaiting_citizen,
        "created_at": iso_time(row.created_at),
        "submitted_at": iso_time(row.submitted_at),
        "decided_at": iso_time(row.decided_at),
        "purge_after": iso_time(row.purge_after),
    }


def _document(spec: DocumentSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "label": both(spec.label),
        "help": both(spec.help),
        "required": spec.required,
        "accept": list(spec.accept),
        "max_bytes": spec.max_bytes,
    }


def _event(case: CitizenCase, event: RequestEvent) -> dict[str, Any]:
    """One line of the history, without what only agents may read (their role, internal notes)."""
    return {
        "kind": event.kind,
        "at": iso_time(event.at),
        "actor": "you" if event.actor_role == "citizen" else "town_hall",
        "agent_name": case.staff_names.get(event.staff_id) if event.staff_id else None,
        **event_change(event, case.rules.definition.workflow),
    }


def _detail(request: Request, case: CitizenCase) -> dict[str, Any]:
    row, definition = case.request, case.rules.definition
    values = answers_of(row.data)
    documents = [spec for spec in definition.documents if spec.applies(values)]
    if not row.is_draft and row.awaiting_citizen:
        documents.append(EXTRA_DOCUMENT)
    return {
        **_summary(request, row),
        "title": both(definition.title),
        "data": dict(row.data),
        "version": row.version,
        "decided": case.decided,
        "history": [_event(case, event) for event in case.events],
        "attachments": [attachment_json(attachment) for attachment in case.attachments],
        "documents": [_document(spec) for spec in documents],
        "family": [
            {"reference": other.reference, "public_id": other.public_id, "status": other.status}
            for other in case.family
        ],
    }


async def _detail_response(
    request: Request, caller: Caller, citizens: CitizenRequests, public_id: str, status_code: int = 200
) -> Response:
    """The request as it now stands, read again after a change so the answer shows its effect."""
    case = await database_of(request).run(lambda: citizens.case(caller, public_id))
    return JSONResponse(_detail(request, case), status_code=status_code)


CITIZEN = {"security": [{"cookie": []}], "tags": ["citizen requests"]}
UNAUTHENTICATED = problem_response("Not signed in as a citizen.")
STAFF_ACCOUNT = problem_response("A staff account or token: these endpoints are for citizens.")
NOT_YOURS = problem_response("No such request among yours (another person's request is not found either).")
CSRF = problem_response("Signed in with a cookie but without the `x-csrftoken` header, or a staff account.")
NO_ATTACHMENT = problem_response("No such attachment on one of your requests.")
#: the refusals a read of my requests may answer, after the success
READING = {"401": UNAUTHENTICATED, "403": STAFF_ACCOUNT}
#: the refusals every change to one of my requests may answer, after the success
CHANGE = {"401": UNAUTHENTICATED, "403": CSRF, "404": NOT_YOURS}


@operation(
    summary="My requests, in every commune",
    operationId="listMyRequests",
    **CITIZEN,
    responses={
        "200": json_response("The signed-in citizen's requests and drafts, newest first.", "CitizenRequestList"),
        **READING,
    },
)
async def list_my_requests(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    rows = await database_of(request).run(lambda: citizens.mine(caller))
    return JSONResponse({"requests": [_summary(request, row) for row in rows]})


@operation(
    summary="Start a draft",
    operationId="createDraft",
    description=(
        "Starts a draft prefilled from the citizen's identity. Send an `Idempotency-Key` header "
        "(at most 64 characters) to make retries safe: the same key answers with the same draft."
    ),
    **CITIZEN,
    parameters=[IDEMPOTENCY_KEY],
    requestBody=json_body("NewDraft"),
    responses={
        "201": json_response("The new draft.", "CitizenRequest"),
        "200": json_response("The same Idempotency-Key was already used: that request.", "CitizenRequest"),
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "409": problem_response("The Idempotency-Key was already used for another service or person."),
        **JSON_BODY_ERRORS,
        "400": problem_response("The body is not a JSON object, or the Idempotency-Key is too long."),
        "503": problem_response("The service is temporarily unavailable; nothing was stored."),
    },
)
@answers_shape_errors
async def create_draft(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    body = await read_body(request, "commune", "service")
    commune_slug, key = body.text("commune", required=True), body.text("service", required=True)
    body.check()
    commune = registry_of(request).commune(commune_slug)
    if commune is None:
        raise body_error([("commune", NO_SUCH_COMMUNE)])
    if not commune.enables(key):
        raise body_error([("service", NOT_OFFERED)])
    draft_key = submission_key(request)

    def start() -> tuple[ServiceRequest, bool]:
        replayed = "idempotency-key" in request.headers and any(
            row.submission_key == draft_key for row in citizens.mine(caller)
        )
        return citizens.start_draft(caller, commune.slug, key, submission_key=draft_key), replayed

    row, replayed = await database_of(request).run(start)
    response = await _detail_response(request, caller, citizens, row.public_id, 200 if replayed else 201)
    response.headers["Location"] = f"{PREFIX}/me/requests/{row.public_id}"
    return response


@operation(
    summary="One of my requests",
    operationId="getMyRequest",
    **CITIZEN,
    responses={
        "200": json_response("The request: form, history, attachments, documents to attach.", "CitizenRequest"),
        **READING,
        "404": NOT_YOURS,
    },
)
async def get_my_request(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    return await _detail_response(request, caller, citizens, request.path_params["public_id"])


async def _sent_data(request: Request) -> dict[str, Any]:
    """The ``data`` object of a body that holds only it: the form fields to change."""
    body = await read_body(request, "data")
    sent = body.mapping("data")
    body.check()
    return sent


@operation(
    summary="Save a draft",
    operationId="saveDraft",
    description=(
        "Fields sent replace those stored; fields not sent keep their value. The draft is saved even with "
        "mistakes: `errors` lists them, as the form would show them."
    ),
    **CITIZEN,
    requestBody=json_body("DraftData"),
    responses={
        "200": json_response("The draft as saved, with `errors`.", "SavedDraft"),
        **CHANGE,
        "409": problem_response("The request is no longer a draft."),
        **JSON_BODY_ERRORS,
    },
)
@answers_shape_errors
async def save_draft(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    sent = await _sent_data(request)

    def save() -> tuple[CitizenCase, list[FieldError]]:
        current = citizens.case(caller, public_id)
        _row, errors = citizens.save_draft(caller, public_id, {**current.request.data, **sent})
        return citizens.case(caller, public_id), errors

    case, errors = await database_of(request).run(save)
    detail = _detail(request, case)
    detail["errors"] = field_errors(request, errors)
    return JSONResponse(detail)


@operation(
    summary="Delete a draft",
    operationId="deleteDraft",
    **CITIZEN,
    responses={
        "204": {"description": "The draft and its attachments are deleted."},
        **CHANGE,
        "409": problem_response("The request was submitted: withdraw it instead."),
    },
)
async def delete_draft(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    await database_of(request).run(lambda: citizens.discard_draft(caller, public_id))
    return Response(status_code=204)


@operation(
    summary="Submit a draft",
    operationId="submitDraft",
    description=(
        "Checks the form, the service's rules and the documents. Submitting twice answers with the same request."
    ),
    **CITIZEN,
    responses={
        "200": json_response("The submitted request, with its reference.", "CitizenRequest"),
        **CHANGE,
        "422": problem_response("The draft has errors (kept as is); `errors` lists them, `document:<name>` for files."),
        "503": problem_response("The service is temporarily unavailable; nothing was submitted."),
    },
)
async def submit_draft(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    outcome = await database_of(request).run(lambda: citizens.submit(caller, public_id))
    if outcome.errors:
        others = [
            {**error, "request": stopped.request.public_id, "member": stopped.index}
            for stopped in outcome.family_errors
            for error in field_errors(request, stopped.errors)
        ]
        return form_problem(request, outcome.errors, others)
    return await _detail_response(request, caller, citizens, public_id)


@operation(
    summary="Add a family member's draft",
    operationId="addFamilyMember",
    description=(
        "For a service with a member block (plugin API 1.2): a new draft of the same service, linked to this "
        "draft's family, holding the shared answers (fields without `per_member`) and copies of the shared "
        "documents (documents without `per_member`). Each member's draft is then saved and given its documents "
        "on its own; submitting any draft of the family submits them all, or none. Send an `Idempotency-Key` "
        "to make retries safe: the same key answers with the same draft."
    ),
    **CITIZEN,
    parameters=[IDEMPOTENCY_KEY],
    responses={
        "201": json_response("The new member's draft; its `family` lists the other drafts.", "CitizenRequest"),
        "200": json_response("The same Idempotency-Key already added this member: that draft.", "CitizenRequest"),
        **CHANGE,
        "400": problem_response("The Idempotency-Key is too long."),
        "409": problem_response("Not a draft, a service filed for one person only, or the most members already there."),
        "422": problem_response("The Idempotency-Key was already used for another request."),
    },
)
@answers_shape_errors
async def add_family_member(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    key = submission_key(request)

    def add() -> tuple[ServiceRequest, bool]:
        replayed = "idempotency-key" in request.headers and any(
            row.submission_key == key for row in citizens.mine(caller)
        )
        return citizens.add_member(caller, public_id, submission_key=key), replayed

    row, replayed = await database_of(request).run(add)
    response = await _detail_response(request, caller, citizens, row.public_id, 200 if replayed else 201)
    response.headers["Location"] = f"{PREFIX}/me/requests/{row.public_id}"
    return response


@operation(
    summary="Withdraw a submitted request",
    operationId="withdrawRequest",
    **CITIZEN,
    responses={
        "200": json_response("The withdrawn request.", "CitizenRequest"),
        **CHANGE,
        "409": problem_response("A draft, or a request already decided or withdrawn."),
    },
)
async def withdraw_request(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    await database_of(request).run(lambda: citizens.withdraw(caller, public_id))
    return await _detail_response(request, caller, citizens, public_id)


@operation(
    summary="Write to the town hall about a request",
    operationId="sendMyMessage",
    description="When the town hall waits for a complement, the message answers it.",
    **CITIZEN,
    requestBody=json_body("MessageBody"),
    responses={
        "201": json_response("The request with the message in its history.", "CitizenRequest"),
        **CHANGE,
        "409": problem_response("A draft or a withdrawn request takes no message."),
        **JSON_BODY_ERRORS,
    },
)
@answers_shape_errors
async def send_my_message(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    body = await read_body(request, "body")
    text = body.text("body", required=True)
    body.check()
    await database_of(request).run(lambda: citizens.message(caller, public_id, text))
    return await _detail_response(request, caller, citizens, public_id, 201)


@operation(
    summary="Correct the form the town hall asked to correct",
    operationId="correctMyRequest",
    **CITIZEN,
    requestBody=json_body("DraftData"),
    responses={
        "200": json_response("The corrected request.", "CitizenRequest"),
        **CHANGE,
        "409": problem_response("The town hall is not waiting for a correction."),
        **JSON_BODY_ERRORS,
        "422": problem_response("The form has errors (nothing changed); `errors` lists them."),
    },
)
@answers_shape_errors
async def correct_my_request(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    sent = await _sent_data(request)

    def correct() -> list[FieldError]:
        current = citizens.case(caller, public_id)
        _row, errors = citizens.correct(caller, public_id, {**current.request.data, **sent})
        return errors

    errors = await database_of(request).run(correct)
    if errors:
        return form_problem(request, errors)
    return await _detail_response(request, caller, citizens, public_id)


@operation(
    summary="Attach a document",
    operationId="attachDocument",
    description=(
        "A `multipart/form-data` body with `document` (the name of one of the request's `documents`) and "
        "`file`. The type is judged from the content, not the name. A refused file leaves nothing stored."
    ),
    **CITIZEN,
    requestBody={
        "required": True,
        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/AttachmentUpload"}}},
    },
    responses={
        "201": json_response("The attachment as stored.", "Attachment"),
        "400": problem_response("The multipart body could not be read."),
        **CHANGE,
        "409": problem_response("Not a draft and no complement awaited, or a document the service does not ask for."),
        "413": problem_response("The file is larger than the document allows; nothing was stored."),
        "415": problem_response("Not a multipart body, or a type of file the document does not accept."),
        "422": problem_response("No file, an empty file, or a file the antivirus refused."),
        "503": problem_response("The antivirus could not check the file; nothing was stored."),
    },
)
@answers_shape_errors
async def attach_document(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id = request.path_params["public_id"]
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise PageError(415, NOT_MULTIPART)
    async with request.form(max_files=1, max_fields=4) as form:
        document, upload = form.get("document"), form.get("file")
        errors: list[tuple[str, Localized]] = []
        if not isinstance(document, str) or not document.strip():
            errors.append(("document", REQUIRED))
        if not isinstance(upload, UploadFile):
            errors.append(("file", NO_FILE))
        if errors or not isinstance(document, str) or not isinstance(upload, UploadFile):
            raise body_error(errors)
        name, filename, data = document.strip(), upload.filename or "", await upload.read()
    attachment = await database_of(request).run(lambda: citizens.attach(caller, public_id, name, filename, data))
    return JSONResponse(
        attachment_json(attachment),
        status_code=201,
        headers={"Location": f"{PREFIX}/me/requests/{public_id}/attachments/{attachment.public_id}"},
    )


@operation(
    summary="Download one of my attachments",
    operationId="downloadMyAttachment",
    **CITIZEN,
    responses={
        "200": file_response("The file, as a download.", "application/octet-stream"),
        **READING,
        "404": NO_ATTACHMENT,
        "503": UNREADABLE,
    },
)
async def download_my_attachment(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    attachment, data = await database_of(request).run(lambda: citizens.download(caller, public_id, attachment_id))
    return download_response(data, attachment.content_type, attachment.filename)


@operation(
    summary="Remove an attachment from a draft",
    operationId="detachDocument",
    **CITIZEN,
    responses={
        "204": {"description": "The attachment is deleted."},
        **CHANGE,
        "404": NO_ATTACHMENT,
        "409": problem_response("The request was submitted: what was sent stays."),
    },
)
async def detach_document(request: Request) -> Response:
    caller, citizens = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    await database_of(request).run(lambda: citizens.detach(caller, public_id, attachment_id))
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    me = f"{PREFIX}/me/requests"
    one = f"{me}/{{public_id}}"
    attachment = f"{one}/attachments/{{attachment_id}}"
    return [
        Route(me, list_my_requests, methods=["GET"], name="api_my_requests"),
        Route(me, create_draft, methods=["POST"], name="api_create_draft"),
        Route(one, get_my_request, methods=["GET"], name="api_my_request"),
        Route(one, save_draft, methods=["PATCH"], name="api_save_draft"),
        Route(one, delete_draft, methods=["DELETE"], name="api_delete_draft"),
        Route(f"{one}/submit", submit_draft, methods=["POST"], name="api_submit_draft"),
        Route(f"{one}/members", add_family_member, methods=["POST"], name="api_add_family_member"),
        Route(f"{one}/withdraw", withdraw_request, methods=["POST"], name="api_withdraw_request"),
        Route(f"{one}/messages", send_my_message, methods=["POST"], name="api_my_message"),
        Route(f"{one}/correction", correct_my_request, methods=["POST"], name="api_my_correction"),
        Route(f"{one}/attachments", attach_document, methods=["POST"], name="api_attach_document"),
        Route(attachment, download_my_attachment, methods=["GET"], name="api_my_attachment"),
        Route(attachment, detach_document, methods=["DELETE"], name="api_detach_document"),
    ]
