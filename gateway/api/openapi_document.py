"""The OpenAPI 3.1 document, built from the routes themselves, and the component schemas it names.

Each endpoint carries its operation (``@operation(...)``, from
:mod:`gateway.web.openapi`); the document lists every route that has one, so
a route cannot be served without being described (a test checks that every
``/api/`` route is in the document).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

import gateway
from gateway.api.audit_schemas import AUDIT_SCHEMAS, AUDIT_TIMELINE_SCHEMAS
from gateway.api.family_filing import FAMILY_SCHEMAS
from gateway.api.form_schema import FORM_SCHEMAS
from gateway.api.places_schema import PLACES_SCHEMAS
from gateway.requests.text import TEXT_MAX
from gateway.web.numbers import INTEGER_MAX
from gateway.web.openapi import OPENAPI_ATTRIBUTE

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def build_document(
    routes: Iterable[BaseRoute],
    *,
    title: str,
    server: str,
    path_values: Mapping[str, Sequence[str]] | None = None,
    answers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document for ``routes``; ``path_values`` lists the values a path parameter may take (its ``enum``).

    The communes and services are known when the document is built, so it
    names them: a client (or a test generating requests from the document)
    knows which paths exist without guessing. ``answers`` are the schemas of
    each commune's service forms (``Answers.<commune>.<service>``, see
    :mod:`gateway.api.form_schema`).
    """
    path_values = path_values or {}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        spec = getattr(route.endpoint, OPENAPI_ATTRIBUTE, None)
        if spec is None:
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        params = [
            {"name": name, "in": "path", "required": True, "schema": _path_schema(path_values.get(name))}
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
            "schemas": {**SCHEMAS, "NewDraft": _new_draft(path_values), **(answers or {})},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A staff member's personal API token."},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "guichet_session",
                    "description": "A signed-in session; changes also need the `x-csrftoken` header "
                    "holding the session's CSRF token (the `csrftoken` field of any page of the same session).",
                },
            },
        },
    }


def _path_schema(values: Sequence[str] | None) -> dict[str, Any]:
    return {"type": "string", "enum": sorted(values)} if values else {"type": "string", "minLength": 1}


def _new_draft(values: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """A new draft names a commune and a service: the same values as the paths, when they are known."""
    return _closed(
        ["commune", "service"],
        {name: {"type": "string", "enum": sorted(values[name])} if values.get(name) else _SAYS
         for name in ("commune", "service")},
    )  # fmt: skip


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
    "ServiceDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Service"},
            {
                "type": "object",
                "properties": {
                    "purpose": {"$ref": "#/components/schemas/Localized"},
                    "form": {"type": "array", "items": {"$ref": "#/components/schemas/FormField"}},
                    "members": {
                        "description": "The member block of a family filing, or null (one request per filing).",
                        "oneOf": [{"$ref": "#/components/schemas/MemberBlock"}, {"type": "null"}],
                    },
                },
            },
        ]
    },
    **FORM_SCHEMAS,
    **PLACES_SCHEMAS,
    "RequestReceipt": {
        "type": "object",
        "required": ["reference", "commune", "service", "status", "created_at"],
        "properties": {
            "reference": {"type": "string"},
            "commune": {"type": "string"},
            "service": {"type": "string"},
            "status": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "receipt_email": {
                "type": "string",
                "enum": ["queued", "withheld"],
                "description": (
                    "Whether a receipt was queued to the form's e-mail address, or withheld because too many went "
                    "to that address or from this origin lately (the request is filed either way). Absent when "
                    "there is no address, and on a replay."
                ),
            },
        },
    },
    **FAMILY_SCHEMAS,
    **AUDIT_SCHEMAS,
    **AUDIT_TIMELINE_SCHEMAS,
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}, "detail": {"type": "string"}},
    },
}


