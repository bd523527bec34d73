"""The citizen's request pages: drafts, attachments, submission, tracking, messages, withdrawal.

Registered by the default plugin :mod:`gateway.builtin.citizen_requests`. Every page goes
through :class:`~gateway.requests.lifecycle.CitizenRequests`, which finds a
request by its public id *and* its owner: another citizen's request is a 404
whichever page is asked. Pages work without JavaScript: each action is a
plain form, followed by a redirect (with a notice) or the page again with the
errors and what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.communes import Commune
from gateway.identity.access import require_citizen
from gateway.models import RequestEvent
from gateway.registry import Registry
from gateway.requests.attachments import UploadRefused
from gateway.requests.caller import Caller
from gateway.requests.errors import ActionNotAllowed, InvalidInput
from gateway.requests.family_drafts import MemberErrors, member_name, takes_family_drafts
from gateway.requests.lifecycle import ALREADY_DECIDED, EXTRA_DOCUMENT, CitizenCase, CitizenRequests
from gateway.requests.posted import PostedForm
from gateway.requests.rules import ServiceRules
from gateway.requests.submission_keys import key_from_form, new_submission_key
from gateway.requests.text import answers_of
from gateway.services import (
    DEFAULT_WORKFLOW,
    FieldError,
    FormField,
    Localized,
    ServiceDefinition,
    Workflow,
)
from gateway.web.callers import caller_of
from gateway.web.dates import day, when
from gateway.web.downloads import download_response
from gateway.web.form_hints import first_errors, form_hints
from gateway.web.form_values import answer_text, shown_values
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, registry_of
from gateway.web.templating import render

T = TypeVar("T")

BASE = "/mes-demandes"

#: notices shown after an action's redirect (``?fait=...``); unknown codes show nothing
NOTICES = {
    "document": Localized("Le document a été ajouté.", "The document was added."),
    "retire-document": Localized("Le document a été retiré.", "The document was removed."),
    "supprime": Localized("Le brouillon a été supprimé.", "The draft was deleted."),
    "membre": Localized(
        "Un brouillon a été ajouté pour un autre membre de la famille, avec les réponses et les documents communs : "
        "saisissez ce qui lui est propre et joignez ses documents.",
        "A draft was added for another member of the family, with the shared answers and documents: "
        "type what is their own and attach their documents.",
    ),
    "message": Localized("Votre message a été envoyé à la mairie.", "Your message was sent to the town hall."),
    "correction": Localized(
        "Votre correction a été envoyée à la mairie.", "Your correction was sent to the town hall."
    ),
    "retrait": Localized(
        "Votre demande a été retirée : elle ne sera pas traitée.",
        "Your request was withdrawn: it will not be processed.",
    ),
}
SAVED = Localized("Votre brouillon a été enregistré.", "Your draft was saved.")
SAVED_WITH_ERRORS = Localized(
    "Votre brouillon a été enregistré tel que vous l'avez saisi. Corrigez les erreurs signalées avant de le déposer.",
    "Your draft was saved as you typed it. Correct the mistakes shown before submitting it.",
)
NOT_FILLED = Localized("Non renseigné", "Not filled in")
MESSAGE_LABEL = Localized("Votre message", "Your message")


# Plumbing -------------------------------------------------------------------------


def _service(request: Request) -> CitizenRequests:
    return CitizenRequests(request.app.state.db, registry_of(request))


async def _citizen(request: Request) -> Caller:
    """The signed-in citizen (anyone else is sent to sign in first)."""
    require_citizen(request)
    return await caller_of(request)


async def _case(request: Request, caller: Caller, public_id: str, rules: ServiceRules | None = None) -> CitizenCase:
    service = _service(request)
    return await database_of(request).run(lambda: service.case(caller, public_id, rules=rules))


def _back(public_id: str, notice: str | None = None, anchor: str = "") -> RedirectResponse:
    query = f"?fait={notice}" if notice else ""
    return RedirectResponse(f"{BASE}/{public_id}{query}{anchor}", status_code=303)


def _notice(request: Request) -> Localized | None:
    return NOTICES.get(request.query_params.get("fait", ""))


async def _posted(request: Request) -> PostedForm:
    async with request.form() as form:
        return PostedForm.from_items(form.multi_items())


# Words and dates ----------------------------------------------------------------------


def _workflow(registry: Registry, key: str) -> Workflow:
    provided = registry.services.get(key)
    return provided.definition.workflow if provided is not None else DEFAULT_WORKFLOW


def state_label(workflow: Workflow, status: str | None, locale: str) -> str:
    if not status:
        return ""
    try:
        return workflow.state(status).label(locale)
    except KeyError:  # a state the service no longer declares: its name is better than nothing
        return status


def _summary(errors: Sequence[FieldError], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The error summary's lines, each linking to the field (or document) it is about."""
    lines = []
    for error in errors:
        if error.field.startswith("document:"):
            href = "#document-" + error.field.removeprefix("document:")
        elif error.field:
            href = "#champ-" + error.field
        else:
            href = ""
        lines.append({"href": href, "label": labels.get(error.field, error.field), "message": error.message})
    return lines


