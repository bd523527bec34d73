"""JSON Schemas of the answers each service's form takes, for the OpenAPI document.

A form is the plugin's answer for one commune (its choices follow the
commune's settings), so there is one schema per commune and service, named
``Answers.<commune>.<service>``; the request bodies' ``data`` points to them.
Each field's schema says its kind's type: text, one of the choices, a list of
ticked choices, a bounded integer, a boolean or a postal address.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from gateway.registry import Registry
from gateway.requests.errors import ServiceUnavailable
from gateway.requests.field_kinds import HOUSE_NUMBER_MAX
from gateway.requests.rules import rules_for
from gateway.services import FieldKind, FormField

#: a stored answer of any kind (see ``FieldValue`` in docs/plugin_hooks.md)
FIELD_VALUE: dict[str, Any] = {
    "description": "One answer, in its field kind's type: text, a number, yes/no, the ticked choices, an address.",
    "oneOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
        {"$ref": "#/components/schemas/PostalAddress"},
        {"type": "null"},
    ],
}
POSTAL_ADDRESS: dict[str, Any] = {
    "type": "object",
    "description": (
        "A French postal address in parts; `number` and `suffix` (« 12 bis ») kept apart for comparisons. "
        "A filed request's address is complete (street, five-digit postcode, town); a draft keeps what was typed."
    ),
    "required": ["street", "postcode", "town"],
    "additionalProperties": False,
    "properties": {
        "number": {"type": ["integer", "null"], "minimum": 1, "maximum": HOUSE_NUMBER_MAX},
        "suffix": {
            "type": "string",
            "description": "the repetition index: bis, ter, quater, quinquies or one letter; empty for none",
        },
        "street": {"type": "string", "description": "type and name, « rue des Lilas » (at most 150 characters)"},
        "complement": {"type": "string", "description": "building, staircase, flat (at most 150 characters)"},
        "postcode": {"type": "string", "description": "five digits"},
        "town": {"type": "string", "description": "at most 100 characters"},
    },
}
#: what an ``address`` field takes in a request body: the same object, with its rules as constraints
ADDRESS_INPUT: dict[str, Any] = {
    **POSTAL_ADDRESS,
    "properties": {
        **POSTAL_ADDRESS["properties"],
        "suffix": {**POSTAL_ADDRESS["properties"]["suffix"], "pattern": "^(|bis|ter|quater|quinquies|[A-Za-z])$"},
        "street": {**POSTAL_ADDRESS["properties"]["street"], "maxLength": 150},
        "complement": {**POSTAL_ADDRESS["properties"]["complement"], "maxLength": 150},
        "postcode": {**POSTAL_ADDRESS["properties"]["postcode"], "pattern": "^[0-9]{5}$"},
        "town": {**POSTAL_ADDRESS["properties"]["town"], "maxLength": 100},
    },
}


#: the document's component schemas about forms: a field's declaration, any answer, an address, a new request
FORM_SCHEMAS: dict[str, Any] = {
    "FormField": {
        "type": "object",
        "required": ["name", "kind", "required", "label"],
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": list(get_args(FieldKind))},
            "required": {"type": "boolean"},
            "max_length": {"type": "integer"},
            "min_value": {"type": ["integer", "null"], "description": "the smallest answer of a `number` field"},
            "max_value": {"type": ["integer", "null"], "description": "the largest answer of a `number` field"},
            "accept": {
                "type": "array",
                "items": {"type": "string"},
                "description": "a `document` field: the file types it takes (attach it as the request's documents)",
            },
            "max_bytes": {"type": "integer", "description": "a `document` field: the largest file it takes"},
            "per_member": {
                "type": "boolean",
                "description": "asked once per member of a family filing: give it in each item of `members`",
            },
            "show_if": {
                "description": "asked only when another field holds one of these values: [field, [values]]",
                "oneOf": [{"type": "array"}, {"type": "null"}],
            },
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
    "NewRequest": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "description": "The answers: the schema `Answers.<commune>.<service>` of the service filed gives each "
                "field's type (text, a choice, a list of ticked choices, an integer, a boolean, a `PostalAddress`).",
                "additionalProperties": {"$ref": "#/components/schemas/FieldValue"},
            },
            "members": {
                "type": "array",
                "minItems": 1,
                "description": "A family filing (services with `members`): one object per member holding the "
                "`per_member` fields; `data` holds the others, copied into every member's request.",
                "items": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/FieldValue"}},
            },
        },
    },
    "FieldValue": FIELD_VALUE,
    "PostalAddress": POSTAL_ADDRESS,
    "AddressInput": ADDRESS_INPUT,
}


def answers_schema(form: Sequence[FormField]) -> dict[str, Any]:
    """The ``data`` object a form takes: one property per field; the fields always required listed as such."""
    return {
        "type": "object",
        "description": "Answers by field name; names the form does not declare are ignored.",
        "required": [
            field.name for field in form if field.required and field.show_if is None and field.kind != "document"
        ],
        "properties": {field.name: field_schema(field) for field in form if field.kind != "document"},
    }


def field_schema(field: FormField) -> dict[str, Any]:
    """The JSON Schema of one field's answer; an optional one may also be left empty (``null``)."""
    values = [choice.value for choice in field.choices]
    schema: dict[str, Any]
    if field.kind == "checkboxes":
        schema = {"type": "array", "items": {"type": "string", "enum": values}, "uniqueItems": True}
        if field.required:
            schema["minItems"] = 1
        return _described(field, schema)
    if field.kind == "number":
        schema = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
    elif field.kind == "yesno":
        schema = {"type": "boolean"}
    elif field.kind == "address":
        schema = {"$ref": "#/components/schemas/AddressInput"}
    elif field.kind in ("select", "radio"):
        schema = {"type": "string", "enum": values if field.required else [*values, ""]}
    else:
        schema = {"type": "string", "maxLength": field.max_length}
        if field.kind == "date":
            schema["format"] = "date"
    if not field.required or field.show_if is not None:
        schema = {"oneOf": [schema, {"type": "null"}]}
    return _described(field, schema)


def _described(field: FormField, schema: dict[str, Any]) -> dict[str, Any]:
    condition = ""
    if field.show_if is not None:
        condition = f" Only when `{field.show_if[0]}` is one of {list(field.show_if[1])}; emptied otherwise."
    return {**schema, "description": f"{field.label('en')} ({field.kind}).{condition}"}


def service_answers(registry: Registry) -> dict[str, dict[str, Any]]:
    """``Answers.<commune>.<service>`` for every service a commune enables and can serve now."""
    schemas: dict[str, dict[str, Any]] = {}
    for slug, commune in sorted(registry.communes.items()):
        for key in sorted(commune.services):
            try:
                form = rules_for(registry, commune, key).form
            except ServiceUnavailable:
                continue  # a failed plugin: its service is answered as unavailable, with no form to describe
            schemas[f"Answers.{slug}.{key}"] = answers_schema(form)
    return schemas
