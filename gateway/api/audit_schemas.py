"""The OpenAPI schemas of what the audit log answers: its entries, their proofs, the auditor's timelines
(gateway/api/audit_timelines.py) and a citizen's access log."""

from __future__ import annotations

from typing import Any

AUDIT_SCHEMAS: dict[str, Any] = {
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
    "ConsistencyProof": {
        "type": "object",
        "required": ["old_size", "new_size", "proof"],
        "properties": {
            "old_size": {"type": "integer", "minimum": 0},
            "new_size": {"type": "integer", "minimum": 0},
            "proof": {"type": "array", "items": {"type": "string", "description": "a base64 SHA-256 hash"}},
        },
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
                        **{
                            name: {"type": "string"}
                            for name in ("time", "commune", "service", "who", "what", "purpose", "outcome")
                        },
                        "act": {
                            "type": "integer",
                            "description": "the act that wrote the entry: entries with one number are one line",
                        },
                    },
                },
            }
        },
    },
}

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
