"""JSON API v1 for requests: the citizen's own requests (``/me``) and the agents' casework (``/communes/...``).

Every route goes through the request service layer
(:mod:`gateway.requests.lifecycle`, :mod:`gateway.requests.backoffice`),
which checks ownership and grants and records the audit trail; this module
only reads the HTTP request, checks its shape and writes JSON. Refusals from
the service layer become problem documents through the app's handlers; a
body or query of the wrong shape is answered here, field by field.

Citizens use their session cookie (with the ``x-csrftoken`` header on
changes); agents use their session or a personal API token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.bodies import json_object
from gateway.api.openapi import json_response, operation, problem_response
from gateway.communes import Commune
from gateway.identity.access import principal_of, refuse_citizens, require_citizen, require_staff_session
from gateway.models import Attachment, RequestEvent, ServiceRequest
from gateway.requests.attachments import content_disposition
from gateway.requests.backoffice import AgentCase, BackOffice, QueueFilter, QueuePage
from gateway.requests.context import Caller, aware
from gateway.requests.filing import SUBMISSION_KEY_MAX, new_submission_key
from gateway.requests.lifecycle import EXTRA_DOCUMENT, CitizenCase, CitizenRequests
from gateway.services import DocumentSpec, FieldError, Localized, Transition, Workflow
from gateway.web.callers import caller_of
from gateway.web.errors import PageError, problem
from gateway.web.i18n import choose_locale
from gateway.web.lookups import commune_or_404, enabled_service_or_404, registry_of

PREFIX = "/api/v1"
T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]

# --- texts -----------------------------------------------------------------------------------------------------------

FORM_ERRORS = Localized("Le formulaire contient des erreurs.", "The form has errors.")
BODY_ERRORS = Localized("Le corps de la requête contient des erreurs.", "The request body has errors.")
QUERY_ERRORS = Localized("Paramètres de recherche incorrects.", "Incorrect query parameters.")
FOR_CITIZENS = Localized(
    "Ces adresses servent aux habitants connectés à leur compte, pas aux comptes des agents.",
    "These endpoints are for signed-in residents, not for staff accounts.",
)
BAD_KEY = Localized(
    "L'en-tête Idempotency-Key dépasse 64 caractères.", "The Idempotency-Key header is longer than 64 characters."
)
NOT_MULTIPART = Localized(
    "Envoyez le fichier au format multipart/form-data, avec les champs « document » et « file ».",
    "Send the file as multipart/form-data, with the fields 'document' and 'file'.",
)
REQUIRED = Localized("Ce champ est obligatoire.", "This field is required.")
NOT_TEXT = Localized("Cette valeur doit être du texte.", "This value must be text.")
NOT_AN_OBJECT = Localized("Cette valeur doit être un objet JSON.", "This value must be a JSON object.")
NOT_A_VERSION = Localized(
    "Indiquez la version de la demande que vous avez lue (un nombre entier).",
    "Give the version of the request you read (an integer).",
)
NOT_AN_ID = Localized(
    "Indiquez un identifiant de compte (nombre entier) ou null.", "Give an account id (integer) or null."
)
UNKNOWN_FIELD = Localized("Ce champ n'est pas attendu ici.", "This field is not expected here.")
UNKNOWN_PARAMETER = Localized("Ce paramètre n'existe pas.", "This parameter does not exist.")
REPEATED_PARAMETER = Localized("Ce paramètre est donné plusieurs fois.", "This parameter is given more than once.")
NO_SUCH_COMMUNE = Localized("Aucune commune du syndicat ne porte ce nom.", "No commune of the syndicate has this name.")
NOT_OFFERED = Localized(
    "Cette commune ne propose pas cette démarche en ligne.", "This commune does not offer this service online."
)
NO_FILE = Localized("Joignez un fichier dans le champ « file ».", "Attach a file in the 'file' field.")
REFERENCES = Localized(
    "Donnez une liste de 1 à 200 références (textes).", "Give a list of 1 to 200 references (strings)."
)


def _between(low: int, high: int) -> Localized:
    return Localized(f"Un nombre entier de {low} à {high}.", f"An integer from {low} to {high}.")


def _one_of(values: Sequence[str]) -> Localized:
    listed = ", ".join(values)
    return Localized(f"Valeurs possibles : {listed}.", f"Possible values: {listed}.")


def _at_most(limit: int) -> Localized:
    return Localized(f"{limit} caractères au maximum.", f"At most {limit} characters.")


# --- shape errors: 422 for bodies, 400 for query strings -----------------------------------------------------------


class ShapeError(Exception):
    """A body or query string of the wrong shape, with what is wrong field by field."""

    def __init__(self, status: int, title: Localized, errors: Sequence[tuple[str, Localized]], type_: str) -> None:
        self.status, self.title, self.errors, self.type_ = status, title, errors, type_
        super().__init__(title.fr)


def _answers_shape_errors(endpoint: Endpoint) -> Endpoint:
    """Turn a :class:`ShapeError` raised while reading the input into its problem document."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ShapeError as error:
            locale = choose_locale(request)
            errors = [{"field": name, "detail": text(locale)} for name, text in error.errors]
            return problem(error.status, error.title(locale), _listing(errors), type_=error.type_, errors=errors)

    return wrapped


