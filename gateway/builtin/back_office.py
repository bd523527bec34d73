"""The agents' back-office pages: queues, a request's file, transitions, notes, exports, counter filing.

Registered as a default plugin through ``guichet_routes``. Every page needs a
staff session past both factors; which communes, services and actions an
agent reaches is decided by the back office (:mod:`gateway.requests.backoffice`),
which records refusals and every view of personal data in the audit log. A
refused action re-renders the file with the reason and what the agent typed,
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from email_validator import EmailNotValidError, validate_email
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import hookimpl
from gateway.communes import Commune
from gateway.identity.access import refuse_citizens, require_staff, require_staff_session
from gateway.models import ServiceRequest
from gateway.requests.backoffice.commands import BackOfficeCommands, BulkOutcome
from gateway.requests.backoffice.queries import AgentCase, BackOfficeQueries, QueueFilter
from gateway.requests.caller import Caller
from gateway.requests.clock import aware
from gateway.requests.errors import ActionNotAllowed, InvalidInput, StaleRequest
from gateway.requests.filing import Filed
from gateway.requests.forms import BAD_EMAIL, check_form
from gateway.requests.rules import ServiceRules, rules_for
from gateway.requests.submission_keys import key_from_form, new_submission_key
from gateway.requests.text import form_strings
from gateway.services import FieldError, FormField, Localized, ServiceDefinition
from gateway.web.callers import caller_of
from gateway.web.downloads import download_response
from gateway.web.errors import PageError
from gateway.web.form_hints import first_errors, form_hints
from gateway.web.i18n import choose_locale
from gateway.web.lookups import commune_or_404, enabled_service_or_404, registry_of
from gateway.web.templating import render

PARIS = ZoneInfo("Europe/Paris")
PER_PAGE = 50
SEARCH_MAX = 60
OLDER_MAX = 3650
RECEIPT_EMAIL = "counter_receipt_email"
#: what re-rendered forms keep of what the agent typed
KEPT = ("comment", "reason", "body", "assignee")

BAD_FILTER = Localized(
    "Un des filtres de la file n'est pas valable : corrigez-le ou réinitialisez les filtres.",
    "One of the queue's filters is not valid: correct it or reset the filters.",
)
NO_SELECTION = Localized("Cochez au moins une demande dans la liste.", "Tick at least one request in the list.")
NO_ACTION = Localized("Choisissez l'action à appliquer.", "Choose the action to apply.")
BAD_ASSIGNEE = Localized("Choisissez une personne dans la liste.", "Choose a person from the list.")
WRONG_SERVICE = Localized(
    "Cette demande ne relève pas de cette démarche.", "This request does not belong to this service."
)
SAVED = {
    "transition": Localized("L'action a été enregistrée.", "The action was recorded."),
    "attribution": Localized("L'attribution a été enregistrée.", "The assignment was recorded."),
    "note": Localized("La note interne a été ajoutée.", "The internal note was added."),
    "message": Localized("Le message a été envoyé à l'usager.", "The message was sent to the citizen."),
    "complement": Localized(
        "La demande de complément a été envoyée à l'usager.", "The request for more was sent to the citizen."
    ),
}


# Who is asking -----------------------------------------------------------------------


def _queries(request: Request) -> BackOfficeQueries:
    queries: BackOfficeQueries | None = getattr(request.app.state, "back_office_queries", None)
    if queries is None:
        queries = BackOfficeQueries(request.app.state.db, registry_of(request))
        request.app.state.back_office_queries = queries
    return queries


def _commands(request: Request) -> BackOfficeCommands:
    commands: BackOfficeCommands | None = getattr(request.app.state, "back_office_commands", None)
    if commands is None:
        commands = BackOfficeCommands(request.app.state.db, registry_of(request))
        request.app.state.back_office_commands = commands
    return commands


async def _agent(request: Request) -> tuple[Caller, Commune]:
    """A staff member past both factors (citizens refused and recorded), and the commune the URL names."""
    await refuse_citizens(request, "agent", commune=request.path_params.get("commune"))
    require_staff_session(request)
    commune = commune_or_404(request)
    return await caller_of(request), commune


async def _run(request: Request, work: Callable[[], Any]) -> Any:
    return await request.app.state.db.run(work)


def _when(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return ""
    pattern = "d MMMM y 'à' HH:mm" if locale == "fr" else "d MMMM y, HH:mm"
    return format_datetime(aware(moment), pattern, tzinfo=PARIS, locale=locale)


def _day(moment: datetime | None, locale: str) -> str:
    shown = aware(moment)
    return format_date(shown.astimezone(PARIS).date(), "d MMM y", locale=locale) if shown else ""


def _age_days(moment: datetime | None, today: date) -> int | None:
    shown = aware(moment)
    return (today - shown.astimezone(PARIS).date()).days if shown else None


def _definition(request: Request, key: str) -> ServiceDefinition | None:
    provided = registry_of(request).services.get(key)
    return provided.definition if provided is not None else None


def _status_label(request: Request, row: ServiceRequest) -> Localized:
    definition = _definition(request, row.service)
    if definition is None:
        return Localized(row.status)
    try:
        return definition.workflow.state(row.status).label
    except KeyError:
        return Localized(row.status)


# The queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueChoices:
    """What the filter and bulk forms offer: the agent's services, their states, their transitions."""

    services: list[tuple[str, Localized]]
    states: list[tuple[str, Localized]]
    transitions: list[tuple[str, Localized]]
    reasons: list[tuple[Localized, list[tuple[str, Localized]]]]
    counter: list[tuple[str, Localized]]


