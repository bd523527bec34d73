"""A request's file, as agents see it, and the actions on it: transitions, assignment, notes, messages, downloads.

Registered, with the other agents' pages, by the default plugin
:mod:`gateway.builtin.back_office`. A refused action re-renders the file with
the reason and what the agent typed, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.communes import Commune
from gateway.pages.agent_pages import _agent, _commands, _queries, _when
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import AgentCase
from gateway.requests.caller import Caller
from gateway.requests.errors import ActionNotAllowed, InvalidInput, StaleRequest
from gateway.services import Localized, ServiceDefinition
from gateway.web.downloads import download_response
from gateway.web.form_values import answer_text
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of
from gateway.web.numbers import INTEGER_MAX, integer_in
from gateway.web.templating import render

#: what re-rendered forms keep of what the agent typed
KEPT = ("comment", "reason", "choice", "body", "assignee")

BAD_ASSIGNEE = Localized("Choisissez une personne dans la liste.", "Choose a person from the list.")
SAVED = {
    "transition": Localized("L'action a été enregistrée.", "The action was recorded."),
    "attribution": Localized("L'attribution a été enregistrée.", "The assignment was recorded."),
    "note": Localized("La note interne a été ajoutée.", "The internal note was added."),
    "message": Localized("Le message a été envoyé à l'usager.", "The message was sent to the citizen."),
    "complement": Localized(
        "La demande de complément a été envoyée à l'usager.", "The request for more was sent to the citizen."
    ),
}


def _derived_line(definition: ServiceDefinition, name: str, value: object) -> tuple[Localized, Localized]:
    """A value the service derived, in the words it gives (API 1.2, ``DerivedValue``); else its name and value."""
    words = definition.derived_value(name)
    if words is None:
        return Localized(name), Localized(str(value))
    shown = words.wording(value)
    if shown is None:
        shown = Localized("—") if value in ("", None) else Localized(str(value))
    return words.label, shown


def _case_context(request: Request, case: AgentCase) -> dict[str, Any]:
    locale = choose_locale(request)
    row, definition = case.request, case.rules.definition
    workflow = definition.workflow
    fields = {form_field.name: form_field for form_field in case.rules.form}
    data = [
        (form_field.label, answer_text(form_field, row.data.get(form_field.name)))
        for form_field in case.rules.form
        if form_field.applies(row.data) and form_field.kind != "document"  # a document is among the attachments
    ]
    data += [_derived_line(definition, key, value) for key, value in row.data.items() if key not in fields]

    def state(name: str | None) -> Localized:
        if name is None:
            return Localized("")
        try:
            return workflow.state(name).label
        except KeyError:
            return Localized(name)

    def reason_label(event_transition: str | None, value: str | None) -> Localized | None:
        transition = workflow.transition(event_transition or "")
        if value is None:
            return None
        for choice in transition.reasons if transition else ():
            if choice.value == value:
                return choice.label
        return Localized(value)

    history = [
        {
            "when": _when(event.at, locale),
            "kind": event.kind,
            "who": case.staff_names.get(event.staff_id or 0) if event.staff_id else None,
            "role": event.actor_role,
            "from": state(event.from_status) if event.from_status else None,
            "to": state(event.to_status) if event.to_status else None,
            "reason": reason_label(event.transition, event.reason),
            "choice": getattr(workflow.transition(event.transition or ""), "choice", None),
            "body": event.body,
            "internal": event.internal,
        }
        for event in case.events
    ]
    documents = {spec.name: spec.label for spec in definition.documents}
    attachments = [
        {
            "id": attachment.public_id,
            "filename": attachment.filename,
            "document": documents.get(attachment.document, Localized("Document complémentaire", "Additional document")),
            "size_kb": max(1, round(attachment.size / 1024)),
            "type": attachment.content_type,
            "when": _when(attachment.created_at, locale),
        }
        for attachment in case.attachments
    ]
    return {
        "case": case,
        "row": row,
        "service": definition,
        "status": state(row.status),
        "decided": workflow.is_decided(row.status),
        "submitted": _when(row.submitted_at, locale),
        "decided_at": _when(row.decided_at, locale),
        "filed_by": case.staff_names.get(row.filed_by_staff_id) if row.filed_by_staff_id else None,
        "assignee": case.staff_names.get(row.assigned_to) if row.assigned_to else None,
        "data": data,
        "history": history,
        "attachments": attachments,
        "base": f"/agents/{row.commune}/demandes/{quote(row.reference or '')}",
        "family_links": [
            {
                "reference": other.reference,
                "href": f"/agents/{other.commune}/demandes/{quote(other.reference or '')}",
                "status": state(other.status)(locale),
            }
            for other in case.family
        ],
    }


async def _case_page(
    request: Request,
    caller: Caller,
    commune: Commune,
    reference: str,
    *,
    status_code: int = 200,
    error: Localized | None = None,
    failed: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> Response:
    office = _queries(request)
    case: AgentCase = await database_of(request).run(lambda: office.case(caller, commune.slug, reference))
    context = _case_context(request, case)
    forms = {f"transition-{t.name}" for t in case.transitions} | {"attribution", "note", "message", "complement"}
    done = request.query_params.get("fait", "")
    context |= {
        "commune": commune,
        "error": error,
        "failed": failed,
        "typed": typed or {},
        "kept_elsewhere": bool(failed and failed not in forms and (typed or {}).get("comment")),
        "saved": SAVED.get(done) if error is None else None,
        "me": caller.staff_id,
    }
    return render(request, "agents/case.html", context, status_code=status_code)


async def case_page(request: Request) -> Response:
    caller, commune = await _agent(request)
    return await _case_page(request, caller, commune, request.path_params["reference"])


def _version(typed: Mapping[str, str]) -> int:
    """The version the agent saw; a missing or altered one counts as stale (nothing is written)."""
    found = integer_in(typed.get("version", ""), 0, INTEGER_MAX)
    return -1 if found is None else found


def _assignee(caller: Caller, value: str) -> int | None:
    if value == "nobody":
        return None
    if value == "me" and caller.staff_id is not None:
        return caller.staff_id
    staff_id = integer_in(value, 1, INTEGER_MAX)
    if staff_id is None:
        raise InvalidInput(BAD_ASSIGNEE)
    return staff_id


Commands = BackOfficeCommands
Action = Callable[[Commands, Caller, str, str, Mapping[str, str]], object]


def _acting(kind: str, action: Action) -> Callable[[Request], Any]:
    """A POST on a request's file: the action, then back to the file (303), or the file again with the reason."""

    async def endpoint(request: Request) -> Response:
        caller, commune = await _agent(request)
        reference = request.path_params["reference"]
        async with request.form() as form:
            typed = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrftoken"}
        failed = f"transition-{typed.get('transition', '')}" if kind == "transition" else kind
        office = _commands(request)
        try:
            await database_of(request).run(lambda: action(office, caller, commune.slug, reference, typed))
        except (InvalidInput, ActionNotAllowed, StaleRequest) as refused:
            kept = {key: typed[key] for key in KEPT if key in typed}
            return await _case_page(
                request, caller, commune, reference, status_code=refused.status, error=refused.reason,
                failed=failed, typed=kept,
            )  # fmt: skip
        return RedirectResponse(f"/agents/{commune.slug}/demandes/{quote(reference)}?fait={kind}", status_code=303)

    return endpoint


