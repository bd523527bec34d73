"""Filing at the counter: an agent files a request for a citizen who cannot do it alone, then shows the receipt.

Registered, with the other agents' pages, by the default plugin
:mod:`gateway.builtin.back_office`. The API's twin is ``fileAssistedRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.communes import Commune
from gateway.pages.agent_pages import _agent, _commands, _queries
from gateway.pages.agent_request_pages import _case_context
from gateway.requests.backoffice.queries import AgentCase
from gateway.requests.caller import Caller
from gateway.requests.filing import Filed
from gateway.requests.forms import BAD_EMAIL, check_form
from gateway.requests.posted import PostedForm
from gateway.requests.rules import ServiceRules, rules_for
from gateway.requests.submission_keys import key_from_form, new_submission_key
from gateway.services import FieldError, Localized
from gateway.web.access import require_staff
from gateway.web.errors import PageError
from gateway.web.form_hints import first_errors, form_hints
from gateway.web.form_values import shown_values
from gateway.web.i18n import choose_locale
from gateway.web.lookups import database_of, enabled_service_or_404, registry_of
from gateway.web.templating import render

RECEIPT_EMAIL = "counter_receipt_email"

WRONG_SERVICE = Localized(
    "Cette demande ne relève pas de cette démarche.", "This request does not belong to this service."
)


async def _counter_service(request: Request) -> tuple[Caller, Commune, str]:
    caller, commune = await _agent(request)
    key = enabled_service_or_404(request, commune)
    await require_staff(request, "agent", commune=commune.slug, service=key, level="instructor")
    return caller, commune, key


def _counter_form(
    request: Request,
    rules: ServiceRules,
    answers: Mapping[str, Any],
    errors: Sequence[FieldError],
    submission_key: str,
    *,
    status_code: int = 200,
) -> Response:
    commune, form = rules.commune, rules.form
    locale = choose_locale(request)
    field_errors = first_errors(errors)
    labels = {form_field.name: form_field.label(locale) for form_field in form}
    labels[RECEIPT_EMAIL] = Localized("Adresse électronique de l'usager", "The citizen's e-mail address")(locale)
    for spec in rules.definition.documents:
        labels[f"document:{spec.name}"] = spec.label(locale)
    context = {
        "commune": commune,
        "service": rules.definition,
        "form": form,
        "values": shown_values(form, answers),
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
        raw = PostedForm.from_items(form.multi_items())
        for name, value in form.items():
            if isinstance(value, UploadFile) and name.startswith("document:") and (value.filename or value.size):
                documents[name.removeprefix("document:")] = (value.filename or "", await value.read())
    submission_key = key_from_form(raw.pop_text("submission_key"))
    email = raw.text(RECEIPT_EMAIL).strip()
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors = [FieldError(RECEIPT_EMAIL, BAD_EMAIL), *check_form(rules.form, raw)[1]]
            return _counter_form(request, rules, raw, errors, submission_key, status_code=422)
    office = _commands(request)
    fields_only = PostedForm(raw)
    fields_only.pop(RECEIPT_EMAIL, None)
    filed: Filed = await database_of(request).run(
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
    case: AgentCase = await database_of(request).run(
        lambda: office.case(caller, commune.slug, request.path_params["reference"])
    )
    if case.request.service != key:
        raise PageError(404, WRONG_SERVICE)
    context = _case_context(request, case) | {"commune": commune}
    return render(request, "agents/counter_receipt.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/agents/{commune}/guichet/{service}", counter_filing, methods=["GET", "POST"], name="agents_counter"),
        Route("/agents/{commune}/guichet/{service}/recu/{reference}", counter_receipt, name="agents_counter_receipt"),
    ]