def _choices(request: Request, caller: Caller, commune: Commune) -> QueueChoices:
    office = _queries(request)
    principal = caller.principal
    readable = office.services_for(principal, commune) if principal is not None else []
    acting = office.services_for(principal, commune, level="instructor") if principal is not None else []
    services: list[tuple[str, Localized]] = []
    counter: list[tuple[str, Localized]] = []
    states: dict[str, Localized] = {}
    transitions: dict[str, Localized] = {}
    reasons: dict[str, tuple[Localized, dict[str, Localized]]] = {}
    for key in readable:
        definition = _definition(request, key)
        if definition is None:
            continue
        services.append((key, definition.title))
        for state in definition.workflow.states:
            states.setdefault(state.name, state.label)
        if key not in acting:
            continue
        counter.append((key, definition.title))
        for transition in definition.workflow.transitions:
            transitions.setdefault(transition.name, transition.label)
            if transition.reasons:
                group = reasons.setdefault(transition.name, (transition.label, {}))[1]
                for choice in transition.reasons:
                    group.setdefault(choice.value, choice.label)
    states.setdefault("withdrawn", Localized("Retirée", "Withdrawn"))
    return QueueChoices(
        services,
        list(states.items()),
        list(transitions.items()),
        [(label, list(group.items())) for label, group in reasons.values()],
        counter,
    )


def _queue_filter(request: Request, choices: QueueChoices) -> QueueFilter:
    """The GET form's filters, checked: an unknown value is a 400 page, not a silently wider list."""
    query = request.query_params
    service = query.get("service", "") or None
    status: str | None = query.get("status", "open")
    if status in ("", "all"):
        status = None
    known = {"open", "decided"} | {name for name, _label in choices.states}
    assigned = query.get("assigned", "") or None
    awaiting = {"": None, "yes": True, "no": False}.get(query.get("awaiting", ""), "bad")
    text = query.get("q", "").strip()
    older, page = query.get("older", "").strip(), query.get("page", "1").strip()
    if (
        (status is not None and status not in known)
        or assigned not in (None, "me", "none")
        or awaiting == "bad"
        or len(text) > SEARCH_MAX
        or (older and not (older.isdigit() and 0 < int(older) <= OLDER_MAX))
        or not (page.isdigit() and 0 < int(page) < 100000)
    ):
        raise PageError(400, BAD_FILTER)
    return QueueFilter(
        service=service,
        status=status,
        assigned=assigned,
        awaiting=awaiting if isinstance(awaiting, bool) else None,
        q=text or None,
        older_than_days=int(older) if older else None,
        page=int(page),
        per_page=PER_PAGE,
    )


def _filter_query(request: Request, **changes: str) -> str:
    """The current filters as a query string (page left out unless given)."""
    names = ("service", "status", "assigned", "awaiting", "q", "older")
    values = {name: request.query_params[name] for name in names if request.query_params.get(name)}
    if "status" in request.query_params and not request.query_params["status"]:
        values["status"] = "all"
    values.update(changes)
    return urlencode(values)