def _form_problem(request: Request, errors: Sequence[FieldError]) -> Response:
    locale = choose_locale(request)
    listed = [{"field": error.field, "detail": error.message(locale)} for error in errors]
    return problem(
        422, FORM_ERRORS(locale), _listing(listed), type_="urn:guichet:problem:validation-error", errors=listed
    )


def _listing(errors: Sequence[Mapping[str, str]]) -> str:
    """The errors in one line, for a client that shows only ``detail``."""
    return " ; ".join(f"{error['field'] or '*'} : {error['detail']}" for error in errors)


class Body:
    """Reads the fields of a JSON object body, collecting every mistake before answering 422 once."""

    def __init__(self, values: Mapping[str, Any], allowed: Sequence[str]) -> None:
        self.values = values
        self.errors: list[tuple[str, Localized]] = [(name, UNKNOWN_FIELD) for name in values if name not in allowed]

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.values.get(name)
        if value is None:
            if required:
                self.errors.append((name, REQUIRED))
            return ""
        if not isinstance(value, str):
            self.errors.append((name, NOT_TEXT))
            return ""
        if required and not value.strip():
            self.errors.append((name, REQUIRED))
        if max_length is not None and len(value) > max_length:
            self.errors.append((name, _at_most(max_length)))
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.values.get(name)
        if not isinstance(value, dict):
            self.errors.append((name, REQUIRED if value is None else NOT_AN_OBJECT))
            return {}
        return value

    def version(self) -> int | None:
        value = self.values.get("version")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.errors.append(("version", NOT_A_VERSION))
            return None
        return value

    def staff_id(self) -> int | None:
        if "staff_id" not in self.values:
            self.errors.append(("staff_id", NOT_AN_ID))
            return None
        value = self.values["staff_id"]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.errors.append(("staff_id", NOT_AN_ID))
            return None
        return value

    def references(self) -> list[str]:
        value = self.values.get("references")
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= 200
            or not all(isinstance(item, str) and 0 < len(item) <= 40 for item in value)
        ):
            self.errors.append(("references", REFERENCES))
            return []
        return list(value)

    def check(self) -> None:
        if self.errors:
            raise ShapeError(422, BODY_ERRORS, self.errors, "urn:guichet:problem:invalid-body")


async def _body(request: Request, *allowed: str) -> Body:
    return Body(await json_object(request), allowed)


# --- shared helpers --------------------------------------------------------------------------------------------------


async def _run(request: Request, work: Callable[[], T]) -> T:
    result: T = await request.app.state.db.run(work)
    return result


def _both(text: Localized | None) -> dict[str, str] | None:
    return {"fr": text("fr"), "en": text("en")} if text is not None else None


def _time(moment: Any) -> str | None:
    found = aware(moment)
    return found.isoformat() if found is not None else None


def _workflow(request: Request, service: str) -> Workflow | None:
    provided = registry_of(request).services.get(service)
    return provided.definition.workflow if provided is not None else None


def _status_label(workflow: Workflow | None, status: str) -> dict[str, str] | None:
    if workflow is None:
        return None
    try:
        return _both(workflow.state(status).label)
    except KeyError:  # a state the workflow no longer declares
        return {"fr": status, "en": status}


def _reason_label(workflow: Workflow | None, transition: str | None, reason: str | None) -> dict[str, str] | None:
    found = workflow.transition(transition) if workflow is not None and transition else None
    if found is None or reason is None:
        return None
    return next((_both(choice.label) for choice in found.reasons if choice.value == reason), None)