def _common(request: Request, case: CitizenCase) -> dict[str, Any]:
    """What every page about one request shows: commune, service, form helpers."""
    locale = choose_locale(request)
    rules = case.rules
    return {
        "case": case,
        "row": case.request,
        "commune": rules.commune,
        "service": rules.definition,
        "form": rules.form,
        "base": f"{BASE}/{case.request.public_id}",
        "when": lambda moment: when(moment, locale),
        "day": lambda moment: day(moment, locale),
        **form_hints(rules.form, locale),
        "status_label": state_label(rules.definition.workflow, case.request.status, locale),
    }


def _document_label(case: CitizenCase, name: str) -> Localized:
    for spec in case.rules.definition.documents:
        if spec.name == name:
            return spec.label
    return EXTRA_DOCUMENT.label if name == EXTRA_DOCUMENT.name else Localized(name)


# Starting a service ----------------------------------------------------------------------


def start_page(
    request: Request, commune: Commune, definition: ServiceDefinition, form: Sequence[FormField], *, signed_in: bool
) -> Response:
    """Before a draft exists: what the service is, who may ask, which documents; "Commencer" or "sign in first"."""
    locale = choose_locale(request)
    context = {
        "commune": commune,
        "service": definition,
        "signed_in": signed_in,
        "submission_key": new_submission_key(),
        **form_hints(form, locale),
    }
    return render(request, "requests/citizen_start.html", context)


# The list -------------------------------------------------------------------------------


async def my_requests(request: Request) -> Response:
    caller = await _citizen(request)
    service = _service(request)
    rows = await database_of(request).run(lambda: service.mine(caller))
    registry, locale = registry_of(request), choose_locale(request)
    lines = []
    for row in sorted(rows, key=lambda row: not row.is_draft):  # stable: newest first within each group
        commune = registry.commune(row.commune)
        provided = registry.services.get(row.service)
        lines.append(
            {
                "row": row,
                "service": provided.definition.title(locale) if provided else row.service,
                "commune": commune.name if commune else row.commune,
                "status": state_label(_workflow(registry, row.service), row.status, locale),
                "created": day(row.created_at, locale),
                "changed": day(row.updated_at or row.created_at, locale),
                "submitted": day(row.submitted_at, locale),
            }
        )
    return render(request, "requests/citizen_list.html", {"lines": lines, "notice": _notice(request)})


# A draft ----------------------------------------------------------------------------------