async def queue_page(request: Request) -> Response:
    caller, commune = await _agent(request)
    choices = _choices(request, caller, commune)
    wanted = _queue_filter(request, choices)
    office = _queries(request)
    page = await _run(request, lambda: office.queue(caller, commune.slug, wanted))
    locale = choose_locale(request)
    today = datetime.now(UTC).astimezone(PARIS).date()
    titles = dict(choices.services)
    rows = [
        {
            "reference": row.reference,
            "service": titles.get(row.service, Localized(row.service)),
            "status": _status_label(request, row),
            "submitted": _day(row.submitted_at, locale),
            "age": _age_days(row.submitted_at, today),
            "assignee": page.staff_names.get(row.assigned_to or 0, ""),
            "awaiting": row.awaiting_citizen,
            "summary": row.summary or "",
        }
        for row in page.rows
    ]
    pages = max(1, -(-page.total // page.per_page))
    context = {
        "commune": commune,
        "rows": rows,
        "total": page.total,
        "page": page.page,
        "pages": pages,
        "choices": choices,
        "wanted": wanted,
        "status_value": "all" if wanted.status is None else wanted.status,
        "awaiting_value": {True: "yes", False: "no", None: ""}[wanted.awaiting],
        "older_value": wanted.older_than_days or "",
        "previous_link": f"?{_filter_query(request, page=str(page.page - 1))}" if page.page > 1 else None,
        "next_link": f"?{_filter_query(request, page=str(page.page + 1))}" if page.page < pages else None,
        "csv_link": f"/agents/{commune.slug}/demandes.csv?{_filter_query(request)}",
    }
    return render(request, "agents/queue.html", context)


async def export_csv(request: Request) -> Response:
    caller, commune = await _agent(request)
    wanted = _queue_filter(request, _choices(request, caller, commune))
    office = _queries(request)
    text = await _run(request, lambda: office.export_csv(caller, commune.slug, wanted))
    filename = f"demandes-{commune.slug}-{datetime.now(UTC).astimezone(PARIS):%Y-%m-%d}.csv"
    return download_response(text, "text/csv; charset=utf-8", filename)


async def bulk_transition(request: Request) -> Response:
    caller, commune = await _agent(request)
    async with request.form() as form:
        references = [str(value) for value in form.getlist("references") if isinstance(value, str) and value]
        name, comment, reason = (str(form.get(key, "")) for key in ("transition", "comment", "reason"))
    error = NO_SELECTION if not references else NO_ACTION if not name else None
    outcomes: list[BulkOutcome] = []
    if error is None:
        office = _commands(request)
        outcomes = await _run(
            request,
            lambda: office.bulk_transition(caller, commune.slug, references, name, comment=comment, reason=reason),
        )
    label = dict(_choices(request, caller, commune).transitions).get(name, Localized(name))
    context = {"commune": commune, "outcomes": outcomes, "error": error, "action": label}
    return render(request, "agents/bulk_result.html", context, status_code=422 if error else 200)


# A request's file ----------------------------------------------------------------------


def _field_value(form_field: FormField, value: object) -> Localized:
    text = value if isinstance(value, str) else ""
    for choice in form_field.choices:
        if choice.value == text:
            return choice.label
    return Localized(text)


def _case_context(request: Request, case: AgentCase) -> dict[str, Any]:
    locale = choose_locale(request)
    row, definition = case.request, case.rules.definition
    workflow = definition.workflow
    fields = {form_field.name: form_field for form_field in case.rules.form}
    data = [
        (form_field.label, _field_value(form_field, row.data.get(form_field.name)))
        for form_field in case.rules.form
        if form_field.applies({k: v for k, v in row.data.items() if isinstance(v, str)})
    ]
    data += [(Localized(key), Localized(str(value))) for key, value in row.data.items() if key not in fields]

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
    case: AgentCase = await _run(request, lambda: office.case(caller, commune.slug, reference))
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
    value = typed.get("version", "")
    return int(value) if value.isdigit() and len(value) < 10 else -1


def _assignee(caller: Caller, value: str) -> int | None:
    if value == "nobody":
        return None
    if value == "me" and caller.staff_id is not None:
        return caller.staff_id
    if value.isdigit() and len(value) < 10:
        return int(value)
    raise InvalidInput(BAD_ASSIGNEE)


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
            await _run(request, lambda: action(office, caller, commune.slug, reference, typed))
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
        comment=typed.get("comment", ""), reason=typed.get("reason", ""),
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
    attachment, data = await _run(request, lambda: office.download(caller, commune.slug, reference, attachment_id))
    return download_response(data, attachment.content_type, attachment.filename)


async def download_all(request: Request) -> Response:
    caller, commune = await _agent(request)
    reference = request.path_params["reference"]
    office = _queries(request)
    filename, data = await _run(request, lambda: office.archive(caller, commune.slug, reference))
    return download_response(data, "application/zip", filename)


# Filing at the counter -----------------------------------------------------------------


async def _counter_service(request: Request) -> tuple[Caller, Commune, str]:
    caller, commune = await _agent(request)
    key = enabled_service_or_404(request, commune)
    await require_staff(request, "agent", commune=commune.slug, service=key, level="instructor")
    return caller, commune, key


def _counter_form(
    request: Request,
    rules: ServiceRules,
    values: Mapping[str, str],
    errors: Sequence[FieldError],
    submission_key: str,
    *,
    status_code: int = 200,
) -> Response:
    commune, provided, form = rules.commune, rules.provided, rules.form
    locale = choose_locale(request)
    field_errors = first_errors(errors)
    labels = {form_field.name: form_field.label(locale) for form_field in form}
    labels[RECEIPT_EMAIL] = Localized("Adresse électronique de l'usager", "The citizen's e-mail address")(locale)
    for spec in provided.definition.documents:
        labels[f"document:{spec.name}"] = spec.label(locale)
    context = {
        "commune": commune,
        "service": provided.definition,
        "form": form,
        "values": values,
        "errors": errors,
        "field_errors": field_errors,
        "labels": labels,
        "submission_key": submission_key,
        "receipt_email": RECEIPT_EMAIL,
        **form_hints(form, locale),
    }
    return render(request, "agents/counter_form.html", context, status_code=status_code)


async def counter_filing(request: Request) -> Response:
    caller, commune, key = await _counter_service(request)
    rules = rules_for(registry_of(request), commune, key)
    if request.method == "GET":
        return _counter_form(request, rules, {}, [], new_submission_key())
    documents: dict[str, tuple[str, bytes]] = {}
    async with request.form() as form:
        raw = form_strings(form.items())
        for name, value in form.items():
            if isinstance(value, UploadFile) and name.startswith("document:") and (value.filename or value.size):
                documents[name.removeprefix("document:")] = (value.filename or "", await value.read())
    submission_key = key_from_form(raw.pop("submission_key", ""))
    email = raw.get(RECEIPT_EMAIL, "").strip()
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors = [FieldError(RECEIPT_EMAIL, BAD_EMAIL), *check_form(rules.form, raw)[1]]
            return _counter_form(request, rules, raw, errors, submission_key, status_code=422)
    office = _commands(request)
    fields_only = {name: value for name, value in raw.items() if name != RECEIPT_EMAIL}
    filed: Filed = await _run(
        request,
        lambda: office.file_for_citizen(
            caller,
            rules,
            fields_only,
            submission_key=submission_key,
            citizen_email=email or None,
            documents=documents,
        ),
    )
    if filed.errors:
        return _counter_form(request, rules, raw, filed.errors, submission_key, status_code=422)
    assert filed.request is not None and filed.request.reference is not None
    target = f"/agents/{commune.slug}/guichet/{key}/recu/{quote(filed.request.reference)}"
    return RedirectResponse(target, status_code=303)


async def counter_receipt(request: Request) -> Response:
    caller, commune = await _agent(request)
    key = enabled_service_or_404(request, commune)
    office = _queries(request)
    case: AgentCase = await _run(request, lambda: office.case(caller, commune.slug, request.path_params["reference"]))
    if case.request.service != key:
        raise PageError(404, WRONG_SERVICE)
    context = _case_context(request, case) | {"commune": commune}
    return render(request, "agents/counter_receipt.html", context)


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    file = "/agents/{commune}/demandes/{reference}"
    return [
        Route("/agents/{commune}/demandes", queue_page, name="agents_queue"),
        Route("/agents/{commune}/demandes.csv", export_csv, name="agents_queue_csv"),
        Route("/agents/{commune}/demandes/lot", bulk_transition, methods=["POST"], name="agents_bulk"),
        Route(file, case_page, name="agents_case"),
        Route(f"{file}/transition", _acting("transition", _transition), methods=["POST"], name="agents_transition"),
        Route(f"{file}/attribution", _acting("attribution", _assign), methods=["POST"], name="agents_assign"),
        Route(f"{file}/note", _acting("note", _note), methods=["POST"], name="agents_note"),
        Route(f"{file}/message", _acting("message", _message), methods=["POST"], name="agents_message"),
        Route(f"{file}/complement", _acting("complement", _complement), methods=["POST"], name="agents_complement"),
        Route(f"{file}/documents.zip", download_all, name="agents_documents_zip"),
        Route(f"{file}/documents/{{attachment}}", download, name="agents_document"),
        Route("/agents/{commune}/guichet/{service}", counter_filing, methods=["GET", "POST"], name="agents_counter"),
        Route("/agents/{commune}/guichet/{service}/recu/{reference}", counter_receipt, name="agents_counter_receipt"),
    ]