def _submission_key(request: Request) -> str:
    key = request.headers.get("idempotency-key") or new_submission_key()
    if len(key) > SUBMISSION_KEY_MAX:
        raise ShapeError(400, BAD_KEY, [("Idempotency-Key", BAD_KEY)], "urn:guichet:problem:bad-idempotency-key")
    return key


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.public_id,
        "document": attachment.document,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": attachment.uploaded_by,
        "created_at": _time(attachment.created_at),
    }


def _file_response(attachment: Attachment, data: bytes) -> Response:
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# =====================================================================================================================
# Citizens: their own requests
# =====================================================================================================================


def _citizens(request: Request) -> CitizenRequests:
    return CitizenRequests(request.app.state.db, registry_of(request))


async def _citizen(request: Request) -> Caller:
    """The signed-in citizen (401 without a session; a staff account is refused with 403)."""
    principal = principal_of(request)
    if principal is not None and principal.kind == "staff":
        raise PageError(403, FOR_CITIZENS)
    require_citizen(request)
    return await caller_of(request)


def _summary(request: Request, row: ServiceRequest) -> dict[str, Any]:
    return {
        "public_id": row.public_id,
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "status": row.status,
        "status_label": _status_label(_workflow(request, row.service), row.status),
        "awaiting_citizen": row.awaiting_citizen,
        "created_at": _time(row.created_at),
        "submitted_at": _time(row.submitted_at),
        "decided_at": _time(row.decided_at),
        "purge_after": _time(row.purge_after),
    }


def _document(spec: DocumentSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "label": _both(spec.label),
        "help": _both(spec.help),
        "required": spec.required,
        "accept": list(spec.accept),
        "max_bytes": spec.max_bytes,
    }


def _citizen_event(case: CitizenCase, event: RequestEvent) -> dict[str, Any]:
    workflow = case.rules.definition.workflow
    mine = event.actor_role == "citizen"
    return {
        "kind": event.kind,
        "at": _time(event.at),
        "actor": "you" if mine else "town_hall",
        "agent_name": case.staff_names.get(event.staff_id) if event.staff_id else None,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "transition": event.transition,
        "reason": event.reason,
        "reason_label": _reason_label(workflow, event.transition, event.reason),
        "body": event.body,
    }


def _citizen_detail(request: Request, case: CitizenCase) -> dict[str, Any]:
    row, definition = case.request, case.rules.definition
    values = {key: value for key, value in row.data.items() if isinstance(value, str)}
    documents = [spec for spec in definition.documents if spec.applies(values)]
    if not row.is_draft and row.awaiting_citizen:
        documents.append(EXTRA_DOCUMENT)
    return {
        **_summary(request, row),
        "title": _both(definition.title),
        "data": dict(row.data),
        "version": row.version,
        "decided": case.decided,
        "history": [_citizen_event(case, event) for event in case.events],
        "attachments": [_attachment(attachment) for attachment in case.attachments],
        "documents": [_document(spec) for spec in documents],
    }


async def _detail_response(request: Request, caller: Caller, public_id: str, status_code: int = 200) -> Response:
    citizens = _citizens(request)
    case = await _run(request, lambda: citizens.case(caller, public_id))
    return JSONResponse(_citizen_detail(request, case), status_code=status_code)


CITIZEN = {"security": [{"cookie": []}], "tags": ["citizen requests"]}
UNAUTHENTICATED = problem_response("Not signed in as a citizen.")
STAFF_ACCOUNT = problem_response("A staff account or token: these endpoints are for citizens.")
NOT_YOURS = problem_response("No such request among yours (another person's request is not found either).")
CSRF = problem_response("Signed in with a cookie but without the `x-csrftoken` header, or a staff account.")
JSON_BODY_ERRORS = {
    "400": problem_response("The body is not valid JSON, or not a JSON object."),
    "415": problem_response("The body is not JSON."),
    "422": problem_response("A field of the body is missing or of the wrong type; `errors` lists them."),
}


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


@operation(
    summary="My requests, in every commune",
    operationId="listMyRequests",
    **CITIZEN,
    responses={
        "200": json_response("The signed-in citizen's requests and drafts, newest first.", "CitizenRequestList"),
        "401": UNAUTHENTICATED,
        "403": STAFF_ACCOUNT,
    },
)
async def list_my_requests(request: Request) -> Response:
    caller = await _citizen(request)
    citizens = _citizens(request)
    rows = await _run(request, lambda: citizens.mine(caller))
    return JSONResponse({"requests": [_summary(request, row) for row in rows]})