# --- requests: the citizen's own (/me/requests) and the agents' casework (/communes/{commune}/requests) ---------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_FIELD_ERRORS = {"type": "array", "items": {"$ref": "#/components/schemas/Problem/properties/errors/items"}}
_STAFF_REF = _nullable(
    {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
)
_FORM_DATA = {
    "type": "object",
    "description": "field name -> answer, in its kind's type (`Answers.<commune>.<service>` describes each form)",
    "additionalProperties": {"$ref": "#/components/schemas/FieldValue"},
}
#: a text that must say something: at least one character that is not a space
_SAYS = {"type": "string", "pattern": "\\S"}
_MESSAGE = {**_SAYS, "maxLength": TEXT_MAX}
#: an optional text of a body: ``null`` is the same as leaving it out
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_COMMENT = {**_OPTIONAL_TEXT, "maxLength": TEXT_MAX}
_VERSION = {"type": "integer", "minimum": 1, "maximum": INTEGER_MAX}
_CHOICE = {"type": "object", "properties": {"value": {"type": "string"}, "label": _ref("Localized")}}


def _closed(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON body object of exactly these fields: any other is refused (422 naming it)."""
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


SCHEMAS.update(
    {
        "NewDraft": _closed(["commune", "service"], {"commune": _SAYS, "service": _SAYS}),
        "DraftData": _closed(["data"], {"data": _FORM_DATA}),
        "MessageBody": _closed(["body"], {"body": _MESSAGE}),
        "AttachmentUpload": {
            "type": "object",
            "required": ["document", "file"],
            "additionalProperties": False,
            "properties": {
                "document": {**_SAYS, "description": "the name of one of the request's documents"},
                "file": {"type": "string", "format": "binary"},
            },
        },
        "Attachment": {
            "type": "object",
            "required": ["id", "document", "filename", "content_type", "size", "sha256"],
            "properties": {
                "id": {"type": "string"},
                "document": {"type": "string"},
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
                "uploaded_by": {"type": "string"},
                "created_at": _TIME,
            },
        },
        "DocumentSpec": {
            "type": "object",
            "required": ["name", "label", "required", "accept", "max_bytes"],
            "properties": {
                "name": {"type": "string"},
                "label": _ref("Localized"),
                "help": _nullable(_ref("Localized")),
                "required": {"type": "boolean"},
                "accept": {"type": "array", "items": {"type": "string"}},
                "max_bytes": {"type": "integer"},
            },
        },
        "CitizenRequestSummary": {
            "type": "object",
            "required": ["public_id", "reference", "commune", "service", "status", "awaiting_citizen", "created_at"],
            "properties": {
                "public_id": {"type": "string"},
                "reference": {"type": ["string", "null"], "description": "null while a draft"},
                "commune": {"type": "string"},
                "service": {"type": "string"},
                "status": {"type": "string"},
                "status_label": _nullable(_ref("Localized")),
                "awaiting_citizen": {"type": "boolean"},
                "created_at": _TIME,
                "submitted_at": _TIME,
                "decided_at": _TIME,
                "purge_after": _TIME,
            },
        },
        "CitizenRequestList": {
            "type": "object",
            "required": ["requests"],
            "properties": {"requests": {"type": "array", "items": _ref("CitizenRequestSummary")}},
        },
        "CitizenEvent": {
            "type": "object",
            "required": ["kind", "at", "actor"],
            "properties": {
                "kind": {"type": "string"},
                "at": _TIME,
                "actor": {"type": "string", "enum": ["you", "town_hall"]},
                "agent_name": {**_TEXT_OR_NULL, "description": "only where the commune shows agents' names"},
                "from_status": _TEXT_OR_NULL,
                "to_status": _TEXT_OR_NULL,
                "transition": _TEXT_OR_NULL,
                "reason": _TEXT_OR_NULL,
                "reason_label": _nullable(_ref("Localized")),
                "body": _TEXT_OR_NULL,
            },
        },
        "CitizenRequest": {
            "allOf": [
                _ref("CitizenRequestSummary"),
                {
                    "type": "object",
                    "required": ["data", "version", "history", "attachments", "documents"],
                    "properties": {
                        "title": _ref("Localized"),
                        "data": _FORM_DATA,
                        "version": {"type": "integer"},
                        "decided": {"type": "boolean"},
                        "history": {"type": "array", "items": _ref("CitizenEvent")},
                        "attachments": {"type": "array", "items": _ref("Attachment")},
                        "documents": {"type": "array", "items": _ref("DocumentSpec")},
                        "family": {"type": "array", "items": _ref("FamilyLink")},
                    },
                },
            ]
        },
        "SavedDraft": {
            "allOf": [
                _ref("CitizenRequest"),
                {"type": "object", "required": ["errors"], "properties": {"errors": _FIELD_ERRORS}},
            ]
        },
        "QueueItem": {
            "type": "object",
            "required": ["reference", "service", "status", "awaiting_citizen"],
            "properties": {
                "reference": {"type": "string"},
                "service": {"type": "string"},
                "status": {"type": "string"},
                "status_label": _nullable(_ref("Localized")),
                "summary": _TEXT_OR_NULL,
                "submitted_at": _TIME,
                "decided_at": _TIME,
                "assigned_to": _STAFF_REF,
                "awaiting_citizen": {"type": "boolean"},
            },
        },
        "QueuePage": {
            "type": "object",
            "required": ["items", "total", "page", "per_page"],
            "properties": {
                "items": {"type": "array", "items": _ref("QueueItem")},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "services": {"type": "array", "items": {"type": "string"}},
            },
        },
        "CaseTransition": {
            "type": "object",
            "required": ["name", "label", "target", "comment_required", "reasons"],
            "properties": {
                "name": {"type": "string"},
                "label": _ref("Localized"),
                "target": {"type": "string"},
                "comment_required": {"type": "boolean"},
                "reasons": {"type": "array", "items": _CHOICE},
                "choice": {**_nullable(_ref("Localized")), "description": "the choice asked: send one of `choices`"},
                "choices": {"type": "array", "items": _CHOICE, "description": "the options, when a choice is asked"},
            },
        },
        "DerivedValue": {
            "type": "object",
            "required": ["name", "value", "label"],
            "properties": {
                "name": {"type": "string"},
                "value": {},
                "label": _ref("Localized"),
                "value_label": {**_nullable(_ref("Localized")), "description": "the value in words"},
            },
        },
        "CaseEvent": {
            "type": "object",
            "required": ["kind", "at", "actor_role", "internal"],
            "properties": {
                "kind": {"type": "string"},
                "at": _TIME,
                "actor_role": {"type": "string"},
                "agent": _STAFF_REF,
                "internal": {"type": "boolean", "description": "never shown to the citizen"},
                "from_status": _TEXT_OR_NULL,
                "to_status": _TEXT_OR_NULL,
                "transition": _TEXT_OR_NULL,
                "reason": _TEXT_OR_NULL,
                "reason_label": _nullable(_ref("Localized")),
                "body": _TEXT_OR_NULL,
            },
        },
        "Case": {
            "type": "object",
            "required": ["reference", "commune", "service", "status", "data", "version", "can_act", "transitions"],
            "properties": {
                "reference": {"type": "string"},
                "commune": {"type": "string"},
                "service": {"type": "string"},
                "title": _ref("Localized"),
                "status": {"type": "string"},
                "status_label": _nullable(_ref("Localized")),
                "decided": {"type": "boolean"},
                "summary": _TEXT_OR_NULL,
                "data": _FORM_DATA,
                "derived": {"type": "array", "items": _ref("DerivedValue"), "description": "derived values, in words"},
                "form_version": {"type": "integer"},
                "version": {"type": "integer", "description": "send it back with an action to detect a conflict"},
                "submitted_at": _TIME,
                "decided_at": _TIME,
                "purge_after": _TIME,
                "awaiting_citizen": {"type": "boolean"},
                "assigned_to": _STAFF_REF,
                "filed_by": _STAFF_REF,
                "can_act": {"type": "boolean", "description": "false for a read-only grant"},
                "transitions": {"type": "array", "items": _ref("CaseTransition")},
                "assignees": {"type": "array", "items": _STAFF_REF},
                "history": {"type": "array", "items": _ref("CaseEvent")},
                "attachments": {"type": "array", "items": _ref("Attachment")},
                "family": {"type": "array", "items": _ref("FamilyLink")},
            },
        },
        "CaseState": {
            "type": "object",
            "required": ["reference", "status", "version"],
            "properties": {
                "reference": {"type": "string"},
                "service": {"type": "string"},
                "status": {"type": "string"},
                "status_label": _nullable(_ref("Localized")),
                "version": {"type": "integer"},
                "awaiting_citizen": {"type": "boolean"},
                "assigned_to": {"type": ["integer", "null"]},
                "decided_at": _TIME,
            },
        },
        "TransitionBody": _closed(
            ["transition", "version"],
            {
                "transition": _SAYS,
                "comment": _COMMENT,
                "reason": {**_OPTIONAL_TEXT, "description": "one of the transition's reasons, when it has some"},
                "choice": {**_OPTIONAL_TEXT, "description": "one of the transition's `choices`, when it asks one"},
                "version": _VERSION,
            },
        ),
        "AssignmentBody": _closed(
            ["staff_id", "version"],
            {
                "staff_id": {"oneOf": [{**_VERSION, "description": "a staff member's id"}, {"type": "null"}]},
                "version": _VERSION,
            },
        ),
        "ComplementBody": _closed(["body", "version"], {"body": _MESSAGE, "version": _VERSION}),
        "BulkTransitionBody": _closed(
            ["references", "transition"],
            {
                "references": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 200,
                    "items": {"type": "string", "minLength": 1, "maxLength": 40},
                },
                "transition": _SAYS,
                "comment": _COMMENT,
                "reason": _OPTIONAL_TEXT,
            },
        ),
        "BulkResults": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["reference", "done"],
                        "properties": {
                            "reference": {"type": "string"},
                            "done": {"type": "boolean"},
                            "detail": {**_TEXT_OR_NULL, "description": "why it was not done"},
                        },
                    },
                }
            },
        },
        "AssistedRequest": _closed(
            ["data"],
            {
                "data": _FORM_DATA,
                "citizen_email": {**_TEXT_OR_NULL, "maxLength": 254, "description": "where the receipt is mailed"},
            },
        ),
    }
)
