"""The OpenAPI 3.1 document, built from the routes themselves.

Each API endpoint carries its operation (``@operation(...)``); the document
lists every route that has one, so a route cannot be served without being
described (a test checks that every ``/api/`` route is in the document).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

import gateway

OPENAPI_ATTRIBUTE = "__openapi__"
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


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


def json_response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def build_document(routes: Iterable[BaseRoute], *, title: str, server: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        spec = getattr(route.endpoint, OPENAPI_ATTRIBUTE, None)
        if spec is None:
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(route.path)
        ]
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operation_spec = dict(spec)
            if params:
                operation_spec["parameters"] = [*params, *operation_spec.get("parameters", [])]
            paths.setdefault(path, {})[method.lower()] = operation_spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": gateway.__version__, "description": "Guichet JSON API, version 1."},
        "servers": [{"url": server}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A staff member's personal API token."}
            },
        },
    }


_LOCALIZED = {
    "type": "object",
    "required": ["fr", "en"],
    "properties": {"fr": {"type": "string"}, "en": {"type": "string"}},
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "detail"],
                    "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
                },
            },
        },
    },
    "Localized": _LOCALIZED,
    "Commune": {
        "type": "object",
        "required": ["slug", "name", "insee", "department", "address", "contact", "services"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "insee": {"type": "string"},
            "department": {"type": "string"},
            "seat": {"type": "boolean"},
            "address": {
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "postcode": {"type": "string"},
                    "city": {"type": "string"},
                },
            },
            "contact": {
                "type": "object",
                "properties": {
                    "email": {"type": "string"},
                    "phone": {"type": "string"},
                    "opening_hours": {"type": ["string", "null"]},
                },
            },
            "services": {"type": "array", "items": {"type": "string"}},
        },
    },
    "CommuneList": {
        "type": "object",
        "required": ["communes"],
        "properties": {"communes": {"type": "array", "items": {"$ref": "#/components/schemas/Commune"}}},
    },
    "Service": {
        "type": "object",
        "required": ["key", "available"],
        "properties": {
            "key": {"type": "string"},
            "available": {"type": "boolean"},
            "title": {"$ref": "#/components/schemas/Localized"},
            "description": {"$ref": "#/components/schemas/Localized"},
        },
    },
    "ServiceList": {
        "type": "object",
        "required": ["services"],
        "properties": {"services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}},
    },
    "FormField": {
        "type": "object",
        "required": ["name", "kind", "required", "label"],
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["text", "textarea", "email", "tel", "date", "select"]},
            "required": {"type": "boolean"},
            "max_length": {"type": "integer"},
            "label": {"$ref": "#/components/schemas/Localized"},
            "help": {"oneOf": [{"$ref": "#/components/schemas/Localized"}, {"type": "null"}]},
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"value": {"type": "string"}, "label": {"$ref": "#/components/schemas/Localized"}},
                },
            },
        },
    },
    "ServiceDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Service"},
            {
                "type": "object",
                "properties": {
                    "purpose": {"$ref": "#/components/schemas/Localized"},
                    "form": {"type": "array", "items": {"$ref": "#/components/schemas/FormField"}},
                },
            },
        ]
    },
    "NewRequest": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "RequestReceipt": {
        "type": "object",
        "required": ["reference", "commune", "service", "status", "created_at"],
        "properties": {
            "reference": {"type": "string"},
            "commune": {"type": "string"},
            "service": {"type": "string"},
            "status": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "AuditEntry": {
        "type": "object",
        "description": "One audit entry's fields (see docs/audit_format.md).",
        "required": ["seq", "time", "action", "outcome", "actor_id", "actor_role"],
        "properties": {
            "seq": {"type": "integer"},
            "time": {"type": "string"},
            "action": {"type": "string"},
            "outcome": {"type": "string"},
            "actor_id": {"type": "string"},
            "actor_role": {"type": "string"},
            "commune": {"type": ["string", "null"]},
            "service": {"type": ["string", "null"]},
            "resource": {"type": "string"},
            "subject": {"type": ["string", "null"]},
            "purpose": {"type": "string"},
            "origin": {"type": "string"},
        },
    },
    "AuditEntries": {
        "type": "object",
        "required": ["entries"],
        "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}},
    },
    "AuditEntryProof": {
        "type": "object",
        "required": ["entry", "text"],
        "properties": {
            "entry": {"$ref": "#/components/schemas/AuditEntry"},
            "text": {"type": "string", "description": "the exact entry text hashed into the tree"},
            "proof": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "checkpoint": {"type": "string"},
                            "tree_size": {"type": "integer"},
                            "inclusion_proof": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ]
            },
        },
    },
    "AccessLog": {
        "type": "object",
        "required": ["accesses"],
        "properties": {
            "accesses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string"}
                        for name in ("time", "commune", "service", "who", "what", "purpose", "outcome")
                    },
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}, "detail": {"type": "string"}},
    },
}
