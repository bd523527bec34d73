"""Issued documents in the JSON API: the public check by code, and every commune's verifier keys.

The twin of :mod:`gateway.pages.issued_document_pages`: the same check
(:class:`gateway.requests.document_check.DocumentCheck`, throttled and
recorded in the person's access log) and the same keys, for a school's own
software. No sign-in.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api.request_input import JSON_BODY_ERRORS, answers_shape_errors, read_body
from gateway.requests.document_check import CheckedDocument, DocumentCheck
from gateway.requests.signing_keys import published_listing
from gateway.web.lookups import database_of, registry_of, request_origin
from gateway.web.openapi import operation, problem_response, throttled_response

PREFIX = "/api/v1/documents"
_TEXT = {"type": "string"}
_BOTH = {"type": "object", "required": ["fr", "en"], "properties": {"fr": _TEXT, "en": _TEXT}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_KEY = {
    "type": "object",
    "required": ["commune", "key_id", "algorithm", "public_key", "current"],
    "properties": {"commune": _TEXT, "key_id": _TEXT, "algorithm": {"const": "Ed25519"},
                   "public_key": {**_TEXT, "description": "the raw 32-byte key, base64url"},
                   "current": {"type": "boolean", "description": "false: retired, kept to check older documents"}},
}  # fmt: skip
_KEYS = {
    "type": "object",
    "required": ["communes"],
    "properties": {"communes": {"type": "array", "items": {
        "type": "object", "required": ["slug", "name", "keys"],
        "properties": {"slug": _TEXT, "name": _TEXT, "keys": {"type": "array", "items": _KEY}},
    }}},
}  # fmt: skip
_CHECKED = {
    "type": "object",
    "required": ["commune", "number", "title", "issued_at", "fields", "revoked"],
    "properties": {
        "commune": _TEXT, "number": _TEXT, "title": _BOTH, "issued_at": {**_TEXT, "format": "date-time"},
        "fields": {"type": "array", "items": {"type": "object", "required": ["label", "value"],
                                              "properties": {"label": _BOTH, "value": _TEXT}}},
        "revoked": {"type": "boolean"},
    },
}  # fmt: skip
_CODE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["code"], "additionalProperties": False,
        "properties": {"code": {**_TEXT, "maxLength": 40, "description": "as printed: 7K2M-Q9XH-4TC"}},
    }}},
}  # fmt: skip


@operation(
    summary="Every commune's verifier keys for issued documents",
    operationId="listDocumentKeys",
    responses={"200": _json("Current and retired Ed25519 keys, per commune.", _KEYS)},
)
async def list_keys(request: Request) -> Response:
    registry = registry_of(request)
    names = {slug: commune.name for slug, commune in registry.communes.items()}
    return JSONResponse(await database_of(request).run(lambda: published_listing(registry.settings, names)))


def _checked(found: CheckedDocument) -> dict[str, Any]:
    return {
        "commune": found.commune_name,
        "number": found.number,
        "title": {"fr": found.title.fr, "en": found.title("en")},
        "issued_at": found.issued_at.isoformat(),
        "fields": [{"label": {"fr": label.fr, "en": label("en")}, "value": value} for label, value in found.fields],
        "revoked": found.revoked,
    }


@operation(
    summary="Check an issued document by its verification code",
    operationId="checkDocument",
    description="Confirms only the fields the service declared confirmable. Wrong codes are counted per origin.",
    requestBody=_CODE_BODY,
    responses={
        "200": _json("The document: who issued it, when, its confirmable fields, whether revoked.", _CHECKED),
        **JSON_BODY_ERRORS,
        "400": problem_response("The body is not a JSON object, or the code is malformed (its check fails)."),
        "404": problem_response("No document has this code."),
        "429": throttled_response("Too many wrong codes from this origin; `Retry-After` says when to try again."),
    },
)
@answers_shape_errors
async def check(request: Request) -> Response:
    body = await read_body(request, "code")
    code = body.text("code", required=True, max_length=40)
    body.check()
    checker = DocumentCheck(database_of(request), registry_of(request))
    origin = request_origin(request)
    found = await database_of(request).run(lambda: checker.check(code, origin))
    return JSONResponse(_checked(found))


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/keys", list_keys, name="api_document_keys"),
        Route(f"{PREFIX}/check", check, methods=["POST"], name="api_document_check"),
    ]