@operation(
    summary="Start a draft",
    operationId="createDraft",
    description=(
        "Starts a draft prefilled from the citizen's identity. Send an `Idempotency-Key` header "
        "(at most 64 characters) to make retries safe: the same key answers with the same draft."
    ),
    **CITIZEN,
    parameters=[
        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 64}}
    ],
    requestBody=_json_body("NewDraft"),
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
@_answers_shape_errors
async def create_draft(request: Request) -> Response:
    caller = await _citizen(request)
    body = await _body(request, "commune", "service")
    commune_slug, key = body.text("commune", required=True), body.text("service", required=True)
    body.check()
    commune = registry_of(request).commune(commune_slug)
    if commune is None:
        raise ShapeError(422, BODY_ERRORS, [("commune", NO_SUCH_COMMUNE)], "urn:guichet:problem:invalid-body")
    if not commune.enables(key):
        raise ShapeError(422, BODY_ERRORS, [("service", NOT_OFFERED)], "urn:guichet:problem:invalid-body")
    submission_key = _submission_key(request)
    citizens = _citizens(request)

    def start() -> tuple[ServiceRequest, bool]:
        replayed = "idempotency-key" in request.headers and any(
            row.submission_key == submission_key for row in citizens.mine(caller)
        )
        return citizens.start_draft(caller, commune.slug, key, submission_key=submission_key), replayed

    row, replayed = await _run(request, start)
    response = await _detail_response(request, caller, row.public_id, 200 if replayed else 201)
    response.headers["Location"] = f"{PREFIX}/me/requests/{row.public_id}"
    return response


@operation(
    summary="One of my requests",
    operationId="getMyRequest",
    **CITIZEN,
    responses={
        "200": json_response("The request: form, history, attachments, documents to attach.", "CitizenRequest"),
        "401": UNAUTHENTICATED,
        "403": STAFF_ACCOUNT,
        "404": NOT_YOURS,
    },
)
async def get_my_request(request: Request) -> Response:
    caller = await _citizen(request)
    return await _detail_response(request, caller, request.path_params["public_id"])


