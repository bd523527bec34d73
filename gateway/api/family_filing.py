"""The filing API's ``members``: a family filed in one go (API 1.2), its shape checked, its answer a list of receipts.

``data`` holds the answers shared by every member, each item of
``members`` one member's ``per_member`` fields. Every mistake of shape is
listed at once (422, each with its JSON pointer) before anything is checked
by the service; the service's errors come back the same way,
``/data/<field>`` for a shared answer and ``/members/<index>/<field>`` for a
member's. Nothing is filed for any member unless all are.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.models import ServiceRequest
from gateway.requests.family import MemberError, is_family_service, member_fields, too_many
from gateway.requests.rules import ServiceRules
from gateway.services import Localized
from gateway.web.callers import file_family_from
from gateway.web.errors import problem
from gateway.web.i18n import choose_locale

NO_MEMBERS = Localized(
    "Cette démarche ne se dépose pas par membre : retirez « members ».",
    "This service is not filed per member: leave out 'members'.",
)
NOT_A_LIST = Localized(
    "Donnez une liste d'objets, un par membre, d'au moins un élément.",
    "Give a list of objects, one per member, with at least one item.",
)
NOT_AN_OBJECT = Localized("Chaque membre est un objet JSON.", "Each member is a JSON object.")
NOT_A_MEMBER_FIELD = Localized(
    "Ce champ n'est pas demandé pour chaque membre ; donnez-le dans « data ».",
    "This field is not asked per member; give it in 'data'.",
)
PER_MEMBER = Localized(
    "Ce champ est demandé pour chaque membre ; donnez-le dans « members ».",
    "This field is asked per member; give it in 'members'.",
)
SHAPE_TITLE = Localized("Le corps de la requête contient des erreurs.", "The request body has errors.")
FORM_TITLE = Localized("Le formulaire contient des erreurs.", "The form has errors.")

#: the OpenAPI document's schemas of a family filing: the service's member block, the receipts
FAMILY_SCHEMAS: dict[str, Any] = {
    "MemberBlock": {
        "type": "object",
        "description": "The repeated block of a family filing: its fields are the form's `per_member` ones.",
        "required": ["label", "add_label", "max_count"],
        "properties": {
            "label": {"$ref": "#/components/schemas/Localized"},
            "add_label": {"$ref": "#/components/schemas/Localized"},
            "max_count": {"type": "integer", "description": "the most items `members` may hold"},
        },
    },
    "FamilyReceipt": {
        "type": "object",
        "description": "A family filed in one go: one request per member, in the order of `members`.",
        "required": ["family_id", "requests"],
        "properties": {
            "family_id": {"type": ["string", "null"], "description": "shared by the requests; null for one member"},
            "requests": {"type": "array", "items": {"$ref": "#/components/schemas/RequestReceipt"}},
            "receipt_email": {"type": "string", "enum": ["queued", "withheld"]},
        },
    },
    "FamilyLink": {
        "type": "object",
        "description": "Another request filed with this one as a family (each has its own decision).",
        "required": ["reference", "status"],
        "properties": {
            "reference": {"type": "string"},
            "public_id": {"type": "string", "description": "the resident's own requests: its id in their addresses"},
            "status": {"type": "string"},
        },
    },
    "FiledRequests": {
        "oneOf": [{"$ref": "#/components/schemas/RequestReceipt"}, {"$ref": "#/components/schemas/FamilyReceipt"}]
    },
}


def receipt_json(row: ServiceRequest) -> dict[str, Any]:
    """One filed request as the filing API answers it."""
    return {
        "reference": row.reference,
        "commune": row.commune,
        "service": row.service,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
    }


def shape_errors(rules: ServiceRules, data: dict[str, Any], members: object) -> list[tuple[str, Localized]]:
    """Every mistake in the shape of a family filing, as (JSON pointer, message)."""
    block = rules.definition.members
    if block is None or not is_family_service(rules):
        return [("/members", NO_MEMBERS)]
    if not isinstance(members, list) or not members:
        return [("/members", NOT_A_LIST)]
    if len(members) > block.max_count:
        return [("/members", too_many(block.max_count))]
    own = {form_field.name for form_field in member_fields(rules.form)}
    errors = [(f"/data/{name}", PER_MEMBER) for name in data if name in own]
    for index, member in enumerate(members):
        if not isinstance(member, dict):
            errors.append((f"/members/{index}", NOT_AN_OBJECT))
            continue
        errors.extend((f"/members/{index}/{name}", NOT_A_MEMBER_FIELD) for name in member if name not in own)
    return errors


def _pointer(error: MemberError) -> str:
    if error.member is None:
        return f"/data/{error.error.field}" if error.error.field else ""
    return f"/members/{error.member - 1}/{error.error.field}"


async def file_family(
    request: Request, rules: ServiceRules, data: dict[str, Any], members: object, submission_key: str
) -> Response:
    """File ``members`` with the shared ``data``: 201 with every receipt, 200 on a replay, 422 with every error."""
    locale = choose_locale(request)
    wrong = shape_errors(rules, data, members)
    if wrong:
        shape = [{"field": pointer.rsplit("/", 1)[-1], "pointer": pointer, "detail": text(locale)}
                  for pointer, text in wrong]  # fmt: skip
        return problem(422, SHAPE_TITLE(locale), type_="urn:guichet:problem:invalid-body", errors=shape)
    assert isinstance(members, list)
    filed = await file_family_from(request, rules, data, members, submission_key=submission_key)
    if filed.errors:
        listed: list[dict[str, object]] = [
            {"field": error.error.field, "member": error.member, "pointer": _pointer(error),
             "detail": error.error.message(locale)}
            for error in filed.errors
        ]  # fmt: skip
        return problem(422, FORM_TITLE(locale), type_="urn:guichet:problem:validation-error", errors=listed)
    body: dict[str, Any] = {"family_id": filed.family_id, "requests": [receipt_json(row) for row in filed.requests]}
    if filed.receipt_mailed is not None:
        body["receipt_email"] = "queued" if filed.receipt_mailed else "withheld"
    return JSONResponse(body, status_code=200 if filed.replayed else 201)