def _draft_page(
    request: Request,
    case: CitizenCase,
    *,
    errors: Sequence[FieldError] = (),
    notice: Localized | None = None,
    upload_error: tuple[str, Localized] | None = None,
    family_errors: Sequence[MemberErrors] = (),
    status_code: int = 200,
) -> Response:
    locale = choose_locale(request)
    row, definition = case.request, case.rules.definition
    values = answers_of(row.data)
    labels = {form_field.name: form_field.label(locale) for form_field in case.rules.form}
    labels |= {f"document:{spec.name}": spec.label(locale) for spec in definition.documents}
    members = _members(case, locale)
    documents = [spec for spec in definition.documents if spec.applies(values)]
    listed = {spec.name for spec in documents}
    field_errors = first_errors(errors)
    summary = _summary(errors, labels)
    if upload_error is not None:
        document, reason = upload_error
        field_errors[f"document:{document}"] = reason
        summary.append({"href": f"#fichier-{document}", "label": labels.get(f"document:{document}", ""),
                        "message": reason})  # fmt: skip
    for stopped in family_errors:  # another member's draft: its name first, the link to its page
        name = member_name(case.rules, stopped.request, stopped.index, locale)
        for line in _summary(stopped.errors, labels):
            line["label"] = f"{name} – {line['label']}" if line["label"] else name
            line["href"] = f"{BASE}/{stopped.request.public_id}{line['href']}"
            summary.append(line)
    context = {
        **_common(request, case),
        "members": members,
        "submission_key": new_submission_key(),
        "add_member": definition.members.add_label if members and definition.members else None,
        "values": shown_values(case.rules.form, row.data),
        "errors": errors,
        "summary": summary,
        "field_errors": field_errors,
        "documents": documents,
        "attached": {spec.name: [a for a in case.attachments if a.document == spec.name] for spec in documents},
        "others": [attachment for attachment in case.attachments if attachment.document not in listed],
        "document_label": lambda name: _document_label(case, name),
        "notice": notice,
    }
    return render(request, "requests/citizen_draft.html", context, status_code=status_code)


def _members(case: CitizenCase, locale: str) -> list[dict[str, Any]]:
    """The drafts of a family prepared together (API 1.2), this one included; empty for any other service."""
    if not case.request.is_draft or not takes_family_drafts(case.rules):
        return []
    drafts = sorted([case.request, *(other for other in case.family if other.is_draft)], key=lambda row: row.id or 0)
    return [
        {
            "name": member_name(case.rules, draft, index, locale),
            "href": f"{BASE}/{draft.public_id}",
            "current": draft.public_id == case.request.public_id,
        }
        for index, draft in enumerate(drafts, 1)
    ]


async def add_member(request: Request) -> Response:
    """« Inscrire aussi un frère ou une sœur »: another member's draft, then its page (a double click adds one)."""
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    async with request.form() as form:
        submission_key = key_from_form(form.get("submission_key"))
    service = _service(request)
    added = await database_of(request).run(lambda: service.add_member(caller, public_id, submission_key=submission_key))
    return _back(added.public_id, "membre")


