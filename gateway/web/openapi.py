"""OpenAPI declarations an endpoint makes about itself, for pages and API alike.

An API endpoint declares its operation with ``@operation(...)``;
:mod:`gateway.api.openapi_document` gathers the declarations into the
document. Declaring lives here, below both ``pages`` and ``api``, so that
whatever answers JSON can describe itself without importing the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OPENAPI_ATTRIBUTE = "__openapi__"


def operation(**spec: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach an OpenAPI operation object (for every method of the route) to an endpoint."""

    def attach(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        setattr(endpoint, OPENAPI_ATTRIBUTE, spec)
        return endpoint

    return attach


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


#: a download whose stored bytes are gone or changed since the upload: never served
UNREADABLE = problem_response(
    "The file's stored bytes are missing or changed since it was stored "
    "(`urn:guichet:problem:document-unreadable`); nothing is served and nothing else changed."
)


#: the header a 429 or 503 answer carries: seconds to wait before trying again
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def throttled_response(description: str) -> dict[str, Any]:
    """A 429: an RFC 9457 problem and the ``Retry-After`` header saying when to try again."""
    return {**problem_response(description), "headers": RETRY_AFTER_HEADER}


def _json_content(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def json_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _json_content(schema)}


def json_body(schema: str) -> dict[str, Any]:
    """A required JSON request body of the named component schema."""
    return {"required": True, "content": _json_content(schema)}


def file_response(description: str, media_type: str) -> dict[str, Any]:
    """A response whose body is a file to download, not JSON."""
    return {"description": description, "content": {media_type: {}}}


#: the optional header that makes a creation safe to retry
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 64},
}


def text_response(description: str) -> dict[str, Any]:
    """A plain-text response (a signed note, a key), not JSON."""
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema that also takes the empty value, which means "not given" (as a GET form sends it)."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
