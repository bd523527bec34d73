"""What an audit event says, and how it is encoded so no value can forge another entry.

An event answers who (actor id and role), for which commune and service,
what (action, resource), about whom (a pseudonymous subject), why (purpose or
legal basis), from where (origin), with what outcome, and when (UTC). There
is deliberately no free-text "details" field: nothing else — no password,
token or document content — can be put in the log.

An entry is encoded as canonical JSON (keys sorted, no insignificant
whitespace, UTF-8): quotes, newlines and control characters inside values are
escaped by the encoder, so a value can never end one entry and start another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["success", "denied", "failure"]
OUTCOMES: tuple[Outcome, ...] = ("success", "denied", "failure")
ROLES = ("anonymous", "citizen", "agent", "supervisor", "auditor", "administrator", "system")
FORMAT_VERSION = 1

_ACTION = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$")
_LIMITS = {"actor_id": 120, "resource": 200, "purpose": 200, "origin": 200, "commune": 60, "service": 60, "action": 60}


@dataclass(frozen=True)
class Actor:
    """Who acts: an id that says nothing secret, and a role."""

    id: str
    role: str


ANONYMOUS = Actor("anonymous", "anonymous")
SYSTEM = Actor("system", "system")


class InvalidEvent(ValueError):
    """An event that may not enter the log (unknown role, over-long field, bad action name)."""


@dataclass(frozen=True)
class AuditEvent:
    """One thing to record. ``time`` and the sequence number are set when it is appended."""

    action: str
    actor_id: str
    actor_role: str
    resource: str
    purpose: str
    origin: str
    outcome: Outcome = "success"
    commune: str | None = None
    service: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        if not _ACTION.match(self.action):
            raise InvalidEvent(f"action {self.action!r} must look like 'domain.verb' in lower case")
        if self.actor_role not in ROLES:
            raise InvalidEvent(f"unknown actor role {self.actor_role!r}")
        if self.outcome not in OUTCOMES:
            raise InvalidEvent(f"unknown outcome {self.outcome!r}")
        if self.subject is not None and not re.fullmatch(r"[0-9a-f]{32}", self.subject):
            raise InvalidEvent("subject must be a pseudonym from gateway.audit.events.pseudonym()")
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidEvent(f"{name} must be text of at most {limit} characters")


_FIELDS = tuple(field.name for field in dataclass_fields(AuditEvent))


def pseudonym(secret: bytes, kind: str, identifier: str) -> str:
    """A stable pseudonymous id for a data subject: HMAC-SHA-256 keyed with the gateway's secret.

    The same person always gets the same pseudonym, so their accesses can be
    gathered for them, while the log alone does not say who they are.
    """
    message = f"{kind}:{identifier.strip().casefold()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def encode(event: AuditEvent, *, seq: int, time: datetime) -> str:
    """The exact text hashed into the tree for the entry at position ``seq``."""
    fields: dict[str, Any] = {name: getattr(event, name) for name in _FIELDS}
    fields.update(seq=seq, time=format_time(time), v=FORMAT_VERSION)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode(encoded: str) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(encoded)
    return fields


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2026-11-25T21:07:03.123456Z``.

    A naive datetime is UTC (SQLite returns stored UTC times without their zone).
    """
    if time.tzinfo is not None:
        time = time.astimezone(UTC).replace(tzinfo=None)
    return time.isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
