"""The JSON shapes of the auditor's timelines (gateway/api/audit_timelines.py), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

AUDIT_TIMELINE_SCHEMAS: dict[str, Any] = {
    "AuditRequestTimeline": {
        "type": "object",
        "required": ["requests", "entries", "truncated"],
        "properties": {
            "requests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["commune", "reference", "linked"],
                    "properties": {
                        "commune": {"type": "string"},
                        "reference": {"type": "string"},
                        "linked": {"type": "boolean", "description": "the linked request in another commune"},
                    },
                },
            },
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
            "truncated": {"type": "boolean", "description": "more entries than one answer holds"},
        },
    },
    "AuditPersonTimeline": {
        "type": "object",
        "required": ["pseudonyms", "entries"],
        "properties": {
            "pseudonyms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["pseudonym", "kind"],
                    "properties": {
                        "pseudonym": {"type": "string"},
                        "kind": {"type": "string", "enum": ["account", "confirmed-address", "address", "pseudonym"]},
                    },
                },
            },
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
        },
    },
}
