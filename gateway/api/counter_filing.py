"""Assisted filing as JSON: an agent files a request for a citizen who cannot do it alone (``fileAssistedRequest``).

The API's twin of the counter filing pages; the request is recorded as filed
by the agent, and ``citizen_email`` receives the receipt.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.agents import AGENT, NO_STAFF, READ_ONLY, _acting_agent
from gateway.api.request_input import JSON_BODY_ERRORS, answers_shape_errors, form_problem, read_body, submission_key
from gateway.api.request_json import PREFIX, iso_time
from gateway.requests.rules import rules_for
from gateway.web.lookups import database_of, enabled_service_or_404, registry_of
from gateway.web.openapi import IDEMPOTENCY_KEY, json_body, json_response, operation, problem_response


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
    filed = await database_of(request).run(
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
    return [
        Route(
            f"{communes}/services/{{service}}/assisted-requests",
            file_assisted_request,
            methods=["POST"],
            name="api_assisted_request",
        ),
    ]