def _transition(office: Commands, caller: Caller, commune: str, reference: str, typed: Mapping[str, str]) -> object:
    return office.transition(
        caller, commune, reference, typed.get("transition", ""), expected_version=_version(typed),
        comment=typed.get("comment", ""), reason=typed.get("reason", ""), choice=typed.get("choice", ""),
    )  # fmt: skip


def _assign(office: Commands, caller: Caller, commune: str, reference: str, typed: Mapping[str, str]) -> object:
    staff_id = _assignee(caller, typed.get("assignee", ""))
    return office.assign(caller, commune, reference, staff_id, expected_version=_version(typed))


def _note(office: Commands, caller: Caller, commune: str, reference: str, typed: Mapping[str, str]) -> object:
    return office.note(caller, commune, reference, typed.get("body", ""))


def _message(office: Commands, caller: Caller, commune: str, reference: str, typed: Mapping[str, str]) -> object:
    return office.message(caller, commune, reference, typed.get("body", ""))


def _complement(office: Commands, caller: Caller, commune: str, reference: str, typed: Mapping[str, str]) -> object:
    return office.ask_citizen(caller, commune, reference, typed.get("body", ""), expected_version=_version(typed))


async def download(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference, attachment_id = request.path_params["reference"], request.path_params["attachment"]
    office = _queries(request)
    attachment, data = await database_of(request).run(
        lambda: office.download(caller, commune.slug, reference, attachment_id)
    )
    return download_response(data, attachment.content_type, attachment.filename)


async def download_all(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    office = _queries(request)
    filename, data = await database_of(request).run(lambda: office.archive(caller, commune.slug, reference))
    return download_response(data, "application/zip", filename)


def routes() -> list[BaseRoute]:
    file = "/agents/{commune}/demandes/{reference}"
    return [
        Route(file, case_page, name="agents_case"),
        Route(f"{file}/transition", _acting("transition", _transition), methods=["POST"], name="agents_transition"),
        Route(f"{file}/attribution", _acting("attribution", _assign), methods=["POST"], name="agents_assign"),
        Route(f"{file}/note", _acting("note", _note), methods=["POST"], name="agents_note"),
        Route(f"{file}/message", _acting("message", _message), methods=["POST"], name="agents_message"),
        Route(f"{file}/complement", _acting("complement", _complement), methods=["POST"], name="agents_complement"),
        Route(f"{file}/documents.zip", download_all, name="agents_documents_zip"),
        Route(f"{file}/documents/{{attachment}}", download, name="agents_document"),
    ]
