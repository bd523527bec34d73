"""JSON Schemas of a service's places board (``PlacesBoard``, ``PlacesCount``), for the OpenAPI document."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


PLACES_SCHEMAS: dict[str, Any] = {
    "PlacesCount": {
        "type": "object",
        "required": [
            "label",
            "match",
            "capacity",
            "in_progress",
            "accepted",
            "closed",
            "left",
            "over",
            "oversubscribed",
        ],
        "properties": {
            "label": ref("Localized"),
            "match": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "the form answers a request holds to be counted (field name -> value)",
            },
            "capacity": {"type": ["integer", "null"], "description": "null: no limit"},
            "in_progress": {"type": "integer", "description": "requests not decided yet"},
            "accepted": {"type": "integer", "description": "requests in a state that holds a place"},
            "closed": {"type": "integer", "description": "refused, withdrawn or otherwise closed"},
            "left": {"type": ["integer", "null"], "description": "capacity minus accepted, at least 0"},
            "over": {"type": "integer", "description": "accepted requests beyond the capacity"},
            "oversubscribed": {"type": "boolean", "description": "more requests in progress than places left"},
        },
    },
    "PlacesBoard": {
        "type": "object",
        "required": ["service", "title", "groups"],
        "properties": {
            "service": {"type": "string"},
            "title": ref("Localized"),
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "places"],
                    "properties": {
                        "label": nullable(ref("Localized")),
                        "places": {"type": "array", "items": ref("PlacesCount")},
                    },
                },
            },
        },
    },
}