async def request_page(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    if request.method == "POST":
        return await _save_or_submit(request, caller, public_id)
    case = await _case(request, caller, public_id)
    if case.request.is_draft:
        return _draft_page(request, case, notice=_notice(request))
    return _case_page(request, case, notice=_notice(request))


async def _save_or_submit(request: Request, caller: Caller, public_id: str) -> Response:
    """The draft form: "Enregistrer" keeps everything typed; "Déposer" checks everything, then submits."""
    raw = await _posted(request)
    action = raw.pop_text("action")
    with_fields = raw.pop("champs", None) is not None
    service = _service(request)
    if action == "deposer":
        submitted = await database_of(request).run(
            lambda: service.submit(caller, public_id, raw if with_fields else None)
        )
        if not submitted.errors:
            return RedirectResponse(f"{BASE}/{public_id}/recu", status_code=303)
        case = await _case(request, caller, public_id, submitted.rules)
        return _draft_page(request, case, errors=submitted.errors, family_errors=submitted.family_errors,
                           status_code=422)  # fmt: skip
    _row, errors = await database_of(request).run(lambda: service.save_draft(caller, public_id, raw))
    case = await _case(request, caller, public_id)
    return _draft_page(request, case, errors=errors, notice=SAVED_WITH_ERRORS if errors else SAVED)


async def discard(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    service = _service(request)
    await database_of(request).run(lambda: service.discard_draft(caller, public_id))
    return RedirectResponse(f"{BASE}?fait=supprime", status_code=303)


# Documents ----------------------------------------------------------------------------------


async def upload(request: Request) -> Response:
    """One file for one document; a refused file re-shows the page with the reason, nothing stored."""
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    async with request.form() as form:
        document = form.get("document")
        chosen = form.get("fichier")
        if isinstance(chosen, UploadFile):
            filename, data = chosen.filename or "", await chosen.read()
        else:
            filename, data = "", b""
    name = document if isinstance(document, str) else ""
    service = _service(request)
    try:
        await database_of(request).run(lambda: service.attach(caller, public_id, name, filename, data))
    except UploadRefused as refused:
        case = await _case(request, caller, public_id)
        page = _draft_page if case.request.is_draft else _case_page
        response = page(request, case, upload_error=(name, refused.reason), status_code=refused.status)
        if refused.status == 503:
            response.headers["Retry-After"] = "300"
        return response
    return _back(public_id, "document", "#documents")


async def detach(request: Request) -> Response:
    caller = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    service = _service(request)
    await database_of(request).run(lambda: service.detach(caller, public_id, attachment_id))
    return _back(public_id, "retire-document", "#documents")


async def download(request: Request) -> Response:
    caller = await _citizen(request)
    public_id, attachment_id = request.path_params["public_id"], request.path_params["attachment_id"]
    service = _service(request)
    attachment, data = await database_of(request).run(lambda: service.download(caller, public_id, attachment_id))
    return download_response(data, attachment.content_type, attachment.filename)


# A submitted request -------------------------------------------------------------------------


def _history(case: CitizenCase, locale: str) -> list[dict[str, Any]]:
    workflow = case.rules.definition.workflow
    lines = []
    for event in case.events:
        lines.append(
            {
                "event": event,
                "when": when(event.at, locale),
                "by_citizen": event.actor_role == "citizen",
                "staff": case.staff_names.get(event.staff_id) if event.staff_id else None,
                "to_label": state_label(workflow, event.to_status, locale),
                "reason": _reason_label(workflow, event, locale),
            }
        )
    return lines


def _reason_label(workflow: Workflow, event: RequestEvent, locale: str) -> str | None:
    if not event.reason:
        return None
    transition = workflow.transition(event.transition or "")
    choices = {choice.value: choice.label(locale) for choice in transition.reasons} if transition else {}
    return choices.get(event.reason, event.reason)


def _as_filed(case: CitizenCase, locale: str) -> list[tuple[str, str]]:
    """The form as filed, in words: choices by their label, fields that did not apply left out."""
    values = answers_of(case.request.data)
    lines = []
    for form_field in case.rules.form:
        if not form_field.applies(values) or form_field.kind == "document":
            continue  # a document field's file is listed with the attachments
        text = answer_text(form_field, values.get(form_field.name))(locale)
        lines.append((form_field.label(locale), text or NOT_FILLED(locale)))
    return lines


def _last_question(events: Sequence[RequestEvent]) -> str | None:
    asked = [event for event in events if event.kind == "correction-asked"]
    return asked[-1].body if asked else None


def _case_page(
    request: Request,
    case: CitizenCase,
    *,
    notice: Localized | None = None,
    message_text: str = "",
    message_error: Localized | None = None,
    correction_values: PostedForm | None = None,
    correction_errors: Sequence[FieldError] = (),
    upload_error: tuple[str, Localized] | None = None,
    status_code: int = 200,
) -> Response:
    locale = choose_locale(request)
    row, definition = case.request, case.rules.definition
    values = answers_of(row.data)
    labels = {form_field.name: form_field.label(locale) for form_field in case.rules.form}
    summary = _summary(correction_errors, labels)
    if message_error is not None:
        summary.append({"href": "#nouveau-message", "label": MESSAGE_LABEL(locale), "message": message_error})
    if upload_error is not None:
        summary.append({"href": "#fichier-complement", "label": "", "message": upload_error[1]})
    documents = [spec for spec in definition.documents if spec.applies(values)] + [EXTRA_DOCUMENT]
    context = {
        **_common(request, case),
        "history": _history(case, locale),
        "as_filed": _as_filed(case, locale),
        "decided": case.decided,
        "withdrawn": row.status == "withdrawn",
        "question": _last_question(case.events) if row.awaiting_citizen else None,
        "values": shown_values(case.rules.form, correction_values if correction_values is not None else row.data),
        "field_errors": first_errors(correction_errors),
        "summary": summary,
        "message_text": message_text,
        "message_error": message_error,
        "upload_error": upload_error[1] if upload_error else None,
        "upload_documents": documents,
        "upload_accept": sorted({content_type for spec in documents for content_type in spec.accept}),
        "document_label": lambda name: _document_label(case, name),
        "notice": notice,
        "family_links": [
            {
                "reference": other.reference,
                "href": f"/mes-demandes/{other.public_id}",
                "status": state_label(definition.workflow, other.status, locale),
            }
            for other in case.family
        ],
    }
    return render(request, "requests/citizen_request.html", context, status_code=status_code)


async def receipt(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    case = await _case(request, caller, public_id)
    if case.request.is_draft:
        return _back(public_id)
    rules = case.rules
    context = {
        **_common(request, case),
        "initial_label": state_label(
            rules.definition.workflow, rules.definition.workflow.initial, choose_locale(request)
        ),
        "retention_days": rules.commune.retention_days(rules.definition),
        "family_links": [
            {
                "reference": other.reference,
                "href": f"{BASE}/{other.public_id}",
                "status": state_label(rules.definition.workflow, other.status, choose_locale(request)),
            }
            for other in case.family
            if not other.is_draft
        ],
    }
    return render(request, "requests/citizen_receipt.html", context)


async def message(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    async with request.form() as form:
        body = form.get("message")
    text = body if isinstance(body, str) else ""
    service = _service(request)
    try:
        await database_of(request).run(lambda: service.message(caller, public_id, text))
    except InvalidInput as invalid:
        case = await _case(request, caller, public_id)
        return _case_page(request, case, message_text=text, message_error=invalid.reason, status_code=422)
    return _back(public_id, "message", "#historique")


async def correct(request: Request) -> Response:
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    raw = await _posted(request)
    service = _service(request)
    _row, errors = await database_of(request).run(lambda: service.correct(caller, public_id, raw))
    if errors:
        case = await _case(request, caller, public_id)
        return _case_page(request, case, correction_values=raw, correction_errors=errors, status_code=422)
    return _back(public_id, "correction", "#historique")


async def withdraw(request: Request) -> Response:
    """A confirmation page first (GET), then the withdrawal itself (POST)."""
    caller = await _citizen(request)
    public_id = request.path_params["public_id"]
    if request.method == "POST":
        service = _service(request)
        await database_of(request).run(lambda: service.withdraw(caller, public_id))
        return _back(public_id, "retrait")
    case = await _case(request, caller, public_id)
    if case.request.is_draft:
        return _back(public_id)
    if case.decided:
        raise ActionNotAllowed(ALREADY_DECIDED)
    return render(request, "requests/citizen_withdraw.html", _common(request, case))


def routes() -> list[BaseRoute]:
    item = BASE + "/{public_id}"
    return [
        Route(BASE, my_requests, name="my_requests"),
        Route(item, request_page, methods=["GET", "POST"], name="my_request"),
        Route(item + "/recu", receipt, name="my_request_receipt"),
        Route(item + "/supprimer", discard, methods=["POST"], name="my_request_discard"),
        Route(item + "/membres", add_member, methods=["POST"], name="my_request_add_member"),
        Route(item + "/documents", upload, methods=["POST"], name="my_request_upload"),
        Route(item + "/documents/{attachment_id}", download, name="my_request_download"),
        Route(item + "/documents/{attachment_id}/supprimer", detach, methods=["POST"], name="my_request_detach"),
        Route(item + "/message", message, methods=["POST"], name="my_request_message"),
        Route(item + "/correction", correct, methods=["POST"], name="my_request_correction"),
        Route(item + "/retrait", withdraw, methods=["GET", "POST"], name="my_request_withdraw"),
    ]