@operation(
    summary="Save a draft",
    operationId="saveDraft",
    description=(
        "Fields sent replace those stored; fields not sent keep their value. The draft is saved even with "
        "mistakes: `errors` lists them, as the form would show them."
    ),
    **CITIZEN,
    requestBody=_json_body("DraftData"),
    responses={
        "200": json_response("The draft as saved, with `errors`.", "SavedDraft"),
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("The request is no longer a draft."),
        **JSON_BODY_ERRORS,
    },
)
@_answers_shape_errors
async def save_draft(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    body = await _body(request, "data")
    sent = body.mapping("data")
    body.check()
    citizens = _citizens(request)

    def save() -> tuple[CitizenCase, list[FieldError]]:
        current = citizens.case(caller, public_id)
        _row, errors = citizens.save_draft(caller, public_id, {**current.request.data, **sent})
        return citizens.case(caller, public_id), errors

    case, errors = await _run(request, save)
    locale = choose_locale(request)
    detail = _citizen_detail(request, case)
    detail["errors"] = [{"field": error.field, "detail": error.message(locale)} for error in errors]
    return JSONResponse(detail)


@operation(
    summary="Delete a draft",
    operationId="deleteDraft",
    **CITIZEN,
    responses={
        "204": {"description": "The draft and its attachments are deleted."},
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("The request was submitted: withdraw it instead."),
    },
)
async def delete_draft(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    citizens = _citizens(request)
    await _run(request, lambda: citizens.discard_draft(caller, public_id))
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
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "422": problem_response("The draft has errors (kept as is); `errors` lists them, `document:<name>` for files."),
        "503": problem_response("The service is temporarily unavailable; nothing was submitted."),
    },
)
async def submit_draft(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    citizens = _citizens(request)
    outcome = await _run(request, lambda: citizens.submit(caller, public_id))
    if outcome.errors:
        return _form_problem(request, outcome.errors)
    return await _detail_response(request, caller, public_id)


@operation(
    summary="Withdraw a submitted request",
    operationId="withdrawRequest",
    **CITIZEN,
    responses={
        "200": json_response("The withdrawn request.", "CitizenRequest"),
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("A draft, or a request already decided or withdrawn."),
    },
)
async def withdraw_request(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    citizens = _citizens(request)
    await _run(request, lambda: citizens.withdraw(caller, public_id))
    return await _detail_response(request, caller, public_id)


@operation(
    summary="Write to the town hall about a request",
    operationId="sendMyMessage",
    description="When the town hall waits for a complement, the message answers it.",
    **CITIZEN,
    requestBody=_json_body("MessageBody"),
    responses={
        "201": json_response("The request with the message in its history.", "CitizenRequest"),
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("A draft or a withdrawn request takes no message."),
        **JSON_BODY_ERRORS,
    },
)
@_answers_shape_errors
async def send_my_message(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    body = await _body(request, "body")
    text = body.text("body", required=True)
    body.check()
    citizens = _citizens(request)
    await _run(request, lambda: citizens.message(caller, public_id, text))
    return await _detail_response(request, caller, public_id, 201)


@operation(
    summary="Correct the form the town hall asked to correct",
    operationId="correctMyRequest",
    **CITIZEN,
    requestBody=_json_body("DraftData"),
    responses={
        "200": json_response("The corrected request.", "CitizenRequest"),
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("The town hall is not waiting for a correction."),
        **JSON_BODY_ERRORS,
        "422": problem_response("The form has errors (nothing changed); `errors` lists them."),
    },
)
@_answers_shape_errors
async def correct_my_request(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    body = await _body(request, "data")
    sent = body.mapping("data")
    body.check()
    citizens = _citizens(request)

    def correct() -> list[FieldError]:
        current = citizens.case(caller, public_id)
        _row, errors = citizens.correct(caller, public_id, {**current.request.data, **sent})
        return errors

    errors = await _run(request, correct)
    if errors:
        return _form_problem(request, errors)
    return await _detail_response(request, caller, public_id)


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
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": NOT_YOURS,
        "409": problem_response("Not a draft and no complement awaited, or a document the service does not ask for."),
        "413": problem_response("The file is larger than the document allows; nothing was stored."),
        "415": problem_response("Not a multipart body, or a type of file the document does not accept."),
        "422": problem_response("No file, an empty file, or a file the antivirus refused."),
        "503": problem_response("The antivirus could not check the file; nothing was stored."),
    },
)
@_answers_shape_errors
async def attach_document(request: Request) -> Response:
    caller = await _citizen(request)
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
            raise ShapeError(422, BODY_ERRORS, errors, "urn:guichet:problem:invalid-body")
        name, filename, data = document.strip(), upload.filename or "", await upload.read()
    citizens = _citizens(request)
    attachment = await _run(request, lambda: citizens.attach(caller, public_id, name, filename, data))
    return JSONResponse(
        _attachment(attachment),
        status_code=201,
        headers={"Location": f"{PREFIX}/me/requests/{public_id}/attachments/{attachment.public_id}"},
    )


@operation(
    summary="Download one of my attachments",
    operationId="downloadMyAttachment",
    **CITIZEN,
    responses={
        "200": {"description": "The file, as a download.", "content": {"application/octet-stream": {}}},
        "401": UNAUTHENTICATED,
        "403": STAFF_ACCOUNT,
        "404": problem_response("No such attachment on one of your requests."),
    },
)
async def download_my_attachment(request: Request) -> Response:
    caller = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    citizens = _citizens(request)
    attachment, data = await _run(request, lambda: citizens.download(caller, public_id, attachment_id))
    return _file_response(attachment, data)


@operation(
    summary="Remove an attachment from a draft",
    operationId="detachDocument",
    **CITIZEN,
    responses={
        "204": {"description": "The attachment is deleted."},
        "401": UNAUTHENTICATED,
        "403": CSRF,
        "404": problem_response("No such attachment on one of your requests."),
        "409": problem_response("The request was submitted: what was sent stays."),
    },
)
async def detach_document(request: Request) -> Response:
    caller = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    citizens = _citizens(request)
    await _run(request, lambda: citizens.detach(caller, public_id, attachment_id))
    return Response(status_code=204)


# =====================================================================================================================
# Agents: their commune's requests
# =====================================================================================================================


def _back_office(request: Request) -> BackOffice:
    return BackOffice(request.app.state.db, registry_of(request))


async def _agent(request: Request) -> tuple[Caller, Commune]:
    """A staff member (session with both factors, or API token) and the commune named in the path.

    Citizens are refused (403, recorded); grants are checked by the service layer.
    """
    commune = commune_or_404(request)
    await refuse_citizens(request, "agent", commune=commune.slug)
    require_staff_session(request)
    return await caller_of(request), commune


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
        errors.append(("q", _at_most(Q_MAX)))
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
        workflow = _workflow(request, key)
        if workflow is not None:
            names.update(dict.fromkeys(state.name for state in workflow.states))
    names["withdrawn"] = None
    return list(names)


def _staff(names: Mapping[int, str], staff_id: int | None) -> dict[str, Any] | None:
    return {"id": staff_id, "name": names.get(staff_id, "")} if staff_id else None


def _queue_item(request: Request, page: QueuePage, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": _status_label(_workflow(request, row.service), row.status),
        "summary": row.summary,
        "submitted_at": _time(row.submitted_at),
        "decided_at": _time(row.decided_at),
        "assigned_to": _staff(page.staff_names, row.assigned_to),
        "awaiting_citizen": row.awaiting_citizen,
    }


def _transition(transition: Transition) -> dict[str, Any]:
    return {
        "name": transition.name,
        "label": _both(transition.label),
        "target": transition.target,
        "comment_required": transition.comment_required,
        "reasons": [{"value": choice.value, "label": _both(choice.label)} for choice in transition.reasons],
    }


def _agent_event(case: AgentCase, event: RequestEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": _time(event.at),
        "actor_role": event.actor_role,
        "agent": _staff(case.staff_names, event.staff_id),
        "internal": event.internal,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "transition": event.transition,
        "reason": event.reason,
        "reason_label": _reason_label(case.rules.definition.workflow, event.transition, event.reason),
        "body": event.body,
    }


def _agent_detail(request: Request, case: AgentCase) -> dict[str, Any]:
    row = case.request
    return {
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "title": _both(case.rules.definition.title),
        "status": row.status,
        "status_label": _status_label(case.rules.definition.workflow, row.status),
        "decided": case.rules.definition.workflow.is_decided(row.status),
        "summary": row.summary,
        "data": dict(row.data),
        "form_version": row.form_version,
        "version": row.version,
        "submitted_at": _time(row.submitted_at),
        "decided_at": _time(row.decided_at),
        "purge_after": _time(row.purge_after),
        "awaiting_citizen": row.awaiting_citizen,
        "assigned_to": _staff(case.staff_names, row.assigned_to),
        "filed_by": _staff(case.staff_names, row.filed_by_staff_id),
        "can_act": case.can_act,
        "transitions": [_transition(transition) for transition in case.transitions],
        "assignees": [{"id": staff_id, "name": name} for staff_id, name in case.assignees],
        "history": [_agent_event(case, event) for event in case.events],
        "attachments": [_attachment(attachment) for attachment in case.attachments],
    }


def _state(request: Request, row: ServiceRequest) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "service": row.service,
        "status": row.status,
        "status_label": _status_label(_workflow(request, row.service), row.status),
        "version": row.version,
        "awaiting_citizen": row.awaiting_citizen,
        "assigned_to": row.assigned_to,
        "decided_at": _time(row.decided_at),
    }


AGENT = {"security": [{"bearer": []}, {"cookie": []}], "tags": ["casework"]}
NO_STAFF = problem_response("No valid API token or staff session.")
NO_GRANT = problem_response("A citizen, or no grant for this commune or service (the refusal is audited).")
READ_ONLY = problem_response("No grant, or a read-only grant for an action (the refusal is audited).")
NO_REQUEST = problem_response("No such commune, or no such submitted request in this commune.")
STALE = problem_response(
    "`urn:guichet:problem:stale-request`: someone changed the request since `version`; nothing was written. "
    "`urn:guichet:problem:action-not-allowed`: the request's state does not allow this."
)
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
        "400": problem_response("A query parameter is unknown, repeated or malformed; `errors` names them."),
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": problem_response("No such commune."),
    },
)
@_answers_shape_errors
async def list_queue(request: Request) -> Response:
    caller, commune = await _agent(request)
    wanted = _queue_filter(request, commune, paged=True)
    back_office = _back_office(request)
    page = await _run(request, lambda: back_office.queue(caller, commune.slug, wanted))
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
        "400": problem_response("A query parameter is unknown, repeated or malformed; `errors` names them."),
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": problem_response("No such commune."),
    },
)
@_answers_shape_errors
async def export_queue(request: Request) -> Response:
    caller, commune = await _agent(request)
    wanted = _queue_filter(request, commune, paged=False)
    back_office = _back_office(request)
    text = await _run(request, lambda: back_office.export_csv(caller, commune.slug, wanted))
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
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": NO_REQUEST,
    },
)
async def get_case(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    back_office = _back_office(request)
    case = await _run(request, lambda: back_office.case(caller, commune.slug, reference))
    return JSONResponse(_agent_detail(request, case))


@operation(
    summary="Take a workflow transition",
    operationId="transitionCase",
    **AGENT,
    requestBody=_json_body("TransitionBody"),
    responses={
        "200": json_response("The request's new state.", "CaseState"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": NO_REQUEST,
        "409": STALE,
        "422": problem_response("A body field is wrong (`errors`), or the comment or reason the transition needs."),
        "503": problem_response("The service is temporarily unavailable; nothing was written."),
    },
)
@_answers_shape_errors
async def transition_case(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    body = await _body(request, "transition", "comment", "reason", "version")
    name, comment, reason = body.text("transition", required=True), body.text("comment"), body.text("reason")
    version = body.version()
    body.check()
    back_office = _back_office(request)
    row = await _run(
        request,
        lambda: back_office.transition(
            caller, commune.slug, reference, name, expected_version=version, comment=comment, reason=reason
        ),
    )
    return JSONResponse(_state(request, row))


@operation(
    summary="Assign a request to an agent, or to nobody",
    operationId="assignCase",
    **AGENT,
    requestBody=_json_body("AssignmentBody"),
    responses={
        "200": json_response("The request's new state.", "CaseState"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": NO_REQUEST,
        "409": STALE,
        "422": problem_response("A body field is wrong, or the person does not process this service here."),
    },
)
@_answers_shape_errors
async def assign_case(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    body = await _body(request, "staff_id", "version")
    staff_id, version = body.staff_id(), body.version()
    body.check()
    back_office = _back_office(request)
    row = await _run(
        request, lambda: back_office.assign(caller, commune.slug, reference, staff_id, expected_version=version)
    )
    return JSONResponse(_state(request, row))


@operation(
    summary="Add an internal note",
    operationId="addNote",
    description="Agents only: never shown to the citizen.",
    **AGENT,
    requestBody=_json_body("MessageBody"),
    responses={
        "201": json_response("The request's new state.", "CaseState"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": NO_REQUEST,
        "409": problem_response("Someone changed the request at the same moment; nothing was written."),
    },
)
@_answers_shape_errors
async def add_note(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    body = await _body(request, "body")
    text = body.text("body", required=True)
    body.check()
    back_office = _back_office(request)
    row = await _run(request, lambda: back_office.note(caller, commune.slug, reference, text))
    return JSONResponse(_state(request, row), status_code=201)


@operation(
    summary="Write to the citizen",
    operationId="messageCitizen",
    description="The citizen reads it on their request and is told by e-mail that there is a message.",
    **AGENT,
    requestBody=_json_body("MessageBody"),
    responses={
        "201": json_response("The request's new state.", "CaseState"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": NO_REQUEST,
        "409": problem_response("Someone changed the request at the same moment; nothing was written."),
    },
)
@_answers_shape_errors
async def message_citizen(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    body = await _body(request, "body")
    text = body.text("body", required=True)
    body.check()
    back_office = _back_office(request)
    row = await _run(request, lambda: back_office.message(caller, commune.slug, reference, text))
    return JSONResponse(_state(request, row), status_code=201)


@operation(
    summary="Ask the citizen for a correction or a document",
    operationId="askComplement",
    description="The request then waits for the citizen (`awaiting_citizen`); they are told by e-mail.",
    **AGENT,
    requestBody=_json_body("ComplementBody"),
    responses={
        "200": json_response("The request's new state.", "CaseState"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": READ_ONLY,
        "404": NO_REQUEST,
        "409": STALE,
    },
)
@_answers_shape_errors
async def ask_complement(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    body = await _body(request, "body", "version")
    text, version = body.text("body", required=True), body.version()
    body.check()
    back_office = _back_office(request)
    row = await _run(
        request, lambda: back_office.ask_citizen(caller, commune.slug, reference, text, expected_version=version)
    )
    return JSONResponse(_state(request, row))


@operation(
    summary="The same transition on several requests",
    operationId="bulkTransition",
    description="Each request is changed on its own: one refusal stops only itself, and `results` says which.",
    **AGENT,
    requestBody=_json_body("BulkTransitionBody"),
    responses={
        "200": json_response("The outcome for each reference, in the order sent.", "BulkResults"),
        **JSON_BODY_ERRORS,
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": problem_response("No such commune."),
    },
)
@_answers_shape_errors
async def bulk_transition(request: Request) -> Response:
    caller, commune = await _agent(request)
    body = await _body(request, "references", "transition", "comment", "reason")
    references, name = body.references(), body.text("transition", required=True)
    comment, reason = body.text("comment"), body.text("reason")
    body.check()
    back_office = _back_office(request)
    outcomes = await _run(
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
        "200": {"description": "The file, as a download.", "content": {"application/octet-stream": {}}},
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": problem_response("No such request or attachment in this commune."),
    },
)
async def download_case_attachment(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference, attachment_id = request.path_params["reference"], request.path_params["attachment_id"]
    back_office = _back_office(request)
    attachment, data = await _run(request, lambda: back_office.download(caller, commune.slug, reference, attachment_id))
    return _file_response(attachment, data)


@operation(
    summary="Every attachment of a request, as one ZIP file",
    operationId="downloadCaseArchive",
    description="The download is audited.",
    **AGENT,
    responses={
        "200": {"description": "A ZIP archive.", "content": {"application/zip": {}}},
        "401": NO_STAFF,
        "403": NO_GRANT,
        "404": NO_REQUEST,
    },
)
async def download_case_archive(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    back_office = _back_office(request)
    filename, data = await _run(request, lambda: back_office.archive(caller, commune.slug, reference))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@operation(
    summary="File a request for a citizen (assisted filing)",
    operationId="fileAssistedRequest",
    description=(
        "For an agent filing at the counter for a citizen who cannot do it alone; recorded as such. "
        "`citizen_email` receives the receipt. Send an `Idempotency-Key` header to make retries safe."
    ),
    **AGENT,
    parameters=[
        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 64}}
    ],
    requestBody=_json_body("AssistedRequest"),
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
@_answers_shape_errors
async def file_assisted_request(request: Request) -> Response:
    caller, commune = await _agent(request)
    key = enabled_service_or_404(request, commune)
    body = await _body(request, "data", "citizen_email")
    data, email = body.mapping("data"), body.text("citizen_email", max_length=254)
    body.check()
    submission_key = _submission_key(request)
    back_office = _back_office(request)
    filed = await _run(
        request,
        lambda: back_office.file_for_citizen(
            caller, commune.slug, key, data, submission_key=submission_key, citizen_email=email or None
        ),
    )
    if filed.errors:
        return _form_problem(request, filed.errors)
    row = filed.request
    assert row is not None
    receipt = {
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "status": row.status,
        "created_at": _time(row.created_at),
    }
    return JSONResponse(receipt, status_code=200 if filed.replayed else 201)


# --- routes ----------------------------------------------------------------------------------------------------------


def routes() -> list[BaseRoute]:
    me = f"{PREFIX}/me/requests"
    one = f"{me}/{{public_id}}"
    communes = f"{PREFIX}/communes/{{commune}}"
    case = f"{communes}/requests/{{reference}}"
    return [
        Route(me, list_my_requests, methods=["GET"], name="api_my_requests"),
        Route(me, create_draft, methods=["POST"], name="api_create_draft"),
        Route(one, get_my_request, methods=["GET"], name="api_my_request"),
        Route(one, save_draft, methods=["PATCH"], name="api_save_draft"),
        Route(one, delete_draft, methods=["DELETE"], name="api_delete_draft"),
        Route(f"{one}/submit", submit_draft, methods=["POST"], name="api_submit_draft"),
        Route(f"{one}/withdraw", withdraw_request, methods=["POST"], name="api_withdraw_request"),
        Route(f"{one}/messages", send_my_message, methods=["POST"], name="api_my_message"),
        Route(f"{one}/correction", correct_my_request, methods=["POST"], name="api_my_correction"),
        Route(f"{one}/attachments", attach_document, methods=["POST"], name="api_attach_document"),
        Route(
            f"{one}/attachments/{{attachment_id}}", download_my_attachment, methods=["GET"], name="api_my_attachment"
        ),
        Route(f"{one}/attachments/{{attachment_id}}", detach_document, methods=["DELETE"], name="api_detach_document"),
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
