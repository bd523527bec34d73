"""JSON API v1: communes, their services, and filing a request.

Errors are RFC 9457 problem documents (see :mod:`gateway.web.errors`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.bodies import json_object
from gateway.api.family_filing import file_family, receipt_json
from gateway.api.form_schema import service_answers
from gateway.api.openapi_document import build_document
from gateway.api.request_json import both
from gateway.communes import Commune
from gateway.registry import Offer
from gateway.requests.family import is_family_service
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import SubmissionKeyTooLong, key_from_header
from gateway.services import FormField, Localized, MemberBlock
from gateway.web.callers import file_from
from gateway.web.errors import PageError, problem
from gateway.web.i18n import choose_locale
from gateway.web.lookups import commune_or_404, enabled_service_or_404, registry_of
from gateway.web.openapi import (
    IDEMPOTENCY_KEY,
    json_body,
    json_response,
    operation,
    problem_response,
    throttled_response,
)

PREFIX = "/api/v1"
NOT_FOUND = problem_response("No such commune, or the commune does not offer this service.")


def _commune(commune: Commune) -> dict[str, Any]:
    return {
        "slug": commune.slug,
        "name": commune.name,
        "insee": commune.insee,
        "department": commune.department,
        "seat": commune.seat,
        "address": {"street": commune.street, "postcode": commune.postcode, "city": commune.city},
        "contact": {"email": commune.email, "phone": commune.phone, "opening_hours": commune.opening_hours},
        "services": list(commune.services),
    }


def _offer(offer: Offer) -> dict[str, Any]:
    body: dict[str, Any] = {"key": offer.key, "available": offer.available}
    if offer.title is not None:
        body["title"] = both(offer.title)
        body["description"] = both(offer.description)
    return body


def _field(field: FormField) -> dict[str, Any]:
    return {
        "name": field.name,
        "kind": field.kind,
        "required": field.required,
        "max_length": field.max_length,
        "label": both(field.label),
        "help": both(field.help),
        "choices": [{"value": choice.value, "label": both(choice.label)} for choice in field.choices],
        "min_value": field.min_value,
        "max_value": field.max_value,
        "show_if": [field.show_if[0], list(field.show_if[1])] if field.show_if else None,
        "per_member": field.per_member,
        **({"accept": list(field.accept), "max_bytes": field.max_bytes} if field.kind == "document" else {}),
    }


@operation(
    summary="List the member communes",
    operationId="listCommunes",
    responses={"200": json_response("Every commune of the syndicate.", "CommuneList")},
)
async def list_communes(request: Request) -> Response:
    communes = sorted(registry_of(request).communes.values(), key=lambda commune: commune.slug)
    return JSONResponse({"communes": [_commune(commune) for commune in communes]})


@operation(
    summary="One commune",
    operationId="getCommune",
    responses={"200": json_response("The commune.", "Commune"), "404": NOT_FOUND},
)
async def get_commune(request: Request) -> Response:
    return JSONResponse(_commune(commune_or_404(request)))


@operation(
    summary="The services a commune enables",
    operationId="listServices",
    responses={"200": json_response("Enabled services, available or not.", "ServiceList"), "404": NOT_FOUND},
)
async def list_services(request: Request) -> Response:
    commune = commune_or_404(request)
    return JSONResponse({"services": [_offer(offer) for offer in registry_of(request).offers(commune)]})


@operation(
    summary="A service of a commune, with its form",
    operationId="getService",
    responses={
        "200": json_response("The service and the form to fill.", "ServiceDetail"),
        "404": NOT_FOUND,
        "503": problem_response("The service is temporarily unavailable."),
    },
)
async def get_service(request: Request) -> Response:
    commune = commune_or_404(request)
    key = enabled_service_or_404(request, commune)
    rules = rules_for(registry_of(request), commune, key)
    definition, form = rules.definition, rules.form
    return JSONResponse(
        {
            "key": key,
            "available": True,
            "title": both(definition.title),
            "description": both(definition.description),
            "purpose": both(definition.purpose),
            "form": [_field(field) for field in form],
            "members": _members(definition.members) if is_family_service(rules) else None,
        }
    )


def _members(block: MemberBlock | None) -> dict[str, Any] | None:
    if block is None:
        return None
    return {"label": both(block.label), "add_label": both(block.add_label), "max_count": block.max_count}


@operation(
    summary="File a request",
    operationId="fileRequest",
    description=(
        "Send an `Idempotency-Key` header (at most 64 characters) to make retries safe: "
        "the same key files one request and answers with it again. A service whose form has `per_member` fields "
        "takes `members`: one object of those fields per member; each member files a request of its own (the "
        "`data` answers copied into each), all or none, linked by one `family_id` (`FamilyReceipt`). "
        "Without an account, filings are limited "
        "per origin (429), and the receipt to the form's e-mail address is mailed only within limits per "
        "address and per origin: `receipt_email` says whether it was."
    ),
    parameters=[IDEMPOTENCY_KEY],
    requestBody=json_body("NewRequest"),
    responses={
        "201": json_response("The request (or the family's requests) was filed.", "FiledRequests"),
        "200": json_response("The same Idempotency-Key was already used: the request filed then.", "FiledRequests"),
        "400": problem_response("The body is not a JSON object with a `data` object."),
        "404": NOT_FOUND,
        "413": problem_response("The body is too large."),
        "415": problem_response("The body is not JSON."),
        "422": problem_response(
            "The form has errors; `errors` lists them field by field (for `members`, each with its JSON `pointer`, "
            "`/data/<field>` or `/members/<index>/<field>`); nothing was filed, for any member."
        ),
        "429": throttled_response(
            "Too many requests filed without an account from this origin in a short time; nothing was stored. "
            "`Retry-After` says when to try again."
        ),
        "503": problem_response("The service is temporarily unavailable; nothing was stored."),
    },
)
async def file_request_endpoint(request: Request) -> Response:
    commune = commune_or_404(request)
    key = enabled_service_or_404(request, commune)
    locale = choose_locale(request)
    body = await json_object(request)
    if not isinstance(body.get("data"), dict):
        raise PageError(400, _NO_DATA)
    raw: dict[str, Any] = body["data"]
    try:
        submission_key = key_from_header(request.headers.get("idempotency-key"))
    except SubmissionKeyTooLong:
        return problem(400, _BAD_KEY(locale), type_="urn:guichet:problem:bad-idempotency-key")
    rules = rules_for(registry_of(request), commune, key)
    if "members" in body:
        return await file_family(request, rules, raw, body["members"], submission_key)
    filed = await file_from(request, rules, raw, submission_key=submission_key)
    if filed.errors:
        return problem(
            422,
            _INVALID(locale),
            type_="urn:guichet:problem:validation-error",
            errors=[{"field": error.field, "detail": error.message(locale)} for error in filed.errors],
        )
    row = filed.request
    assert row is not None
    body = receipt_json(row)
    if filed.receipt_mailed is not None:
        body["receipt_email"] = "queued" if filed.receipt_mailed else "withheld"
    return JSONResponse(body, status_code=200 if filed.replayed else 201)


_INVALID = Localized("Le formulaire contient des erreurs.", "The form has errors.")
_BAD_KEY = Localized(
    "L'en-tête Idempotency-Key dépasse 64 caractères.", "The Idempotency-Key header is longer than 64 characters."
)
_NO_DATA = Localized(
    "Le corps doit être un objet JSON contenant un objet « data ».",
    "The body must be a JSON object holding a 'data' object.",
)


@operation(
    summary="This document", operationId="getOpenAPI", responses={"200": {"description": "OpenAPI 3.1 document."}}
)
async def openapi_document(request: Request) -> Response:
    registry = registry_of(request)
    document = build_document(
        request.app.routes,
        title=registry.settings.gateway.name,
        server=registry.settings.gateway.public_base_url,
        path_values={"commune": list(registry.communes), "service": list(registry.services)},
        answers=service_answers(registry),
    )
    return JSONResponse(document)


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", openapi_document, name="openapi"),
        Route(f"{PREFIX}/communes", list_communes, name="api_communes"),
        Route(f"{PREFIX}/communes/{{commune}}", get_commune, name="api_commune"),
        Route(f"{PREFIX}/communes/{{commune}}/services", list_services, name="api_services"),
        Route(f"{PREFIX}/communes/{{commune}}/services/{{service}}", get_service, name="api_service"),
        Route(
            f"{PREFIX}/communes/{{commune}}/services/{{service}}/requests",
            file_request_endpoint,
            methods=["POST"],
            name="api_file_request",
        ),
    ]
